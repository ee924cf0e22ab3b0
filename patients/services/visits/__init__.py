"""Writes for visits: opening a draft, notes, vitals, diagnoses, procedures, signing, amending.

Every service takes the acting user and their membership of the clinic, checks the role's
permission itself (assistants may open a draft and record vitals; only doctors write notes and
sign), locks the visit row, and writes one audit event that names fields and ids but never
clinical text. Callers run inside the clinic's scope.

A signed visit is frozen. A correction is a new version (`visit_amend`): a draft copy of the
signed visit that points to it; signing the copy marks the earlier version superseded. Every
version stays readable.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from clinics.audit import Actions, audit_record
from clinics.errors import DomainError, NotAllowed, ValidationFailed
from clinics.models import ApiKey, Clinic, Membership, User
from clinics.roles import Perm, Role
from patients import events, icd10
from patients.events import care_event
from patients.models import (
    Appointment,
    AppointmentStatus,
    Diagnosis,
    Drug,
    Patient,
    Prescription,
    PrescriptionItem,
    PrescriptionStatus,
    ProcedureDone,
    Visit,
    VisitMode,
    VisitStatus,
    Vitals,
)
from patients.services.documents import visit_documents_prepare
from patients.services.prescriptions import prescription_item_add

__all__ = [
    "NOTE_FIELDS",
    "VITAL_FIELDS",
    "diagnosis_add",
    "diagnosis_remove",
    "procedure_add",
    "procedure_remove",
    "visit_amend",
    "visit_draft_create",
    "visit_record_view",
    "visit_sign",
    "visit_start",
    "visit_update_notes",
    "vitals_record",
]

DOCTOR_ROLES = (Role.DOCTOR, Role.OWNER)
TEXT_NOTE_FIELDS = (
    "chief_complaints",
    "history",
    "examination",
    "investigations_advised",
    "advice",
)
NOTE_FIELDS = (*TEXT_NOTE_FIELDS, "follow_up_date", "mode")
FOLLOW_UP_MAX_YEARS = 2

SIGNED_MESSAGE = "This visit is signed. Amend it to make a correction."
CANNOT_DRAFT = "Your role cannot open visits or record vitals."
CANNOT_EDIT = "Only a doctor can write clinical notes, diagnoses and procedures."
MINOR_TELECONSULTATION = (
    "A patient under 18 can be seen by teleconsultation only with a parent or guardian. "
    "Add the guardian to the patient's record first, or see the patient in person."
)


# ---------------------------------------------------------------------------------------------
# Shared checks


def _require_perm(
    *, actor: User, membership: Membership, clinic_id: int, perm: str, message: str
) -> None:
    """The membership must be the actor's own, at this clinic, active, with the permission."""
    if (
        membership is None
        or membership.user_id != getattr(actor, "pk", None)
        or membership.clinic_id != clinic_id
        or not membership.has_perm(perm)
    ):
        raise NotAllowed(message)


def _locked_visit(visit: Visit) -> Visit:
    return Visit.objects.select_for_update().get(pk=visit.pk)


def _require_draft(visit: Visit) -> None:
    if visit.is_signed:
        raise DomainError(SIGNED_MESSAGE, code="visit_signed")


def _editable_visit(
    *, visit_id: int, clinic_id: int, actor: User, membership: Membership, perm: str, message: str
) -> Visit:
    """Check the permission, then lock the visit and make sure it is still a draft.

    Writing the record (clinical.edit: notes, diagnoses, procedures) is for the visit's own
    doctor; a colleague may read it. Vitals (clinical.draft) may be taken by anyone allowed to.
    """
    _require_perm(
        actor=actor, membership=membership, clinic_id=clinic_id, perm=perm, message=message
    )
    visit = Visit.objects.select_for_update().get(pk=visit_id)
    _require_draft(visit)
    if perm == Perm.CLINICAL_EDIT and membership.pk != visit.doctor_id:
        raise NotAllowed(not_the_visit_doctor(visit))
    return visit


