"""Writes for patients and guardians. Each runs in a transaction and writes one audit event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinics.actors import Actor, actor_user, resolve
from clinics.audit import Actions, audit_record
from clinics.errors import Conflict, DomainError, ValidationFailed
from clinics.models import Clinic
from clinics.roles import Perm
from clinics.sequences import counter_next
from clinics.validators import normalise_abha_number
from patients.models import ADULT_AGE, Guardian, Patient, Relation, age_on, normalise_name
from patients.phones import to_e164
from patients.registration import registration_steps
from patients.selectors import possible_duplicates

PHONE_FIELDS = ("phone", "whatsapp_phone", "emergency_contact_phone")
EDITABLE_FIELDS = (
    "full_name",
    "date_of_birth",
    "sex",
    "phone",
    "whatsapp_phone",
    "preferred_language",
    "discreet_messages",
    "email",
    "address",
    "city",
    "pincode",
    "state_code",
    "blood_group",
    "allergies",
    "chronic_conditions",
    "abha_number",
    "abha_address",
    "emergency_contact_name",
    "emergency_contact_relation",
    "emergency_contact_phone",
)
# Clinical information on the patient's record: read and written only with `clinical.view`.
HEALTH_FIELDS = ("allergies", "chronic_conditions")
HEALTH_NOT_ALLOWED = "Only clinical staff (doctors and nurses) may record this. Ask a doctor."
PHONE_ERROR = "Enter a valid phone number, for example 98765 43210 or +44 20 7946 0958."
MAX_AGE_YEARS = 130


@dataclass(frozen=True)
class GuardianInput:
    """A guardian: an existing patient (by id) or a contact with name, relation and phone."""

    relation: str
    guardian_patient_id: int | None = None
    name: str = ""
    phone: str = ""


class PossibleDuplicate(Conflict):
    code = "possible_duplicate"

    def __init__(self, matches: list[Patient]):
        listed = ", ".join(f"{p.full_name} ({p.patient_number})" for p in matches[:5])
        super().__init__(
            f"A patient with a similar name and the same phone number or date of birth "
            f"exists: {listed}. "
            "Open that record, or confirm that this is a different person."
        )
        self.matches = matches


def estimated_dob(age_years: int, today: date | None = None) -> date:
    """A date of birth for someone who gives only their age: the same day, `age` years ago."""
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year - age_years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - age_years, day=28)


def _clean_values(values: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    cleaned = {}
    for field, value in values.items():
        if field in PHONE_FIELDS:
            if value in (None, ""):
                value = ""
            else:
                e164 = to_e164(str(value))
                if e164 is None:
                    errors.setdefault(field, []).append(PHONE_ERROR)
                    continue
                value = e164
        elif field == "abha_number":
            value = normalise_abha_number(value or "")
        elif field == "abha_address":
            value = (value or "").strip().lower()
        elif field == "full_name":
            value = " ".join((value or "").split())
        elif field == "email":
            value = (value or "").strip().lower()
        elif isinstance(value, str):
            value = value.strip()
        elif value is None and field != "date_of_birth":
            value = ""
        cleaned[field] = value
    return cleaned


def _resolve_dob(
    values: dict[str, Any], age_years: int | None, errors: dict[str, list[str]]
) -> None:
    if values.get("date_of_birth") is not None or age_years is None:
        return
    if (
        not isinstance(age_years, int)
        or isinstance(age_years, bool)
        or not (0 <= age_years <= MAX_AGE_YEARS)
    ):
        errors.setdefault("age_years", []).append(
            f"Enter an age in whole years from 0 to {MAX_AGE_YEARS}."
        )
        return
    values["date_of_birth"] = estimated_dob(age_years)
    values["dob_estimated"] = True


def _validate(patient: Patient, errors: dict[str, list[str]]) -> None:
    try:
        patient.full_clean(
            exclude=["clinic", "number", "search_name", "created_by"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            if field == "phone" and patient.phone in ("", None) and "phone" in errors:
                continue
            errors.setdefault(field, []).extend(
                m for m in messages if m not in errors.get(field, [])
            )
    if errors:
        if "date_of_birth" in errors and "age_years" in errors:
            errors.pop("date_of_birth")
        raise ValidationFailed(errors)


def _field_errors(model: type, field: str, value: Any) -> list[str]:
    """The messages of the model field's own validators (length, hidden characters) for `value`."""
    try:
        model._meta.get_field(field).run_validators(value)
    except ValidationError as exc:
        return exc.messages
    return []


