"""Issuing, correcting and revoking certificates: each issue takes the next number of the
clinic's series for its year (`MC/<year>/<serial>`, gap-free) and prepares its PDF."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinics.audit import Actions, audit_record
from clinics.errors import DomainError, NotAllowed, ValidationFailed
from clinics.models import Clinic, DoctorProfile, Membership, User
from clinics.roles import Perm, Role
from clinics.sequences import counter_next
from patients.models import (
    CertificateStatus,
    Document,
    DocumentKind,
    MedicalCertificate,
    Patient,
    Visit,
)
from patients.selectors.certificates import NO_REGISTRATION
from patients.selectors.prescriptions import _doctor_name, _patient_block
from patients.services.certificates.validation import _checked, _oneline
from patients.services.documents import document_prepare

CANNOT_ISSUE = "Only a doctor can issue medical certificates."


def series_name(year: int) -> str:
    """The clinic counter that numbers a year's certificates."""
    return f"certificate:{year}"


def _issuing_doctor(*, actor: User, membership: Membership, clinic_id: int) -> DoctorProfile:
    """The actor must be a doctor of this clinic whose profile has a registration number."""
    if (
        membership is None
        or membership.user_id != getattr(actor, "pk", None)
        or membership.clinic_id != clinic_id
        or not membership.has_perm(Perm.CLINICAL_EDIT)
    ):
        raise NotAllowed(CANNOT_ISSUE)
    profile = DoctorProfile.objects.filter(membership=membership).first()
    if profile is None or not profile.registration_number.strip():
        name = _doctor_name(actor.full_name or actor.email)
        raise DomainError(NO_REGISTRATION.format(name=name), code="no_registration_number")
    return profile


def _create(
    *,
    patient: Patient,
    doctor: Membership,
    values: dict[str, Any],
    issued_at: datetime,
    on: date,
    actor: User,
    registration_number: str,
    supersedes: MedicalCertificate | None = None,
    correction_reason: str = "",
) -> MedicalCertificate:
    """Number, store and prepare the PDF of a certificate (inside the caller's transaction)."""
    year = on.year
    serial = counter_next(clinic_id=patient.clinic_id, name=series_name(year))
    number = MedicalCertificate(year=year, serial=serial).number
    document = document_prepare(
        kind=DocumentKind.CERTIFICATE,
        patient_id=patient.pk,
        clinic_id=patient.clinic_id,
        actor=actor,
        title=f"Medical certificate {number}",
        supersedes=supersedes.document if supersedes is not None else None,
    )
    return MedicalCertificate.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        doctor=doctor,
        year=year,
        serial=serial,
        issued_at=issued_at,
        patient_address=_patient_block(patient, on)["address"][:500],
        supersedes=supersedes,
        correction_reason=correction_reason,
        doctor_registration_number=registration_number,
        document=document,
        created_by=actor,
        created_at=issued_at,
        **values,
    )


@transaction.atomic
def certificate_issue(
    *,
    patient: Patient,
    kind: str,
    effective_from: date | None,
    effective_to: date | None = None,
    condition: str = "",
    remarks: str = "",
    purpose: str = "",
    identification_mark: str,
    visit: Visit | None = None,
    actor: User,
    actor_membership: Membership,
) -> MedicalCertificate:
    """Issue a medical certificate with the next number of the year, and prepare its PDF.

    The issue time is now (server time). Sickness certificates need the rest period (at most
    MAX_REST_DAYS days) and the condition; fitness certificates give only the day the patient
    may resume. Nothing may take effect before the examination (the linked visit's date, or
    today without one) or more than MAX_DAYS_AHEAD days ahead.
    """
    profile = _issuing_doctor(actor=actor, membership=actor_membership, clinic_id=patient.clinic_id)
    patient = Patient.objects.get(pk=patient.pk)
    clinic = Clinic.objects.only("id", "timezone").get(pk=patient.clinic_id)
    tz = clinic.tzinfo
    issued_at = timezone.now()
    today = timezone.localtime(issued_at, tz).date()
    values = _checked(
        patient=patient,
        kind=kind,
        effective_from=effective_from,
        effective_to=effective_to,
        condition=condition,
        remarks=remarks,
        purpose=purpose,
        identification_mark=identification_mark,
        visit=visit,
        today=today,
        tz=tz,
    )
    certificate = _create(
        patient=patient,
        doctor=actor_membership,
        values=values,
        issued_at=issued_at,
        on=today,
        actor=actor,
        registration_number=profile.registration_number.strip(),
    )
    audit_record(
        clinic=patient.clinic_id,
        actor=actor,
        action=Actions.CERTIFICATE_ISSUED,
        target=certificate,
        patient_id=patient.pk,
        data={
            "number": certificate.number,
            "kind": certificate.kind,
            "visit_id": certificate.visit_id,
            "document_id": certificate.document_id,
        },
    )
    return certificate


def _not_in_force(certificate: MedicalCertificate) -> str:
    if certificate.status == CertificateStatus.REVOKED:
        return f"{certificate.number} was revoked: it can no longer be changed."
    successor = MedicalCertificate.objects.filter(supersedes=certificate).first()
    later = f" by {successor.number}" if successor is not None else ""
    return (
        f"{certificate.number} was already corrected{later}. Correct or revoke the latest "
        "certificate instead."
    )