def not_the_visit_doctor(visit: Visit) -> str:
    """What a colleague is told when they try to change another doctor's visit."""
    doctor = Membership.objects.select_related("user").get(pk=visit.doctor_id)
    name = " ".join((doctor.user.full_name or doctor.user.email).split())
    return (
        f"Only Dr {name}, the doctor of this visit, can change it. "
        "You can read it, or start your own visit for this patient."
    )


def _check_teleconsultation(*, patient: Patient, mode: str, visit: Visit | None = None) -> None:
    """Telemedicine Practice Guidelines 2020: a minor is consulted only with an identified
    adult, and Schedule X and narcotic drugs are never prescribed by teleconsultation."""
    if mode != VisitMode.TELECONSULTATION:
        return
    if patient.is_minor and not patient.guardians.exists():
        raise DomainError(MINOR_TELECONSULTATION, field="mode", code="minor_without_guardian")
    if visit is not None and visit.pk:
        # A listed drug that is restricted, or a typed-in name that matches one.
        restricted_names = Drug.objects.filter(Q(is_schedule_x=True) | Q(is_narcotic=True)).values(
            "generic_name"
        )
        restricted = sorted(
            set(
                PrescriptionItem.objects.filter(prescription__visit=visit)
                .filter(
                    Q(drug__is_schedule_x=True)
                    | Q(drug__is_narcotic=True)
                    | Q(generic_name__in=restricted_names)
                )
                .values_list("generic_name", flat=True)
            )
        )
        if restricted:
            raise DomainError(
                f"{', '.join(restricted)} cannot be prescribed by teleconsultation "
                "(Schedule X and narcotic drugs). Remove them from the prescription, "
                "or see the patient in person.",
                field="mode",
                code="restricted_drug_teleconsultation",
            )


def _audit(*, visit: Visit, actor: User, action: str, target, data: dict[str, Any]) -> None:
    audit_record(
        clinic=visit.clinic_id,
        actor=actor,
        action=action,
        target=target,
        patient_id=visit.patient_id,
        data=data,
    )


def _encounter_date(visit: Visit) -> date:
    """The clinic-local date the patient was seen: the first version's, for an amendment."""
    first = visit
    while first.amends_id:
        first = Visit.objects.only("id", "amends_id", "created_at").get(pk=first.amends_id)
    tz = Clinic.objects.only("timezone").get(pk=visit.clinic_id).tzinfo
    return timezone.localtime(first.created_at, tz).date()


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# ---------------------------------------------------------------------------------------------
# Starting a visit and writing its notes