def _validated_guardian(patient: Patient, guardian: GuardianInput) -> Guardian:
    errors: dict[str, list[str]] = {}
    if guardian.relation not in Relation.values:
        errors["guardian_relation"] = ["Choose how the guardian is related to the patient."]
    record = Guardian(clinic_id=patient.clinic_id, patient=patient, relation=guardian.relation)
    if guardian.guardian_patient_id:
        other = Patient.objects.filter(pk=guardian.guardian_patient_id).first()
        if other is None:
            errors["guardian_patient"] = ["No such patient at this clinic."]
        elif other.pk == patient.pk:
            errors["guardian_patient"] = ["A patient cannot be their own guardian."]
        elif age_on(other.date_of_birth, timezone.localdate()) < ADULT_AGE:
            errors["guardian_patient"] = ["A guardian must be an adult (18 or older)."]
        else:
            record.guardian_patient = other
    else:
        name = " ".join((guardian.name or "").split())
        name_errors = (
            _field_errors(Guardian, "name", name)
            if name
            else ["Enter the guardian's name, or pick an existing patient."]
        )
        if name_errors:
            errors["guardian_name"] = name_errors
        phone = to_e164(guardian.phone or "")
        if not phone:
            errors["guardian_phone"] = ["Enter the guardian's phone number. " + PHONE_ERROR]
        record.name, record.phone = name, phone or ""
    if errors:
        raise ValidationFailed(errors)
    return record


def _require_guardian_for_minor(patient: Patient, has_guardian: bool) -> None:
    if patient.date_of_birth and patient.is_minor and not has_guardian:
        raise ValidationFailed(
            {"guardian": ["A patient under 18 needs a guardian: a parent or another adult."]}
        )


def _require_health_access(actor: Actor, clinic_id: int, fields: dict[str, Any]) -> None:
    """Refuse allergies or conditions from an actor who may not read clinical information.

    They could not read back or check what they typed, so it would be an unchecked alert on
    the record. Vaidya itself (demo data, imports) is not a role and is not refused.
    """
    sent = [name for name in HEALTH_FIELDS if fields.get(name)]
    if not sent or (actor is None):
        return
    if not resolve(actor, clinic_id=clinic_id).has(Perm.CLINICAL_VIEW):
        raise ValidationFailed({name: [HEALTH_NOT_ALLOWED] for name in sent})


@transaction.atomic
def patient_create(
    *,
    clinic: Clinic,
    actor: Actor,
    age_years: int | None = None,
    guardian: GuardianInput | None = None,
    confirm_duplicate: bool = False,
    registration: dict[str, Any] | None = None,
    **fields: Any,
) -> Patient:
    """Register a patient and give them the clinic's next patient number.

    Give `date_of_birth`, or `age_years` when only the age is known (an estimated date of birth
    is stored). Minors need a `guardian`. Raises `PossibleDuplicate` when a patient with a
    similar name (in either script) and the same phone or date of birth exists, unless
    `confirm_duplicate` is set.

    `registration` holds what other apps record in the same step (`patients.registration`,
    e.g. the WhatsApp consent), by step name; a step that fails cancels the registration.
    """
    unknown = set(fields) - set(EDITABLE_FIELDS)
    unknown_steps = set(registration or {}) - {step.name for step in registration_steps}
    if unknown_steps:
        raise DomainError(f"Unknown registration steps: {', '.join(sorted(unknown_steps))}")
    if unknown:
        raise DomainError(f"Unknown patient fields: {', '.join(sorted(unknown))}")
    _require_health_access(actor, clinic.pk, fields)
    errors: dict[str, list[str]] = {}
    values = _clean_values(fields, errors)
    _resolve_dob(values, age_years, errors)
    if values.get("date_of_birth") is None and "age_years" not in errors:
        errors.setdefault("date_of_birth", []).append("Enter the date of birth or the age.")
    patient = Patient(clinic=clinic, **values)
    patient.search_name = normalise_name(patient.full_name)
    _validate(patient, errors)
    guardian_record = _validated_guardian(patient, guardian) if guardian else None
    _require_guardian_for_minor(patient, guardian_record is not None)
    if not confirm_duplicate:
        matches = possible_duplicates(
            full_name=patient.full_name,
            phones=[str(patient.phone), str(patient.whatsapp_phone or "")],
            date_of_birth=None if patient.dob_estimated else patient.date_of_birth,
        )
        if matches:
            raise PossibleDuplicate(matches)
    patient.number = counter_next(clinic_id=clinic.pk, name="patient")
    patient.created_by = actor_user(actor)
    patient.save(force_insert=True)
    if guardian_record:
        guardian_record.patient = patient
        guardian_record.save(force_insert=True)
    audit_record(
        clinic=clinic,
        actor=actor,
        action=Actions.PATIENT_CREATED,
        target=patient,
        patient_id=patient.pk,
        data={"number": patient.number, "duplicate_confirmed": bool(confirm_duplicate)},
    )
    for step in registration_steps:
        if (registration or {}).get(step.name) is not None:
            step.record(patient=patient, data=registration[step.name], actor=actor)
    return patient


