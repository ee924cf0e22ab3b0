"""Signing a visit (with its prescription) and amending a signed one as a new version."""

from __future__ import annotations

import copy

from django.db import transaction
from django.utils import timezone

from clinics.actors import require
from clinics.audit import Actions, audit_record
from clinics.errors import DomainError, NotAllowed, ValidationFailed
from clinics.models import Membership, User
from clinics.roles import Perm
from patients import events
from patients.events import care_event
from patients.models import (
    Appointment,
    AppointmentStatus,
    Diagnosis,
    Prescription,
    PrescriptionItem,
    PrescriptionStatus,
    ProcedureDone,
    Visit,
    VisitStatus,
    Vitals,
)
from patients.services.documents import visit_documents_prepare
from patients.services.visits._common import (
    DOCTOR_ROLES,
    TEXT_NOTE_FIELDS,
    _audit,
    _check_teleconsultation,
    _locked_visit,
)


def _require_visit_doctor(visit: Visit, membership: Membership, doing: str) -> None:
    if membership.pk != visit.doctor_id or membership.role not in DOCTOR_ROLES:
        doctor = Membership.objects.select_related("user").get(pk=visit.doctor_id)
        name = doctor.user.full_name or doctor.user.email
        raise NotAllowed(f"Only {name}, the doctor of this visit, can {doing} it.")


def _complete_appointment(visit: Visit, actor: User) -> int | None:
    """The visit's appointment (its token in the queue) is done once the visit is signed.
    Returns its id when this completed it."""
    if visit.appointment_id is None:
        return None
    appointment = Appointment.objects.select_for_update().get(pk=visit.appointment_id)
    if appointment.status not in (AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_CONSULTATION):
        return None
    now = timezone.now()
    appointment.status = AppointmentStatus.COMPLETED
    appointment.started_at = appointment.started_at or now
    appointment.completed_at = now
    appointment.save(update_fields=["status", "started_at", "completed_at"])
    audit_record(
        clinic=appointment.clinic_id,
        actor=actor,
        action=Actions.APPOINTMENT_COMPLETED,
        target=appointment,
        patient_id=appointment.patient_id,
        data={"visit_id": visit.pk},
    )
    care_event(events.APPOINTMENT_COMPLETED, appointment=appointment)
    return appointment.pk


@transaction.atomic
def visit_sign(*, visit: Visit, actor: User, actor_membership: Membership) -> Visit:
    """Sign a draft visit, and its prescription with it. Only the visit's own doctor may.

    The visit needs a chief complaint or a diagnosis. Signing an amendment marks the version it
    corrects as superseded. A signed visit is frozen. The visit's appointment, waiting or with
    the doctor, is done with it (its own audit event; "Reopen" takes it back).
    """
    actor_membership = require(
        actor,
        Perm.CLINICAL_EDIT,
        clinic_id=visit.clinic_id,
        membership=actor_membership,
        message="Only the doctor of this visit can sign it.",
        person=True,
    ).membership
    _require_visit_doctor(visit, actor_membership, "sign")
    visit = _locked_visit(visit)
    if visit.is_signed:
        raise DomainError(
            "This visit is already signed. Amend it to make a correction.", code="visit_signed"
        )
    if not visit.chief_complaints.strip() and not visit.diagnoses.exists():
        raise DomainError("Add the chief complaint or a diagnosis before signing the visit.")
    _check_teleconsultation(patient=visit.patient, mode=visit.mode, visit=visit)
    now = timezone.now()
    if visit.amends_id:
        earlier = Visit.objects.select_for_update().get(pk=visit.amends_id)
        if earlier.superseded_at is not None:  # cannot happen while amendments are one-to-one
            raise DomainError("The version this amendment corrects has already been replaced.")
        earlier.superseded_at = now
        earlier.save(update_fields=["superseded_at", "updated_at"])
    visit.status = VisitStatus.SIGNED
    visit.signed_at = now
    visit.signed_by = actor
    visit.save(update_fields=["status", "signed_at", "signed_by", "updated_at"])
    # The prescription is signed with its visit. The prescription services (a separate module)
    # own everything else about prescriptions; this is a direct update so that signing the
    # visit and its prescription happen in one transaction with one audit event.
    prescription_id = (
        Prescription.objects.filter(visit=visit, status=PrescriptionStatus.DRAFT)
        .values_list("pk", flat=True)
        .first()
    )
    if prescription_id:
        Prescription.objects.filter(pk=prescription_id).update(
            status=PrescriptionStatus.SIGNED, signed_at=now
        )
    _audit(
        visit=visit,
        actor=actor,
        action=Actions.VISIT_SIGNED,
        target=visit,
        data={
            "version": visit.version,
            "superseded_visit_id": visit.amends_id,
            "prescription_id": prescription_id,
        },
    )
    # The PDFs are rendered by a worker once this commits (they supersede a corrected
    # version's PDFs).
    visit_documents_prepare(visit=visit, actor=actor)
    # Reminders (medicines, follow-up) are planned from the signed visit in this transaction.
    care_event(events.VISIT_SIGNED, visit=visit)
    _complete_appointment(visit, actor)
    return visit