@transaction.atomic
def visit_start(
    *,
    clinic: Clinic,
    actor: User,
    actor_membership: Membership,
    patient: Patient,
    doctor: Membership,
    appointment: Appointment | None = None,
    mode: str = VisitMode.IN_PERSON,
) -> Visit:
    """Open a draft visit of `patient` with `doctor`.

    Assistants may open one (to record vitals before the doctor sees the patient). The doctor
    must be an active doctor or owner of the clinic; an appointment, when given, must be this
    patient's with this doctor. A minor is seen by teleconsultation only with a guardian on
    record.
    """
    _require_perm(
        actor=actor,
        membership=actor_membership,
        clinic_id=clinic.pk,
        perm=Perm.CLINICAL_DRAFT,
        message=CANNOT_DRAFT,
    )
    if patient.clinic_id != clinic.pk:
        raise DomainError("This patient is not registered at this clinic.", field="patient")
    if patient.is_archived:
        raise DomainError(
            "This patient's record is archived. Restore it before starting a visit.",
            field="patient",
        )
    if doctor.clinic_id != clinic.pk or not doctor.is_active or doctor.role not in DOCTOR_ROLES:
        raise DomainError("Choose a doctor who works at this clinic.", field="doctor")
    if mode not in VisitMode.values:
        raise DomainError("Choose in person or teleconsultation.", field="mode")
    if appointment is not None:
        appointment = (
            Appointment.objects.select_for_update().filter(pk=appointment.pk, clinic=clinic).first()
        )
        if appointment is None:
            raise DomainError("No such appointment at this clinic.", field="appointment")
        if appointment.patient_id != patient.pk or appointment.doctor_id != doctor.pk:
            raise DomainError(
                "This appointment is for another patient or another doctor.", field="appointment"
            )
        if appointment.status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
            raise DomainError(
                f"This appointment is marked {appointment.get_status_display().lower()}.",
                field="appointment",
            )
        if Visit.objects.filter(appointment=appointment, amends__isnull=True).exists():
            raise DomainError(
                "A visit has already been started for this appointment. Open it instead.",
                field="appointment",
                code="visit_exists",
            )
    _check_teleconsultation(patient=patient, mode=mode)
    visit = Visit.objects.create(
        clinic=clinic,
        patient=patient,
        doctor=doctor,
        appointment=appointment,
        mode=mode,
        created_by=actor,
    )
    _audit(
        visit=visit,
        actor=actor,
        action=Actions.VISIT_STARTED,
        target=visit,
        data={
            "doctor_id": doctor.pk,
            "appointment_id": appointment.pk if appointment else None,
            "mode": mode,
        },
    )
    return visit


def _clean_follow_up(value: Any, visit: Visit, errors: dict[str, list[str]]) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            errors["follow_up_date"] = ["Enter the follow-up date as a date."]
            return None
    if isinstance(value, datetime) or not isinstance(value, date):
        errors["follow_up_date"] = ["Enter the follow-up date as a date."]
        return None
    seen_on = _encounter_date(visit)
    if value < seen_on:
        errors["follow_up_date"] = ["The follow-up date cannot be before the visit."]
    elif value > _years_later(seen_on, FOLLOW_UP_MAX_YEARS):
        errors["follow_up_date"] = [
            f"The follow-up date must be within {FOLLOW_UP_MAX_YEARS} years of the visit."
        ]
    return value


@transaction.atomic
def visit_update_notes(
    *, visit: Visit, actor: User, actor_membership: Membership, **fields: Any
) -> Visit:
    """Change a draft's notes: any of chief_complaints, history, examination,
    investigations_advised, advice (text), follow_up_date (a date or None) and mode.

    The follow-up date may not be before the visit nor more than two years after it. The audit
    event lists the changed field names only.
    """
    unknown = set(fields) - set(NOTE_FIELDS)
    if unknown:
        raise DomainError(f"Unknown visit fields: {', '.join(sorted(unknown))}")
    visit = _editable_visit(
        visit_id=visit.pk,
        clinic_id=visit.clinic_id,
        actor=actor,
        membership=actor_membership,
        perm=Perm.CLINICAL_EDIT,
        message=CANNOT_EDIT,
    )
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for field, value in fields.items():
        if field in TEXT_NOTE_FIELDS:
            if value is None:
                value = ""
            if not isinstance(value, str):
                errors[field] = ["Enter text."]
                continue
            values[field] = value.strip()
        elif field == "mode":
            if value not in VisitMode.values:
                errors["mode"] = ["Choose in person or teleconsultation."]
                continue
            values["mode"] = value
    if "follow_up_date" in fields:
        new_date = fields["follow_up_date"]
        if new_date != visit.follow_up_date:  # an unchanged date is not checked again
            values["follow_up_date"] = _clean_follow_up(new_date, visit, errors)
    if errors:
        raise ValidationFailed(errors)
    changed = [field for field, value in values.items() if getattr(visit, field) != value]
    if not changed:
        return visit
    if "mode" in changed:
        _check_teleconsultation(patient=visit.patient, mode=values["mode"], visit=visit)
    for field in changed:
        setattr(visit, field, values[field])
    visit.save(update_fields=[*changed, "updated_at"])
    _audit(
        visit=visit,
        actor=actor,
        action=Actions.VISIT_NOTES_UPDATED,
        target=visit,
        data={"fields": sorted(changed)},
    )
    return visit


