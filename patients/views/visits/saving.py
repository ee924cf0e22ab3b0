"""The visit editor's one save: notes and vitals together, so typed input is never dropped."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from clinics.decorators import require_perm
from clinics.errors import DomainError, ValidationFailed
from clinics.roles import Perm
from clinics.web import add_domain_error
from patients import services
from patients.forms_visits import VisitNotesForm, VitalsForm
from patients.models import Visit, Vitals
from patients.selectors.visit_pages import visit_page
from patients.views.visits.page import (
    PARTIALS,
    for_visit,
    page_context,
    render_visit_page,
    visit_url,
)


def _posted(request: HttpRequest, form_class: type) -> bool:
    return any(name in request.POST for name in form_class.base_fields)


def _file_errors(exc: DomainError, notes: VisitNotesForm | None, vitals: VitalsForm | None):
    """Put the service's "notes.x" / "vitals.x" errors on the form that has the field."""
    if not isinstance(exc, ValidationFailed):
        (notes or vitals).add_error(None, exc.message)
        return
    by_part: dict[str, dict[str, list[str]]] = {"notes": {}, "vitals": {}}
    for key, found in exc.errors.items():
        part, _, field = key.partition(".")
        by_part.setdefault(part, {})[field] = found
    if notes is not None and by_part["notes"]:
        add_domain_error(notes, ValidationFailed(by_part["notes"]))
    if vitals is not None and by_part["vitals"]:
        vitals.show_error(ValidationFailed(by_part["vitals"]))


@require_perm(Perm.CLINICAL_DRAFT)
@for_visit("POST")
def visit_save(request: HttpRequest, visit: Visit) -> HttpResponse:
    """Save whatever the editor's notes and vitals hold, in one transaction, and answer with
    both sections (htmx) or the page. A part whose boxes were not sent is left alone; vitals
    that did not change are not recorded again."""
    notes = VisitNotesForm(request.POST) if _posted(request, VisitNotesForm) else None
    vitals = None
    if _posted(request, VitalsForm):
        recorded = VitalsForm.for_vitals(Vitals.objects.filter(visit=visit).first())
        vitals = VitalsForm(request.POST, initial=recorded.initial)
    forms = [f for f in (notes, vitals) if f is not None]
    saved = False
    if forms and all(f.is_valid() for f in forms):
        try:
            services.visit_save_draft(
                visit=visit,
                actor=request.user,
                actor_membership=request.membership,
                notes=notes.service_values() if notes is not None else None,
                vitals=vitals.service_values()
                if vitals is not None and vitals.has_changed()
                else None,
            )
        except DomainError as exc:
            _file_errors(exc, notes, vitals)
        else:
            saved = True
    failed = not saved
    bound = {"notes": notes, "vitals": vitals} if failed else {}
    if not request.htmx:
        if failed:
            return render_visit_page(
                request, visit.pk, forms={k: f for k, f in bound.items() if f}, status=400
            )
        messages.success(request, "Notes and vitals saved.")
        return redirect(visit_url(request, visit.pk, "notes"))
    context = page_context(
        request,
        visit_page(visit_id=visit.pk),
        forms={k: f for k, f in bound.items() if f},
        notices={} if failed else {"notes": "Saved.", "vitals": "Saved."},
    )
    # 200 with the errors too: htmx swaps only 2xx answers, and the errors must reach the page.
    return render(request, f"{PARTIALS}/_draft_sections.html", context)