@transaction.atomic
def certificate_correct(
    *,
    certificate: MedicalCertificate,
    kind: str,
    effective_from: date | None,
    effective_to: date | None = None,
    condition: str = "",
    remarks: str = "",
    purpose: str = "",
    identification_mark: str,
    visit: Visit | None = None,
    reason: str,
    actor: User,
    actor_membership: Membership,
) -> MedicalCertificate:
    """Correct a certificate: issue a new one (the next number, issued now) that supersedes it.

    The old certificate is marked superseded and stays in the register; its PDF's verification
    page says so. Only the doctor who issued it may correct it, and only while it is in force.
    Without a linked visit the correction may not take effect earlier than the certificate it
    corrects could.
    """
    profile = _issuing_doctor(
        actor=actor, membership=actor_membership, clinic_id=certificate.clinic_id
    )
    old = (
        MedicalCertificate.objects.select_for_update(of=("self",))
        .select_related("doctor__user", "document")
        .get(pk=certificate.pk)
    )
    if old.status != CertificateStatus.ISSUED:
        raise DomainError(_not_in_force(old), code="certificate_not_in_force")
    if old.doctor_id != actor_membership.pk:
        raise NotAllowed(
            f"Only {_doctor_name(old.doctor.user.full_name)}, who issued {old.number}, can "
            "correct it. If it is wrong, ask them or the clinic's owner to revoke it, and issue "
            "a new certificate."
        )
    patient = Patient.objects.get(pk=old.patient_id)
    clinic = Clinic.objects.only("id", "timezone").get(pk=old.clinic_id)
    tz = clinic.tzinfo
    issued_at = timezone.now()
    today = timezone.localtime(issued_at, tz).date()
    reason = _oneline(reason)
    try:
        values = _checked(
            patient=patient,
            kind=kind,
            effective_from=effective_from,
            effective_to=effective_to,
            condition=condition,
            remarks=remarks,
            purpose=purpose,
            identification_mark=identification_mark,
            visit=visit,
            today=today,
            tz=tz,
            earliest=min(old.effective_from, timezone.localtime(old.issued_at, tz).date()),
        )
        errors: dict[str, list[str]] = {}
    except ValidationFailed as exc:
        values, errors = {}, exc.errors
    if not reason:
        errors["reason"] = ["Say what was wrong with the certificate being corrected."]
    elif len(reason) > 300:
        errors["reason"] = ["Keep the reason to 300 characters."]
    if errors:
        raise ValidationFailed(errors)
    new = _create(
        patient=patient,
        doctor=actor_membership,
        values=values,
        issued_at=issued_at,
        on=today,
        actor=actor,
        registration_number=profile.registration_number.strip(),
        supersedes=old,
        correction_reason=reason,
    )
    old.status = CertificateStatus.SUPERSEDED
    old.save(update_fields=["status"])
    audit_record(
        clinic=old.clinic_id,
        actor=actor,
        action=Actions.CERTIFICATE_ISSUED,
        target=new,
        patient_id=patient.pk,
        data={
            "number": new.number,
            "kind": new.kind,
            "visit_id": new.visit_id,
            "document_id": new.document_id,
            "corrects": old.number,
            "corrects_id": old.pk,
        },
    )
    return new


@transaction.atomic
def certificate_revoke(
    *,
    certificate: MedicalCertificate,
    reason: str,
    actor: User,
    actor_membership: Membership,
) -> MedicalCertificate:
    """Withdraw a certificate issued in error. It stays in the register, marked revoked with
    the reason, and its verification page says it is no longer valid."""
    if (
        actor_membership is None
        or actor_membership.user_id != getattr(actor, "pk", None)
        or actor_membership.clinic_id != certificate.clinic_id
        or not actor_membership.has_perm(Perm.CLINICAL_EDIT)
    ):
        raise NotAllowed("Only a doctor can revoke a medical certificate.")
    locked = (
        MedicalCertificate.objects.select_for_update(of=("self",))
        .select_related("doctor__user")
        .get(pk=certificate.pk)
    )
    if locked.status != CertificateStatus.ISSUED:
        raise DomainError(_not_in_force(locked), code="certificate_not_in_force")
    if locked.doctor_id != actor_membership.pk and actor_membership.role != Role.OWNER:
        raise NotAllowed(
            f"Only {_doctor_name(locked.doctor.user.full_name)}, who issued {locked.number}, "
            "or the clinic's owner can revoke it."
        )
    reason = _oneline(reason)
    if not reason:
        raise ValidationFailed({"reason": ["Say why the certificate is being revoked."]})
    if len(reason) > 300:
        raise ValidationFailed({"reason": ["Keep the reason to 300 characters."]})
    now = timezone.now()
    locked.status = CertificateStatus.REVOKED
    locked.revoked_at = now
    locked.revoked_reason = reason
    locked.save(update_fields=["status", "revoked_at", "revoked_reason"])
    if locked.document_id:
        Document.objects.filter(pk=locked.document_id, revoked_at__isnull=True).update(
            revoked_at=now
        )
    audit_record(
        clinic=locked.clinic_id,
        actor=actor,
        action=Actions.CERTIFICATE_REVOKED,
        target=locked,
        patient_id=locked.patient_id,
        data={"number": locked.number, "document_id": locked.document_id},
    )
    return locked
