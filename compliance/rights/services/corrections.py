"""Corrections (DPDP s.12): proposed field by field, approved or refused by the role the field
needs, made through the patients services. A signed visit is corrected by a new version
(`visit_amend`), never in place; a field that changed since the proposal is refused as stale."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from clinics.actors import Actor, require
from clinics.audit import Actions
from clinics.errors import Conflict, DomainError, ValidationFailed
from clinics.roles import Perm
from compliance.rights import rules
from compliance.rights.models import (
    CorrectionDecision,
    CorrectionItem,
    CorrectionTarget,
    RightsKind,
    RightsRequest,
    RightsStatus,
)
from compliance.rights.services._common import audit, bounded_text, timeline
from compliance.rights.services.requests import NOT_ALLOWED, actor_membership
from patients.models import Patient, Visit
from patients.services import patient_update
from patients.services.visits import visit_amend, visit_update_notes

STALE = (
    "The record changed since this correction was proposed: it no longer holds the value "
    "the correction starts from. Propose it again from what the record says now."
)


def current_value(obj: Patient | Visit, field: str) -> str:
    """A field's value as text, the way a correction records it."""
    value = getattr(obj, field)
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@transaction.atomic
def correction_propose(
    *,
    request: RightsRequest,
    actor: Actor,
    field: str,
    new_value: str,
    visit: Visit | None = None,
) -> CorrectionItem:
    """Record one change a correction request asks for, with the value it starts from."""
    require(actor, Perm.RIGHTS_RECORD, clinic_id=request.clinic_id, message=NOT_ALLOWED)
    request = RightsRequest.objects.select_for_update().get(pk=request.pk)
    if request.kind != RightsKind.CORRECTION or not request.is_open:
        raise Conflict(gettext("Corrections are added to an open correction request."))
    if request.patient_id is None:
        raise DomainError(gettext("Link the request to a patient first."))
    target = CorrectionTarget.VISIT if visit is not None else CorrectionTarget.PATIENT
    problem = rules.field_problem(target=target, field=field)
    if problem:
        raise ValidationFailed({"field": [problem]})
    if visit is not None and visit.patient_id != request.patient_id:
        raise ValidationFailed({"visit": [gettext("Choose one of this patient's visits.")]})
    source = visit if visit is not None else Patient.objects.get(pk=request.patient_id)
    item = CorrectionItem.objects.create(
        clinic_id=request.clinic_id,
        request=request,
        target=target,
        visit=visit,
        field=field,
        old_value=current_value(source, field),
        new_value=bounded_text(new_value, "new_value"),
    )
    if request.status == RightsStatus.IN_PROGRESS:
        request.status = RightsStatus.AWAITING_APPROVAL
        request.save(update_fields=["status"])
    timeline(request, actor, "correction_proposed", f"Correction proposed: {field}.")
    audit(
        request,
        actor,
        Actions.CORRECTION_PROPOSED,
        correction_id=item.pk,
        field=field,
        visit_id=visit.pk if visit else None,
    )
    return item


def _open_amendment(visit: Visit, request: RightsRequest) -> Visit | None:
    """The draft version this request's earlier approval opened for `visit`, if any."""
    amendment = Visit.objects.filter(amends=visit, signed_at__isnull=True).first()
    if amendment is None:
        return None
    mine = CorrectionItem.objects.filter(request=request, amendment=amendment).exists()
    return amendment if mine else None


def _apply_to_visit(item: CorrectionItem, request: RightsRequest, actor: Actor) -> Visit:
    membership = actor_membership(actor, request.clinic_id)
    visit = Visit.objects.get(pk=item.visit_id)
    if not visit.is_signed:
        visit_update_notes(
            visit=visit, actor=actor, actor_membership=membership, **{item.field: item.new_value}
        )
        return visit
    amendment = _open_amendment(visit, request) or visit_amend(
        visit=visit,
        actor=actor,
        actor_membership=membership,
        reason=f"Correction requested by the patient ({request.reference}).",
    )
    visit_update_notes(
        visit=amendment, actor=actor, actor_membership=membership, **{item.field: item.new_value}
    )
    return amendment


def _is_stale(item: CorrectionItem, request: RightsRequest) -> bool:
    if item.target == CorrectionTarget.VISIT:
        visit = Visit.objects.get(pk=item.visit_id)
        if visit.is_signed and not visit.is_current:
            return True
        return current_value(visit, item.field) != item.old_value
    patient = Patient.objects.get(pk=request.patient_id)
    return current_value(patient, item.field) != item.old_value


@transaction.atomic
def correction_decide(
    *, item: CorrectionItem, actor: Actor, approve: bool, reason: str = ""
) -> CorrectionItem:
    """Approve (make the change) or refuse (with a reason) one proposed correction.

    Clinical information is approved by clinical roles, contact and demographic details by the
    front desk or the owner. The change goes through the patients services, whose audit event
    names the field. A field that no longer holds the proposed starting value is refused as
    stale, and nothing changes. A signed visit gets a new draft version holding the correction
    for its doctor to sign.
    """
    perm = rules.approval_perm(target=item.target, field=item.field)
    require(
        actor,
        perm,
        clinic_id=item.clinic_id,
        message="Your role cannot approve a correction of this information.",
    )
    item = CorrectionItem.objects.select_for_update().get(pk=item.pk)
    request = RightsRequest.objects.select_for_update().get(pk=item.request_id)
    if item.decision != CorrectionDecision.PENDING:
        raise Conflict(gettext("This correction was already decided."))
    if not request.is_open:
        raise Conflict(gettext("This request is closed."))
    membership = actor_membership(actor, request.clinic_id)
    if not approve:
        item.reason = bounded_text(reason, "reason", required=True)
        item.decision = CorrectionDecision.REFUSED
    elif _is_stale(item, request):
        item.reason = STALE
        item.decision = CorrectionDecision.REFUSED
    else:
        if item.target == CorrectionTarget.VISIT:
            item.amendment = _apply_to_visit(item, request, actor)
            if item.amendment.pk == item.visit_id:
                item.amendment = None
        else:
            patient = Patient.objects.get(pk=request.patient_id)
            patient_update(patient=patient, actor=actor, **{item.field: item.new_value})
        item.decision = CorrectionDecision.APPROVED
    item.decided_by = membership
    item.decided_at = timezone.now()
    item.save(update_fields=["decision", "reason", "decided_by", "decided_at", "amendment"])
    stale = item.reason == STALE
    with translation.override("en"):  # timeline notes are kept in English
        note = f"Correction of {item.field} {item.get_decision_display().lower()}"
    timeline(request, actor, "correction_decided", note + (" (stale)." if stale else "."))
    audit(
        request,
        actor,
        Actions.CORRECTION_APPROVED if approve and not stale else Actions.CORRECTION_REFUSED,
        correction_id=item.pk,
        field=item.field,
        stale=stale,
        amendment_visit_id=item.amendment_id,
    )
    return item