# ---------------------------------------------------------------------------------------------
# Vitals


@dataclass(frozen=True)
class _VitalRange:
    """A plausible range for one vital sign; `places` None means a whole number."""

    label: str
    low: str
    high: str
    unit: str
    places: str | None

    @property
    def message(self) -> str:
        return f"{self.label} must be from {self.low} to {self.high}{self.unit}."


VITAL_RANGES: dict[str, _VitalRange] = {
    "bp_systolic": _VitalRange("Systolic BP", "50", "300", " mmHg", None),
    "bp_diastolic": _VitalRange("Diastolic BP", "20", "200", " mmHg", None),
    "pulse": _VitalRange("Pulse", "20", "250", " a minute", None),
    "temperature_c": _VitalRange("Temperature", "30.0", "45.0", " °C", "0.1"),
    "temperature_f": _VitalRange("Temperature", "86", "113", " °F", "0.1"),
    "spo2": _VitalRange("SpO2", "50", "100", "%", None),
    "respiratory_rate": _VitalRange("Respiratory rate", "4", "80", " a minute", None),
    "weight_kg": _VitalRange("Weight", "0.3", "350", " kg", "0.01"),
    "height_cm": _VitalRange("Height", "20", "250", " cm", "0.1"),
}
VITAL_FIELDS = tuple(VITAL_RANGES)  # what vitals_record accepts
STORED_VITALS = tuple(f for f in VITAL_FIELDS if f != "temperature_f")