@transaction.atomic
def patient_update(
    *, patient: Patient, actor: Actor, age_years: int | None = None, **changes: Any
) -> Patient:
    """Change a patient's details. The audit event names the changed fields, not values."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(f"Unknown patient fields: {', '.join(sorted(unknown))}")
    _require_health_access(
        actor, patient.clinic_id, {f: True for f in HEALTH_FIELDS if f in changes}
    )
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if patient.is_archived:
        raise DomainError(
            "This patient is archived. Restore the record before editing it.", code="archived"
        )
    errors: dict[str, list[str]] = {}
    values = _clean_values(changes, errors)
    if age_years is not None and "date_of_birth" not in values:
        values["date_of_birth"] = None
    _resolve_dob(values, age_years, errors)
    if (
        "date_of_birth" in changes
        and "dob_estimated" not in values
        and values.get("date_of_birth") != patient.date_of_birth
    ):
        values["dob_estimated"] = False  # a date that was typed in replaces an estimate
    changed = []
    for field, value in values.items():
        current = getattr(patient, field)
        if (str(current) if current is not None else "") != (
            str(value) if value is not None else ""
        ):
            setattr(patient, field, value)
            changed.append(field)
    if not changed and not errors:
        return patient
    if "date_of_birth" in values and values["date_of_birth"] is None and "age_years" not in errors:
        errors.setdefault("date_of_birth", []).append("Enter the date of birth or the age.")
    patient.search_name = normalise_name(patient.full_name)
    _validate(patient, errors)
    _require_guardian_for_minor(patient, patient.guardians.exists())
    patient.save()
    audit_record(
        clinic=patient.clinic_id,
        actor=actor,
        action=Actions.PATIENT_UPDATED,
        target=patient,
        patient_id=patient.pk,
        data={"fields": sorted(f for f in changed if f != "dob_estimated")},
    )
    return patient


@transaction.atomic
def patient_archive(*, patient: Patient, actor: Actor) -> Patient:
    """Hide a patient from lists and search. Nothing is deleted; erasure is separate."""
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if patient.is_archived:
        return patient
    patient.archived_at = timezone.now()
    patient.save(update_fields=["archived_at", "updated_at"])
    audit_record(
        clinic=patient.clinic_id,
        actor=actor,
        action=Actions.PATIENT_ARCHIVED,
        target=patient,
        patient_id=patient.pk,
    )
    return patient


@transaction.atomic
def patient_restore(*, patient: Patient, actor: Actor) -> Patient:
    """Bring an archived patient back into lists and search."""
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if not patient.is_archived:
        return patient
    patient.archived_at = None
    patient.save(update_fields=["archived_at", "updated_at"])
    audit_record(
        clinic=patient.clinic_id,
        actor=actor,
        action=Actions.PATIENT_RESTORED,
        target=patient,
        patient_id=patient.pk,
    )
    return patient


@transaction.atomic
def guardian_add(*, patient: Patient, actor: Actor, guardian: GuardianInput) -> Guardian:
    """Link a guardian to a patient."""
    record = _validated_guardian(patient, guardian)
    record.save(force_insert=True)
    audit_record(
        clinic=patient.clinic_id,
        actor=actor,
        action=Actions.GUARDIAN_ADDED,
        target=record,
        patient_id=patient.pk,
        data={"relation": record.relation, "guardian_patient_id": record.guardian_patient_id},
    )
    return record


@transaction.atomic
def guardian_remove(*, guardian: Guardian, actor: Actor) -> None:
    """Unlink a guardian. A minor keeps at least one."""
    patient = Patient.objects.select_for_update().get(pk=guardian.patient_id)
    if patient.is_minor and patient.guardians.exclude(pk=guardian.pk).count() == 0:
        raise DomainError("A patient under 18 needs a guardian: add another one first.")
    audit_record(
        clinic=patient.clinic_id,
        actor=actor,
        action=Actions.GUARDIAN_REMOVED,
        target=guardian,
        patient_id=patient.pk,
    )
    guardian.delete()


def patient_record_view(*, patient: Patient, actor: Actor) -> None:
    """Record that a staff member (or an API key) opened a patient's record."""
    audit_record(
        clinic=patient.clinic_id,
        actor=actor,
        action=Actions.PATIENT_VIEWED,
        target=patient,
        patient_id=patient.pk,
    )
