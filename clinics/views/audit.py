"""The audit trail page."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from clinics import selectors, services
from clinics.audit_display import change_summaries, target_labels
from clinics.dashboard import patient_id_for_number, patient_numbers
from clinics.decorators import require_perm
from clinics.forms import (
    AuditFilterForm,
    action_label,
)
from clinics.models import AuditEvent
from clinics.roles import Perm
from clinics.web import paginate

AUDIT_PAGE_SIZE = 25


# ---------------------------------------------------------------------------------------------
# Audit trail


def _audit_filters(form: AuditFilterForm) -> dict | None:
    """The selector's filters from a valid form; None (with an error on the form) if not."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    filters = {}
    patient = data["patient"]
    if "number" in patient:
        patient_id = patient_id_for_number(patient["number"])
        if patient_id is None:
            form.add_error("patient", f"No patient has the number P-{patient['number']:06d}.")
            return None
        filters["patient_id"] = patient_id
    elif "id" in patient:
        filters["patient_id"] = patient["id"]
    if data["actor"]:
        filters["actor_id"] = data["actor"]
    for name in ("action", "date_from", "date_to"):
        if data[name]:
            filters[name] = data[name]
    return filters


@require_perm(Perm.AUDIT_VIEW)
def audit_list(request) -> HttpResponse:
    form = AuditFilterForm(request.GET or None, staff=selectors.staff_list())
    filters = _audit_filters(form) if form.is_bound else {}
    if filters is None:
        queryset = AuditEvent.objects.none()
    else:
        queryset = selectors.audit_events(clinic=request.clinic, **filters)
    page = paginate(request, queryset, AUDIT_PAGE_SIZE)
    events = list(page.object_list)
    numbers = patient_numbers(event.patient_id for event in events)
    targets = target_labels(events)
    changes = change_summaries(events)
    rows = [
        {
            "event": event,
            "action": action_label(event.action),
            "target": targets.get((event.target_type, event.target_id), ""),
            "change": changes.get(event.pk, ""),
            "patient_number": numbers.get(event.patient_id, ""),
        }
        for event in events
    ]
    if filters is not None:
        services.audit_trail_viewed(clinic=request.clinic, actor=request.user, filters=filters)
    return render(request, "clinics/audit_list.html", {"form": form, "page": page, "rows": rows})