def _clean_vital(field: str, value: Any) -> Decimal | int | None:
    """None for an empty value; raises ValueError (with the field's message) when the value is
    not a number or is outside the plausible range."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    rule = VITAL_RANGES[field]
    not_a_number = f"{rule.label} must be a number."
    if isinstance(value, bool):
        raise ValueError(not_a_number)
    try:
        # str() first: a float becomes its shortest decimal spelling, never a binary fraction.
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(not_a_number) from None
    if not number.is_finite():
        raise ValueError(not_a_number)
    if rule.places is None:
        if number != number.to_integral_value():
            raise ValueError(f"{rule.label} must be a whole number.")
        number = number.to_integral_value()
    else:
        try:
            number = number.quantize(Decimal(rule.places), rounding=ROUND_HALF_UP)
        except InvalidOperation:  # too many digits to hold: far outside any range
            raise ValueError(rule.message) from None
    if not Decimal(rule.low) <= number <= Decimal(rule.high):
        raise ValueError(rule.message)
    return int(number) if rule.places is None else number


def fahrenheit_to_celsius(fahrenheit: Decimal) -> Decimal:
    """98.6 °F -> 37.0 °C, to one decimal place."""
    return ((fahrenheit - 32) * 5 / 9).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@transaction.atomic
def vitals_record(
    *, visit: Visit, actor: User, actor_membership: Membership, **values: Any
) -> Vitals:
    """Record or correct a draft visit's vitals. Assistants may.

    Accepts bp_systolic, bp_diastolic, pulse, temperature_c (or temperature_f, stored in °C),
    spo2, respiratory_rate, weight_kg, height_cm as ints, Decimals or strings. A value given as
    None or "" clears it; values not given are kept. Each implausible value gets its own
    message and nothing is saved.
    """
    unknown = set(values) - set(VITAL_FIELDS)
    if unknown:
        raise DomainError(f"Unknown vital signs: {', '.join(sorted(unknown))}")
    if not values:
        raise DomainError("Enter at least one vital sign.")
    visit = _editable_visit(
        visit_id=visit.pk,
        clinic_id=visit.clinic_id,
        actor=actor,
        membership=actor_membership,
        perm=Perm.CLINICAL_DRAFT,
        message=CANNOT_DRAFT,
    )
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for field, value in values.items():
        try:
            cleaned[field] = _clean_vital(field, value)
        except ValueError as exc:
            errors[field] = [str(exc)]
    if "temperature_f" in cleaned:
        fahrenheit = cleaned.pop("temperature_f")
        if fahrenheit is not None:
            if cleaned.get("temperature_c") is not None:
                errors["temperature_f"] = ["Give the temperature in °C or in °F, not both."]
            else:
                cleaned["temperature_c"] = fahrenheit_to_celsius(fahrenheit)
        elif "temperature_c" not in cleaned:
            cleaned["temperature_c"] = None
    vitals = Vitals.objects.filter(visit=visit).first() or Vitals(
        clinic_id=visit.clinic_id, visit=visit
    )
    changed = [f for f in STORED_VITALS if f in cleaned and getattr(vitals, f) != cleaned[f]]
    for field in changed:
        setattr(vitals, field, cleaned[field])
    systolic, diastolic = vitals.bp_systolic, vitals.bp_diastolic
    if not errors.keys() & {"bp_systolic", "bp_diastolic"}:
        if systolic is not None and diastolic is None:
            errors["bp_diastolic"] = ["Enter the diastolic BP too, or neither."]
        elif diastolic is not None and systolic is None:
            errors["bp_systolic"] = ["Enter the systolic BP too, or neither."]
        elif systolic is not None and diastolic >= systolic:
            errors["bp_diastolic"] = ["The diastolic BP must be lower than the systolic."]
    if errors:
        raise ValidationFailed(errors)
    if all(getattr(vitals, f) is None for f in STORED_VITALS):
        raise DomainError("Enter at least one vital sign.")
    if not changed and vitals.pk:
        return vitals
    vitals.recorded_by = actor
    vitals.recorded_at = timezone.now()
    vitals.save()
    _audit(
        visit=visit,
        actor=actor,
        action=Actions.VITALS_RECORDED,
        target=vitals,
        data={"visit_id": visit.pk, "fields": sorted(changed)},
    )
    return vitals


# ---------------------------------------------------------------------------------------------
# Diagnoses and procedures


def _next_position(queryset) -> int:
    highest = queryset.aggregate(highest=Max("position"))["highest"]
    return 0 if highest is None else highest + 1


@transaction.atomic
def diagnosis_add(
    *,
    visit: Visit,
    actor: User,
    actor_membership: Membership,
    text: str,
    icd10_code: str = "",
    is_provisional: bool = False,
) -> Diagnosis:
    """Add a diagnosis to a draft, in the doctor's words, with an optional WHO ICD-10 code.

    The code is normalised ('j069' -> 'J06.9'); with only a code, the text is the code's WHO
    description.
    """
    visit = _editable_visit(
        visit_id=visit.pk,
        clinic_id=visit.clinic_id,
        actor=actor,
        membership=actor_membership,
        perm=Perm.CLINICAL_EDIT,
        message=CANNOT_EDIT,
    )
    errors: dict[str, list[str]] = {}
    text = " ".join((text or "").split())
    code = ""
    if (icd10_code or "").strip():
        code = icd10.normalise_code(icd10_code)
        if not icd10.is_valid_code(code):
            errors["icd10_code"] = [
                f"{code} is not a WHO ICD-10 code. Search by name to find the right code."
            ]
        elif visit.diagnoses.filter(icd10_code=code).exists():
            errors["icd10_code"] = [f"{code} is already a diagnosis of this visit."]
        elif not text:
            text = icd10.describe(code)[:300]
    if not text and "icd10_code" not in errors:
        errors["text"] = ["Enter the diagnosis, or an ICD-10 code."]
    elif len(text) > 300:
        errors["text"] = ["Keep the diagnosis to 300 characters."]
    if errors:
        raise ValidationFailed(errors)
    diagnosis = Diagnosis.objects.create(
        clinic_id=visit.clinic_id,
        visit=visit,
        text=text,
        icd10_code=code,
        is_provisional=bool(is_provisional),
        position=_next_position(visit.diagnoses.all()),
    )
    _audit(
        visit=visit,
        actor=actor,
        action=Actions.DIAGNOSIS_ADDED,
        target=diagnosis,
        data={"visit_id": visit.pk},
    )
    return diagnosis


@transaction.atomic
def diagnosis_remove(*, diagnosis: Diagnosis, actor: User, actor_membership: Membership) -> None:
    """Remove a diagnosis from a draft. Removing one already gone does nothing."""
    _remove_from_draft(
        row=diagnosis,
        related="diagnoses",
        action=Actions.DIAGNOSIS_REMOVED,
        actor=actor,
        actor_membership=actor_membership,
    )


def _remove_from_draft(
    *, row, related: str, action: str, actor: User, actor_membership: Membership
) -> None:
    """Remove a diagnosis or procedure of a draft visit, with its audit event."""
    visit = _editable_visit(
        visit_id=row.visit_id,
        clinic_id=row.clinic_id,
        actor=actor,
        membership=actor_membership,
        perm=Perm.CLINICAL_EDIT,
        message=CANNOT_EDIT,
    )
    current = getattr(visit, related).filter(pk=row.pk).first()
    if current is None:
        return
    _audit(visit=visit, actor=actor, action=action, target=current, data={"visit_id": visit.pk})
    current.delete()


@transaction.atomic
def procedure_add(
    *, visit: Visit, actor: User, actor_membership: Membership, name: str, notes: str = ""
) -> ProcedureDone:
    """Record a procedure performed at a draft visit (dressing, nebulisation, suturing...)."""
    visit = _editable_visit(
        visit_id=visit.pk,
        clinic_id=visit.clinic_id,
        actor=actor,
        membership=actor_membership,
        perm=Perm.CLINICAL_EDIT,
        message=CANNOT_EDIT,
    )
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed({"name": ["Enter the procedure's name."]})
    if len(name) > 200:
        raise ValidationFailed({"name": ["Keep the procedure's name to 200 characters."]})
    procedure = ProcedureDone.objects.create(
        clinic_id=visit.clinic_id,
        visit=visit,
        name=name,
        notes=(notes or "").strip(),
        position=_next_position(visit.procedures.all()),
    )
    _audit(
        visit=visit,
        actor=actor,
        action=Actions.PROCEDURE_ADDED,
        target=procedure,
        data={"visit_id": visit.pk},
    )
    return procedure


@transaction.atomic
def procedure_remove(
    *, procedure: ProcedureDone, actor: User, actor_membership: Membership
) -> None:
    """Remove a procedure from a draft. Removing one already gone does nothing."""
    _remove_from_draft(
        row=procedure,
        related="procedures",
        action=Actions.PROCEDURE_REMOVED,
        actor=actor,
        actor_membership=actor_membership,
    )


# ---------------------------------------------------------------------------------------------
# Signing and amending


def _require_visit_doctor(visit: Visit, membership: Membership, doing: str) -> None:
    if membership.pk != visit.doctor_id or membership.role not in DOCTOR_ROLES:
        doctor = Membership.objects.select_related("user").get(pk=visit.doctor_id)
        name = doctor.user.full_name or doctor.user.email
        raise NotAllowed(f"Only {name}, the doctor of this visit, can {doing} it.")


@transaction.atomic
def visit_sign(*, visit: Visit, actor: User, actor_membership: Membership) -> Visit:
    """Sign a draft visit, and its prescription with it. Only the visit's own doctor may.

    The visit needs a chief complaint or a diagnosis. Signing an amendment marks the version it
    corrects as superseded. A signed visit is frozen.
    """
    _require_perm(
        actor=actor,
        membership=actor_membership,
        clinic_id=visit.clinic_id,
        perm=Perm.CLINICAL_EDIT,
        message="Only the doctor of this visit can sign it.",
    )
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
    return visit


@transaction.atomic
def visit_amend(*, visit: Visit, actor: User, actor_membership: Membership, reason: str) -> Visit:
    """Start a correction of a signed visit: a new draft version copying everything.

    The copy holds the notes, follow-up, vitals, diagnoses, procedures and the prescription
    with its items. The signed original stays signed and current until the correction is
    signed. Only the visit's own doctor may amend it, and one correction is open at a time.
    """
    _require_perm(
        actor=actor,
        membership=actor_membership,
        clinic_id=visit.clinic_id,
        perm=Perm.CLINICAL_EDIT,
        message="Only the doctor of this visit can amend it.",
    )
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


# ---------------------------------------------------------------------------------------------
# A whole draft at once, and reading a visit


def _gather(errors: dict[str, list[str]], prefix: str, write: Callable[[], Any]) -> None:
    """Run one part of a new draft, filing its field errors under `prefix` ("items.1").

    A refusal of permission stops everything at once: it is not something to correct.
    """
    try:
        write()
    except NotAllowed:
        raise
    except ValidationFailed as exc:
        for field, messages in exc.errors.items():
            errors[f"{prefix}.{field}"] = list(messages)
    except DomainError as exc:
        errors[f"{prefix}.{exc.field}" if exc.field else prefix] = [exc.message]


@transaction.atomic
def visit_draft_create(
    *,
    clinic: Clinic,
    actor: User,
    actor_membership: Membership,
    patient: Patient,
    doctor: Membership,
    appointment: Appointment | None = None,
    mode: str = VisitMode.IN_PERSON,
    notes: Mapping[str, Any] | None = None,
    vitals: Mapping[str, Any] | None = None,
    diagnoses: Sequence[Mapping[str, Any]] = (),
    procedures: Sequence[Mapping[str, Any]] = (),
    items: Sequence[Mapping[str, Any]] = (),
) -> Visit:
    """Open a draft visit with its first notes, vitals, diagnoses, procedures and prescription
    items, all or nothing.

    Every part goes through its own service, with that service's rules and permission checks:
    an assistant may open the draft with vitals; notes, diagnoses, procedures and medicines
    need the visit's doctor. `items` hold `prescription_item_add`'s arguments (`drug` a Drug
    or absent). Field errors of every part are gathered under their paths (`notes.advice`,
    `vitals.pulse`, `diagnoses.0.icd10_code`, `items.1.frequency`) and raised together as one
    ValidationFailed; then nothing is saved. NotAllowed is raised as it is.
    """
    visit = visit_start(
        clinic=clinic,
        actor=actor,
        actor_membership=actor_membership,
        patient=patient,
        doctor=doctor,
        appointment=appointment,
        mode=mode,
    )
    by = {"visit": visit, "actor": actor, "actor_membership": actor_membership}
    errors: dict[str, list[str]] = {}
    if notes:
        _gather(errors, "notes", lambda: visit_update_notes(**by, **notes))
    if vitals:
        _gather(errors, "vitals", lambda: vitals_record(**by, **vitals))
    for i, diagnosis in enumerate(diagnoses):
        _gather(errors, f"diagnoses.{i}", lambda d=diagnosis: diagnosis_add(**by, **d))
    for i, procedure in enumerate(procedures):
        _gather(errors, f"procedures.{i}", lambda p=procedure: procedure_add(**by, **p))
    for i, item in enumerate(items):
        _gather(errors, f"items.{i}", lambda x=item: prescription_item_add(**by, **x))
    if errors:
        raise ValidationFailed(errors)
    return visit


def visit_record_view(*, visit: Visit, actor: User | ApiKey) -> None:
    """Record that a staff member (or an API key) read a visit's clinical record."""
    _audit(visit=visit, actor=actor, action=Actions.VISIT_VIEWED, target=visit, data={})
