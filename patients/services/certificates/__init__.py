"""Writes for medical certificates: issuing, correcting, revoking, and exporting the register
(IMC 2002 reg. 1.3.3).

Every certificate takes the next number of the clinic's series for the year it is issued in
(`MC/<year>/<serial>`, gap-free: the number is taken in the transaction that issues it). The
issue time is the server's clock, never an input. "Effective from" is a separate date that may
not precede the examination the certificate rests on (the linked visit's date, or the issue date
when no visit is linked), and may be at most MAX_DAYS_AHEAD days ahead.

A certificate is never edited. A correction is a new certificate with the next number that
supersedes the old one; a certificate issued in error is revoked with a reason. Both stay in the
register, and the public verification page says "superseded" or "revoked".

Only a doctor with a registration number in their doctor profile can issue a certificate (it
must be printed on it). A correction restates the examination, so only the doctor who issued
the certificate may correct it; that doctor or the clinic's owner may revoke it. Callers run
inside the clinic's scope.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinics.audit import Actions, audit_record
from clinics.errors import DomainError, NotAllowed, ValidationFailed
from clinics.models import Clinic, DoctorProfile, Membership, User
from clinics.roles import Perm, Role
from clinics.sequences import counter_next
from patients.models import (
    CertificateKind,
    CertificateStatus,
    Document,
    DocumentKind,
    MedicalCertificate,
    Patient,
    Visit,
)
from patients.selectors.certificates import (
    NO_REGISTRATION,
    certificate_register_rows,
    examination_date,
)
from patients.selectors.prescriptions import _doctor_name, _patient_block
from patients.services.documents import document_prepare

__all__ = [
    "MAX_DAYS_AHEAD",
    "MAX_REST_DAYS",
    "certificate_correct",
    "certificate_issue",
    "certificate_register_export",
    "certificate_revoke",
]

MAX_DAYS_AHEAD = 30
MAX_REST_DAYS = 90

CANNOT_ISSUE = "Only a doctor can issue medical certificates."
_LIMITS = {
    "identification_mark": 200,
    "condition": 300,
    "purpose": 200,
    "remarks": 2000,
}


def _fmt(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _oneline(value: str | None) -> str:
    return " ".join((value or "").split())


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


def _checked(
    *,
    patient: Patient,
    kind: str,
    effective_from: date | None,
    effective_to: date | None,
    condition: str,
    remarks: str,
    purpose: str,
    identification_mark: str,
    visit: Visit | None,
    today: date,
    tz: Any,
    earliest: date | None = None,
) -> dict[str, Any]:
    """The certificate's fields, cleaned, or ValidationFailed with a message per field.

    `earliest` is the first day the certificate may take effect from when no visit is linked
    (a correction keeps the floor of the certificate it corrects); by default the issue date.
    """
    errors: dict[str, list[str]] = {}

    def refuse(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    values = {
        "condition": _oneline(condition),
        "purpose": _oneline(purpose),
        "identification_mark": _oneline(identification_mark),
        "remarks": (remarks or "").strip(),
    }
    for field, limit in _LIMITS.items():
        if len(values[field]) > limit:
            refuse(field, f"Keep this to {limit} characters.")

    if patient.archived_at is not None:
        refuse("__all__", "This patient's record is archived. Restore it to issue a certificate.")
    if kind not in CertificateKind.values:
        refuse("kind", "Choose the kind of certificate: sickness, fitness or general.")
    if not values["identification_mark"]:
        refuse(
            "identification_mark",
            "Note a visible identification mark (for example: a mole on the left cheek). The "
            "law asks for it on every certificate.",
        )

    if visit is not None and visit.patient_id != patient.pk:
        refuse("visit", "That visit belongs to another patient.")
        visit = None
    if visit is not None:
        earliest = examination_date(visit, tz)
    elif earliest is not None:
        earliest = min(earliest, today)
    else:
        earliest = today

    if effective_from is None:
        refuse("effective_from", "Give the date the certificate takes effect from.")
    elif effective_from < earliest:
        if visit is not None:
            refuse(
                "effective_from",
                f"A certificate cannot be back-dated: it can take effect from {_fmt(earliest)}, "
                "the day of the examination, at the earliest.",
            )
        else:
            refuse(
                "effective_from",
                f"A certificate cannot be back-dated: it can take effect from {_fmt(earliest)} "
                "at the earliest. To start from the day you examined the patient, link that "
                "visit.",
            )
    elif effective_from > today + timedelta(days=MAX_DAYS_AHEAD):
        last = today + timedelta(days=MAX_DAYS_AHEAD)
        refuse(
            "effective_from",
            f"A certificate can take effect at most {MAX_DAYS_AHEAD} days ahead, by {_fmt(last)}.",
        )

    if kind == CertificateKind.FITNESS and effective_to is not None:
        refuse(
            "effective_to",
            "A fitness certificate states the day the patient may resume: leave the last day "
            "empty.",
        )
    if kind == CertificateKind.SICKNESS:
        if effective_to is None:
            refuse("effective_to", "Give the last day of rest advised.")
        if not values["condition"]:
            refuse("condition", "Give the illness or condition that rest is advised for.")
    if kind != CertificateKind.FITNESS and effective_to is not None and effective_from:
        if effective_to < effective_from:
            refuse("effective_to", "The last day cannot be before the first day.")
        elif (days := (effective_to - effective_from).days + 1) > MAX_REST_DAYS:
            refuse(
                "effective_to",
                f"One certificate can cover at most {MAX_REST_DAYS} days (this is {days} "
                "days). Review the patient and issue another certificate then.",
            )
    if errors:
        raise ValidationFailed(errors)
    return {
        **values,
        "kind": kind,
        "effective_from": effective_from,
        "effective_to": effective_to,
        "visit": visit,
    }


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


@transaction.atomic
def certificate_register_export(
    *, clinic: Clinic, year: int, actor: User, actor_membership: Membership
) -> str:
    """The year's certificate register as CSV text (numbers in order), audited as an export.

    Cells that a spreadsheet would run as a formula are neutralised by the selector.
    """
    if (
        actor_membership is None
        or actor_membership.clinic_id != clinic.pk
        or not actor_membership.has_perm(Perm.CLINICAL_VIEW)
        or not actor_membership.has_perm(Perm.EXPORTS_RUN)
    ):
        raise NotAllowed("Your role cannot export the certificate register.")
    rows = certificate_register_rows(clinic=clinic, year=year)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    audit_record(
        clinic=clinic,
        actor=actor,
        action=Actions.CERTIFICATE_REGISTER_EXPORTED,
        data={"year": year, "certificates": len(rows) - 1},
    )
    return buffer.getvalue()