@transaction.atomic
def visit_amend(*, visit: Visit, actor: User, actor_membership: Membership, reason: str) -> Visit:
    """Start a correction of a signed visit: a new draft version copying everything.

    The copy holds the notes, follow-up, vitals, diagnoses, procedures and the prescription
    with its items. The signed original stays signed and current until the correction is
    signed. Only the visit's own doctor may amend it, and one correction is open at a time.
    """
    actor_membership = require(
        actor,
        Perm.CLINICAL_EDIT,
        clinic_id=visit.clinic_id,
        membership=actor_membership,
        message="Only the doctor of this visit can amend it.",
        person=True,
    ).membership
    _require_visit_doctor(visit, actor_membership, "amend")
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationFailed({"reason": ["Say what is being corrected, and why."]})
    if len(reason) > 300:
        raise ValidationFailed({"reason": ["Keep the reason to 300 characters."]})
    visit = _locked_visit(visit)
    if not visit.is_signed:
        raise DomainError("This visit is still a draft: edit it directly, no amendment needed.")
    if not visit.is_current:
        raise DomainError(
            "This version has already been corrected. Amend the latest version instead."
        )
    open_amendment = Visit.objects.filter(amends=visit).first()
    if open_amendment is not None:
        raise DomainError(
            f"A correction of this visit (version {open_amendment.version}) is already open. "
            "Finish and sign it, or edit it, instead of starting another.",
            code="amendment_open",
        )
    amendment = Visit.objects.create(
        clinic_id=visit.clinic_id,
        patient_id=visit.patient_id,
        doctor_id=visit.doctor_id,
        appointment_id=visit.appointment_id,
        mode=visit.mode,
        **{field: getattr(visit, field) for field in TEXT_NOTE_FIELDS},
        follow_up_date=visit.follow_up_date,
        version=visit.version + 1,
        amends=visit,
        amendment_reason=reason,
        created_by=actor,
    )
    _copy_clinical_rows(visit, amendment)
    _audit(
        visit=amendment,
        actor=actor,
        action=Actions.VISIT_AMENDED,
        target=amendment,
        data={"amends_visit_id": visit.pk, "version": amendment.version},
    )
    return amendment


def _copy_clinical_rows(source: Visit, target: Visit) -> None:
    """Copy vitals, diagnoses, procedures and the prescription (with items) to `target`."""
    vitals = Vitals.objects.filter(visit=source).first()
    if vitals is not None:
        vitals.pk = None
        vitals.visit = target
        vitals.save(force_insert=True)  # keeps who recorded them, and when
    Diagnosis.objects.bulk_create(
        [
            Diagnosis(
                clinic_id=d.clinic_id,
                visit=target,
                text=d.text,
                icd10_code=d.icd10_code,
                is_provisional=d.is_provisional,
                position=d.position,
            )
            for d in source.diagnoses.all()
        ]
    )
    ProcedureDone.objects.bulk_create(
        [
            ProcedureDone(
                clinic_id=p.clinic_id, visit=target, name=p.name, notes=p.notes, position=p.position
            )
            for p in source.procedures.all()
        ]
    )
    prescription = Prescription.objects.filter(visit=source).first()
    if prescription is None:
        return
    items = list(prescription.items.all())
    prescription.pk = None
    prescription.visit = target
    prescription.status = PrescriptionStatus.DRAFT
    prescription.signed_at = None
    prescription.created_at = timezone.now()
    prescription.save(force_insert=True)
    for item in items:
        item.pk = None
        item.prescription = prescription
        item.schedule = copy.deepcopy(item.schedule)
    PrescriptionItem.objects.bulk_create(items)
