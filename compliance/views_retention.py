"""The retention settings page: how long the clinic keeps each class of records, legal holds,
and what the last purges did. Owners change periods and holds; doctors may read."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.roles import Perm
from clinics.web import add_domain_error
from compliance.forms_retention import LegalHoldForm, LiftHoldForm, RetentionPeriodForm
from compliance.models import LegalHold, PurgeRun
from compliance.retention import (
    legal_hold_lift,
    legal_hold_set,
    legal_holds,
    retention_policy,
    retention_policy_set,
)
from patients.models import Patient


def _page(
    request: HttpRequest,
    *,
    period_form: RetentionPeriodForm | None = None,
    hold_form: LegalHoldForm | None = None,
    lift_form: LiftHoldForm | None = None,
    status: int = 200,
) -> HttpResponse:
    clinic_id = request.clinic.pk
    context = {
        "policy": retention_policy(clinic_id=clinic_id),
        "holds": legal_holds(clinic_id=clinic_id, include_lifted=True)[:100],
        "runs": PurgeRun.objects.filter(clinic_id=clinic_id)[:10],
        "period_form": period_form or RetentionPeriodForm(),
        "hold_form": hold_form or LegalHoldForm(),
        "lift_form": lift_form or LiftHoldForm(),
        "can_manage": request.membership.has_perm(Perm.RETENTION_MANAGE),
    }
    return render(request, "compliance/retention.html", context, status=status)


@require_perm(Perm.RETENTION_VIEW)
@require_GET
def retention_settings(request: HttpRequest) -> HttpResponse:
    """The clinic's retention periods, legal holds and recent purges."""
    return _page(request)


@require_perm(Perm.RETENTION_MANAGE)
@require_POST
def retention_period_save(request: HttpRequest) -> HttpResponse:
    """Change one class's period (never below its floor)."""
    form = RetentionPeriodForm(request.POST)
    if form.is_valid():
        try:
            retention_policy_set(
                clinic_id=request.clinic.pk,
                record_class=form.cleaned_data["record_class"],
                days=form.cleaned_data["days"],
                actor=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, gettext("Retention period saved."))
            return redirect("retention-settings", request.clinic.slug)
    return _page(request, period_form=form, status=400)


@require_perm(Perm.RETENTION_MANAGE)
@require_POST
def legal_hold_create(request: HttpRequest) -> HttpResponse:
    """Put a patient's records (or a conversation) under a legal hold."""
    form = LegalHoldForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        patient_id = None
        if data.get("patient_number"):
            patient_id = (
                Patient.objects.filter(number=data["patient_number"])
                .values_list("pk", flat=True)
                .first()
            )
            if patient_id is None:
                form.add_error(
                    "patient_number", gettext("No patient has this number at this clinic.")
                )
                return _page(request, hold_form=form, status=400)
        try:
            legal_hold_set(
                clinic_id=request.clinic.pk,
                actor=request.user,
                reason=data["reason"],
                patient_id=patient_id,
                conversation_id=None if patient_id else data.get("conversation_id"),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, gettext("Legal hold set: nothing it covers will be purged."))
            return redirect("retention-settings", request.clinic.slug)
    return _page(request, hold_form=form, status=400)


@require_perm(Perm.RETENTION_MANAGE)
@require_POST
def legal_hold_release(request: HttpRequest, hold_id: int) -> HttpResponse:
    """Lift a legal hold, with the reason."""
    if not LegalHold.objects.filter(pk=hold_id).exists():  # another clinic's hold: 404
        raise Http404("No such legal hold")
    form = LiftHoldForm(request.POST)
    if form.is_valid():
        try:
            legal_hold_lift(
                hold_id=hold_id, actor=request.user, reason=form.cleaned_data["lift_reason"]
            )
        except DomainError as exc:
            if exc.code == "not_found":
                raise Http404("No such legal hold") from exc
            add_domain_error(form, exc)
        else:
            messages.success(request, gettext("Legal hold lifted."))
            return redirect("retention-settings", request.clinic.slug)
    return _page(request, lift_form=form, status=400)
