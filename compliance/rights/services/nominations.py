"""Nominations (DPDP s.14): whom the patient names to act for them on death or incapacity, and
the evidence a nominee shows when they do."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from clinics.actors import Actor, actor_user, require
from clinics.audit import Actions, audit_record
from clinics.errors import Conflict, ValidationFailed
from clinics.roles import Perm
from compliance.rights.models import EvidenceKind, Nomination, NominationEvidence, RightsRequest
from compliance.rights.services._common import bounded_text, timeline
from compliance.rights.services.requests import CANNOT_RECORD, NOT_ALLOWED, actor_membership
from patients.models import Patient, Relation
from patients.phones import to_e164


@transaction.atomic
def nomination_record(
    *,
    patient: Patient,
    actor: Actor,
    name: str,
    relation: str,
    phone: str,
    request: RightsRequest | None = None,
) -> Nomination:
    """Record the patient's nominee; a patient has one at a time, so an earlier one is revoked."""
    require(actor, Perm.RIGHTS_RECORD, clinic_id=patient.clinic_id, message=CANNOT_RECORD)
    errors: dict[str, list[str]] = {}
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        errors["name"] = ["Enter the nominee's name (up to 200 characters)."]
    if relation not in Relation.values:
        errors["relation"] = ["Choose how the nominee is related to the patient."]
    e164 = to_e164(phone or "")
    if e164 is None:
        errors["phone"] = ["Enter a valid phone number, for example 98765 43210."]
    if errors:
        raise ValidationFailed(errors)
    if request is not None and request.patient_id != patient.pk:
        raise ValidationFailed({"request": [gettext("The request is about another patient.")]})
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    now = timezone.now()
    Nomination.objects.filter(patient=patient, revoked_at__isnull=True).update(revoked_at=now)
    nomination = Nomination.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        name=name,
        relation=relation,
        phone=e164,
        request=request,
        created_by=actor_user(actor),
        created_at=now,
    )
    if request is not None:
        timeline(request, actor, "nomination", "Nominee recorded.")
    audit_record(
        clinic=patient.clinic_id,
        actor=actor,
        action=Actions.NOMINATION_RECORDED,
        target=nomination,
        patient_id=patient.pk,
        data={"nomination_id": nomination.pk, "request_id": request.pk if request else None},
    )
    return nomination


@transaction.atomic
def nomination_revoke(*, nomination: Nomination, actor: Actor) -> Nomination:
    """The patient withdraws the nomination."""
    require(actor, Perm.RIGHTS_RECORD, clinic_id=nomination.clinic_id, message=CANNOT_RECORD)
    nomination = Nomination.objects.select_for_update().get(pk=nomination.pk)
    if nomination.revoked_at is not None:
        raise Conflict(gettext("This nomination was already withdrawn."))
    nomination.revoked_at = timezone.now()
    nomination.save(update_fields=["revoked_at"])
    audit_record(
        clinic=nomination.clinic_id,
        actor=actor,
        action=Actions.NOMINATION_REVOKED,
        target=nomination,
        patient_id=nomination.patient_id,
        data={"nomination_id": nomination.pk},
    )
    return nomination


@transaction.atomic
def nomination_evidence_record(
    *,
    nomination: Nomination,
    actor: Actor,
    kind: str,
    document_date: date,
    note: str = "",
    request: RightsRequest | None = None,
) -> NominationEvidence:
    """Record what the nominee showed (a death or incapacity certificate, a court order), its
    date, and who checked it: the person recording it."""
    require(actor, Perm.RIGHTS_HANDLE, clinic_id=nomination.clinic_id, message=NOT_ALLOWED)
    membership = actor_membership(actor, nomination.clinic_id)
    if kind not in EvidenceKind.values:
        raise ValidationFailed({"kind": [gettext("Choose what the nominee showed.")]})
    if not isinstance(document_date, date) or document_date > timezone.localdate():
        raise ValidationFailed(
            {"document_date": [gettext("Enter the document's date (not in the future).")]}
        )
    if document_date.year < 1900:
        raise ValidationFailed({"document_date": [gettext("Enter the document's date.")]})
    if request is not None and request.nomination_id != nomination.pk:
        raise ValidationFailed({"request": [gettext("The request was not made by this nominee.")]})
    evidence = NominationEvidence.objects.create(
        clinic_id=nomination.clinic_id,
        nomination=nomination,
        request=request,
        kind=kind,
        document_date=document_date,
        note=bounded_text(note, "note", limit=1000),
        checked_by=membership,
    )
    if request is not None:
        with translation.override("en"):  # timeline notes are kept in English
            note = f"Evidence checked: {evidence.get_kind_display()}."
        timeline(request, actor, "evidence", note)
    audit_record(
        clinic=nomination.clinic_id,
        actor=actor,
        action=Actions.NOMINATION_EVIDENCE_RECORDED,
        target=evidence,
        patient_id=nomination.patient_id,
        data={"nomination_id": nomination.pk, "kind": kind},
    )
    return evidence
