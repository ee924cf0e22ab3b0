"""Writes for prescriptions: the clinic's drug list, items on a visit's prescription, and
doctors' prescription templates.

Every item goes through one check (`_checked_item`): the generic name in capitals, the
frequency parsed by `patients.dosing` (its structured schedule stored for reminders), the
quantity to dispense counted where it can be, and the rules a prescription must follow
(durations, no drug twice, no Schedule X or narcotic drug by teleconsultation). A signed visit
is frozen: only stopping a medicine is still allowed, because stopping does not edit the
record.

Each service runs in a transaction and writes one audit event. The audit data holds ids, codes
and field names, never drug names or free text.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from clinics.audit import Actions, audit_record
from clinics.errors import Conflict, DomainError, NotAllowed, ValidationFailed
from clinics.models import ApiKey, Clinic, Membership, User
from clinics.roles import Perm
from patients.dosing import Frequency, FrequencyError, parse_frequency, quantity_to_dispense
from patients.dosing import to_json as frequency_to_json
from patients.models import (
    Drug,
    DrugForm,
    FoodTiming,
    Prescription,
    PrescriptionItem,
    PrescriptionStatus,
    PrescriptionTemplate,
    Route,
    Visit,
    VisitMode,
    VisitStatus,
)

Actor = User | ApiKey | None

MAX_DURATION_DAYS = 365
MAX_TEMPLATE_ITEMS = 40
SIGNED_MESSAGE = "This visit is signed. Amend it to make a correction."
TELECONSULTATION_MESSAGE = (
    "{name} is a Schedule X or narcotic drug. The Telemedicine Practice Guidelines (2020) do "
    "not allow prescribing it by teleconsultation: see the patient in person."
)
STOP_REASONS: dict[str, str] = {
    "completed": "No longer needed",
    "side_effect": "Side effect",
    "not_effective": "Not working",
    "changed": "Changed to another medicine",
    "patient_request": "Patient's request",
    "other": "Other reason",
}
"""Why a medicine was stopped: a code, so that the audit trail never holds free text."""

DRUG_FIELDS = (
    "generic_name",
    "strength",
    "form",
    "route",
    "is_schedule_x",
    "is_narcotic",
    "is_favourite",
    "default_dose",
    "default_frequency",
    "default_duration_days",
    "default_timing",
)
ITEM_FIELDS = (
    "generic_name",
    "strength",
    "form",
    "route",
    "dose_amount",
    "dose_unit",
    "frequency",
    "duration_days",
    "timing",
    "instructions",
    "starts_on",
)
TEMPLATE_ITEM_FIELDS = ("drug", "drug_id", *(f for f in ITEM_FIELDS if f != "starts_on"))

_DIGIT_THEN_UNIT = re.compile(r"(\d)(?=[A-Za-zµμ])")
_LIMITS = {"generic_name": 200, "strength": 60, "dose_unit": 20, "instructions": 300}


# ---------------------------------------------------------------------------------------------
# Small cleaners


def _single_spaced(value: Any) -> str:
    return " ".join(str(value or "").split())


def generic_name_normalised(value: Any) -> str:
    """How generic names are kept: capitals, single spaces ("paracetamol " -> "PARACETAMOL")."""
    return _single_spaced(value).upper()


def strength_normalised(value: Any) -> str:
    """Single spaces and a space between number and unit ("500mg" -> "500 mg")."""
    return _DIGIT_THEN_UNIT.sub(r"\1 ", _single_spaced(value))


def _limit(field: str, value: str, errors: dict[str, list[str]]) -> None:
    if len(value) > _LIMITS[field]:
        errors.setdefault(field, []).append(f"Keep this under {_LIMITS[field]} characters.")


def _amount(
    value: Any, field: str, errors: dict[str, list[str]], *, required: bool
) -> Decimal | None:
    """A dose as an exact Decimal: more than zero, at most two decimal places. Never a float."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.setdefault(field, []).append("Enter the dose, for example 1 or 0.5.")
        return None
    if isinstance(value, float):
        errors.setdefault(field, []).append(
            "Give the dose as an exact number such as 1 or 0.5 (a Decimal or text), "
            "not a floating-point number."
        )
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        errors.setdefault(field, []).append("Enter the dose as a number, for example 1 or 0.5.")
        return None
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        errors.setdefault(field, []).append("Enter the dose as a number, for example 1 or 0.5.")
        return None
    if not amount.is_finite() or amount <= 0:
        errors.setdefault(field, []).append("The dose must be more than zero.")
        return None
    if amount != amount.quantize(Decimal("0.01")):
        errors.setdefault(field, []).append("Use at most two decimal places for the dose.")
        return None
    if amount >= 10000:
        errors.setdefault(field, []).append("That dose is too large. Check it.")
        return None
    return amount


def _duration(value: Any, field: str, errors: dict[str, list[str]]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors.setdefault(field, []).append("Enter the duration as a whole number of days.")
        return None
    if not 1 <= value <= MAX_DURATION_DAYS:
        errors.setdefault(field, []).append(f"Enter a duration from 1 to {MAX_DURATION_DAYS} days.")
        return None
    return value


def _frequency(value: Any, field: str, errors: dict[str, list[str]]) -> Frequency | None:
    try:
        return parse_frequency(value)
    except FrequencyError as exc:
        errors.setdefault(field, []).append(str(exc))
        return None


def _choice(value: Any, choices: Any, field: str, message: str, errors: dict) -> str:
    value = "" if value is None else value
    if value not in choices.values:
        errors.setdefault(field, []).append(message)
    return value


# ---------------------------------------------------------------------------------------------
# Permissions


def _require_perm(*, clinic_id: int, actor: Actor, perm: str, doing: str) -> Membership | None:
    """The actor's active membership (or API key) must have `perm` at the clinic."""
    if isinstance(actor, ApiKey):
        if actor.clinic_id == clinic_id and actor.has_perm(perm):
            return None
    elif isinstance(actor, User):
        membership = Membership.objects.filter(
            clinic_id=clinic_id, user=actor, is_active=True
        ).first()
        if membership is not None and membership.has_perm(perm):
            return membership
    raise NotAllowed(f"Only doctors can {doing}.")


def _require_visit_doctor(visit: Visit, actor: Actor, membership: Membership | None) -> None:
    """Writing on a prescription needs prescriptions.edit, and only the visit's doctor may."""
    if (
        membership is None
        or not isinstance(actor, User)
        or membership.user_id != actor.pk
        or membership.clinic_id != visit.clinic_id
        or not membership.has_perm(Perm.PRESCRIPTIONS_EDIT)
    ):
        raise NotAllowed("Only doctors can write prescriptions.")
    if membership.pk != visit.doctor_id:
        raise NotAllowed(
            "Only the doctor of this visit can change its prescription. "
            "Start your own visit to prescribe for this patient."
        )


def _require_template_owner(doctor: Membership, actor: Actor) -> None:
    if not doctor.is_active or not doctor.has_perm(Perm.PRESCRIPTIONS_EDIT):
        raise NotAllowed("Only doctors have prescription templates.")
    if not isinstance(actor, User) or doctor.user_id != actor.pk:
        raise NotAllowed("Doctors manage their own prescription templates.")


# ---------------------------------------------------------------------------------------------
# The drug list


def _drug_label(name: str, strength: str, form: str) -> str:
    form_label = DrugForm(form).label if form in DrugForm.values else form
    return " ".join(p for p in (name, strength, form_label) if p)


def _clean_drug(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned = dict(values)
    cleaned["generic_name"] = generic_name_normalised(values["generic_name"])
    if not cleaned["generic_name"]:
        errors["generic_name"] = ["Enter the generic name, for example PARACETAMOL."]
    _limit("generic_name", cleaned["generic_name"], errors)
    cleaned["strength"] = strength_normalised(values["strength"])
    _limit("strength", cleaned["strength"], errors)
    _choice(values["form"], DrugForm, "form", "Choose the form: tablet, syrup, ...", errors)
    _choice(values["route"], Route, "route", "Choose how it is taken.", errors)
    _choice(values["default_timing"], FoodTiming, "default_timing", "Choose a timing.", errors)
    cleaned["default_timing"] = values["default_timing"] or ""
    for flag in ("is_schedule_x", "is_narcotic", "is_favourite"):
        cleaned[flag] = bool(values[flag])
    dose = _amount(values["default_dose"], "default_dose", errors, required=False)
    cleaned["default_dose"] = dose
    cleaned["default_duration_days"] = _duration(
        values["default_duration_days"], "default_duration_days", errors
    )
    frequency_text = _single_spaced(values["default_frequency"])
    cleaned["default_frequency"] = ""
    if frequency_text:
        frequency = _frequency(frequency_text, "default_frequency", errors)
        if frequency is not None:
            cleaned["default_frequency"] = frequency.code
            if dose is not None and frequency.amounts_in_code and dose != 1:
                errors.setdefault("default_dose", []).append(
                    f"Frequency {frequency.code} already gives the amount for each dose; "
                    "set the default dose to 1."
                )
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _refuse_duplicate_drug(clinic_id: int, values: dict[str, Any], exclude_pk: int | None) -> None:
    clash = Drug.objects.filter(
        clinic_id=clinic_id,
        generic_name=values["generic_name"],
        strength__iexact=values["strength"],
        form=values["form"],
    )
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        label = _drug_label(values["generic_name"], values["strength"], values["form"])
        raise Conflict(
            f"{label} is already on the drug list. Edit that entry instead.",
            field="generic_name",
        )


def _save_drug(drug: Drug, values: dict[str, Any]) -> None:
    try:
        with transaction.atomic():
            drug.save()
    except IntegrityError as exc:  # a colleague added the same drug a moment ago
        label = _drug_label(values["generic_name"], values["strength"], values["form"])
        raise Conflict(
            f"{label} is already on the drug list. Edit that entry instead.",
            field="generic_name",
        ) from exc


@transaction.atomic
def drug_add(
    *,
    clinic: Clinic,
    actor: Actor,
    generic_name: str,
    strength: str = "",
    form: str,
    route: str,
    is_schedule_x: bool = False,
    is_narcotic: bool = False,
    is_favourite: bool = False,
    default_dose: Decimal | None = None,
    default_frequency: str = "",
    default_duration_days: int | None = None,
    default_timing: str = "",
) -> Drug:
    """Add a drug to the clinic's list. The generic name is kept in capitals; the same name,
    strength and form cannot be listed twice; a default frequency must be one Vaidya reads."""
    _require_perm(
        clinic_id=clinic.pk, actor=actor, perm=Perm.PRESCRIPTIONS_EDIT, doing="edit the drug list"
    )
    values = _clean_drug(
        {
            "generic_name": generic_name,
            "strength": strength,
            "form": form,
            "route": route,
            "is_schedule_x": is_schedule_x,
            "is_narcotic": is_narcotic,
            "is_favourite": is_favourite,
            "default_dose": default_dose,
            "default_frequency": default_frequency,
            "default_duration_days": default_duration_days,
            "default_timing": default_timing,
        }
    )
    _refuse_duplicate_drug(clinic.pk, values, exclude_pk=None)
    drug = Drug(clinic=clinic, **values)
    _save_drug(drug, values)
    audit_record(
        clinic=clinic,
        actor=actor,
        action=Actions.DRUG_ADDED,
        target=drug,
        data={
            "drug_id": drug.pk,
            "is_schedule_x": drug.is_schedule_x,
            "is_narcotic": drug.is_narcotic,
        },
    )
    return drug


def _locked_drug(drug: Drug) -> Drug:
    return Drug.objects.select_for_update().get(pk=drug.pk)


@transaction.atomic
def drug_update(*, drug: Drug, actor: Actor, **changes: Any) -> Drug:
    """Change a drug on the list. Items already prescribed keep what was written then."""
    unknown = set(changes) - set(DRUG_FIELDS)
    if unknown:
        raise DomainError(f"Unknown drug fields: {', '.join(sorted(unknown))}")
    _require_perm(
        clinic_id=drug.clinic_id,
        actor=actor,
        perm=Perm.PRESCRIPTIONS_EDIT,
        doing="edit the drug list",
    )
    drug = _locked_drug(drug)
    current = {field: getattr(drug, field) for field in DRUG_FIELDS}
    values = _clean_drug({**current, **changes})
    changed = sorted(f for f in DRUG_FIELDS if values[f] != current[f])
    if not changed:
        return drug
    if {"generic_name", "strength", "form"} & set(changed):
        _refuse_duplicate_drug(drug.clinic_id, values, exclude_pk=drug.pk)
    for field in changed:
        setattr(drug, field, values[field])
    _save_drug(drug, values)
    audit_record(
        clinic=drug.clinic_id,
        actor=actor,
        action=Actions.DRUG_UPDATED,
        target=drug,
        data={"drug_id": drug.pk, "fields": changed},
    )
    return drug


@transaction.atomic
def drug_set_favourite(*, drug: Drug, actor: Actor, is_favourite: bool) -> Drug:
    """Mark or unmark a drug as a favourite (favourites come first in the form's search)."""
    _require_perm(
        clinic_id=drug.clinic_id,
        actor=actor,
        perm=Perm.PRESCRIPTIONS_EDIT,
        doing="edit the drug list",
    )
    drug = _locked_drug(drug)
    if drug.is_favourite == bool(is_favourite):
        return drug
    drug.is_favourite = bool(is_favourite)
    drug.save(update_fields=["is_favourite"])
    audit_record(
        clinic=drug.clinic_id,
        actor=actor,
        action=Actions.DRUG_FAVOURITE_SET,
        target=drug,
        data={"drug_id": drug.pk, "is_favourite": drug.is_favourite},
    )
    return drug


@transaction.atomic
def drug_deactivate(*, drug: Drug, actor: Actor) -> Drug:
    """Take a drug off the list. Past prescriptions keep it; it is no longer offered."""
    _require_perm(
        clinic_id=drug.clinic_id,
        actor=actor,
        perm=Perm.PRESCRIPTIONS_EDIT,
        doing="edit the drug list",
    )
    drug = _locked_drug(drug)
    if not drug.is_active:
        return drug
    drug.is_active = False
    drug.save(update_fields=["is_active"])
    audit_record(
        clinic=drug.clinic_id,
        actor=actor,
        action=Actions.DRUG_DEACTIVATED,
        target=drug,
        data={"drug_id": drug.pk},
    )
    return drug


# ---------------------------------------------------------------------------------------------
# Checking one item


def _visit_date(visit: Visit) -> dt.date:
    """The visit's date in the clinic's time zone."""
    return timezone.localtime(visit.created_at, visit.clinic.tzinfo).date()


def _checked_item(
    raw: dict[str, Any], *, starts_on_default: dt.date | None, check_start: bool = True
) -> dict[str, Any]:
    """Validate one item's fields and compute its schedule and quantity.

    `raw` holds ITEM_FIELDS. Returns the PrescriptionItem field values, or raises
    ValidationFailed with a message per field. `starts_on_default` (the visit's date) is None
    for templates, which have no start date. `check_start` is off when an update leaves the
    start date alone: an item copied into an amendment keeps the first version's start.
    """
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    values["generic_name"] = generic_name_normalised(raw.get("generic_name"))
    if not values["generic_name"]:
        errors["generic_name"] = ["Enter the drug's generic name, for example PARACETAMOL."]
    _limit("generic_name", values["generic_name"], errors)
    values["strength"] = strength_normalised(raw.get("strength"))
    _limit("strength", values["strength"], errors)
    values["form"] = _choice(
        raw.get("form"), DrugForm, "form", "Choose the form: tablet, syrup, ...", errors
    )
    values["route"] = _choice(raw.get("route"), Route, "route", "Choose how it is taken.", errors)
    values["timing"] = _choice(
        raw.get("timing"), FoodTiming, "timing", "Choose before food, after food, ...", errors
    )
    values["dose_unit"] = _single_spaced(raw.get("dose_unit"))
    _limit("dose_unit", values["dose_unit"], errors)
    values["instructions"] = _single_spaced(raw.get("instructions"))
    _limit("instructions", values["instructions"], errors)
    amount = _amount(raw.get("dose_amount"), "dose_amount", errors, required=True)
    duration = _duration(raw.get("duration_days"), "duration_days", errors)
    frequency = _frequency(raw.get("frequency"), "frequency", errors)
    if frequency is not None:
        if raw.get("duration_days") is None and not (frequency.as_needed or frequency.once):
            errors.setdefault("duration_days", []).append(
                f"Enter for how many days to take it (1 to {MAX_DURATION_DAYS}). "
                "Only SOS and STAT medicines may be given without a duration."
            )
        if amount is not None and frequency.amounts_in_code and amount != 1:
            errors.setdefault("dose_amount", []).append(
                f"Frequency {frequency.code} already gives the amount for each dose; set the "
                "dose to 1, or write the times as 1-0-1 and put the amount in the dose."
            )
    starts_on = raw.get("starts_on")
    if starts_on_default is not None:
        if starts_on is None:
            starts_on = starts_on_default
        elif not isinstance(starts_on, dt.date) or isinstance(starts_on, dt.datetime):
            errors.setdefault("starts_on", []).append("Enter the start date as a date.")
        elif check_start and starts_on < starts_on_default:
            errors.setdefault("starts_on", []).append(
                "The medicine cannot start before the date of the visit."
            )
    if errors:
        raise ValidationFailed(errors)
    quantity = quantity_to_dispense(
        frequency, dose_amount=amount, duration_days=duration, form=values["form"]
    )
    if quantity is not None and quantity >= 1_000_000:
        raise ValidationFailed({"dose_amount": ["That adds up to too much to dispense. Check it."]})
    values.update(
        dose_amount=amount,
        frequency=frequency.code,
        schedule=frequency_to_json(frequency),
        duration_days=duration,
        quantity=quantity,
    )
    if starts_on_default is not None:
        values["starts_on"] = starts_on
    return values


def _with_drug_defaults(raw: dict[str, Any], drug: Drug) -> dict[str, Any]:
    """Name, strength, form and route from the drug; its defaults where nothing was given."""
    filled = dict(raw)
    filled.update(
        generic_name=drug.generic_name, strength=drug.strength, form=drug.form, route=drug.route
    )
    if not _single_spaced(filled.get("frequency")) and drug.default_frequency:
        filled["frequency"] = drug.default_frequency
    if filled.get("dose_amount") is None:
        filled["dose_amount"] = drug.default_dose or Decimal(1)
    if filled.get("timing") is None:
        filled["timing"] = drug.default_timing
    if filled.get("duration_days") is None and drug.default_duration_days:
        try:
            frequency = parse_frequency(filled.get("frequency"))
        except FrequencyError:
            frequency = None  # reported by the item check
        if frequency is None or not (frequency.as_needed or frequency.once):
            filled["duration_days"] = drug.default_duration_days
    return filled


def _without_drug_defaults(raw: dict[str, Any]) -> dict[str, Any]:
    filled = dict(raw)
    if filled.get("dose_amount") is None:
        filled["dose_amount"] = Decimal(1)
    if filled.get("timing") is None:
        filled["timing"] = ""
    return filled


def _item_key(values: dict[str, Any]) -> tuple[str, str, str]:
    return (values["generic_name"], values["strength"].casefold(), values["form"])


def _listed_drug(clinic_id: int, values: dict[str, Any]) -> Drug | None:
    """The active drug on the clinic's list that a typed-in item names, if any."""
    return (
        Drug.objects.filter(
            clinic_id=clinic_id,
            is_active=True,
            generic_name=values["generic_name"],
            strength__iexact=values["strength"],
            form=values["form"],
        )
        .order_by("id")
        .first()
    )


def _fresh_drug(drug: Drug) -> Drug:
    """The drug as it is now (it may have been taken off the list since the form opened)."""
    fresh = Drug.objects.filter(pk=drug.pk).first()
    if fresh is None:
        raise DomainError("Choose a drug from this clinic's list.", field="drug")
    return fresh


def _usable_drug(drug: Drug, clinic_id: int) -> Drug:
    if drug.clinic_id != clinic_id:
        raise DomainError("Choose a drug from this clinic's list.", field="drug")
    if not drug.is_active:
        raise DomainError(
            f"{drug} is no longer on the clinic's drug list. Choose another drug.", field="drug"
        )
    return drug


def _refuse_restricted(visit: Visit, values: dict[str, Any], drug: Drug | None) -> None:
    """No Schedule X or narcotic drug by teleconsultation, however it is typed in."""
    if visit.mode != VisitMode.TELECONSULTATION:
        return
    restricted = (drug is not None and drug.is_restricted_for_teleconsultation) or (
        Drug.objects.filter(clinic_id=visit.clinic_id, generic_name=values["generic_name"])
        .filter(Q(is_schedule_x=True) | Q(is_narcotic=True))
        .exists()
    )
    if restricted:
        raise DomainError(
            TELECONSULTATION_MESSAGE.format(name=values["generic_name"]),
            field="generic_name",
            code="teleconsultation_restricted",
        )


def _refuse_duplicate_item(
    values: dict[str, Any], taken: set[tuple[str, str, str]], where: str = "on this prescription"
) -> None:
    if _item_key(values) in taken:
        label = _drug_label(values["generic_name"], values["strength"], values["form"])
        raise Conflict(
            f"{label} is already {where}. Change that line instead.", field="generic_name"
        )


# ---------------------------------------------------------------------------------------------
# The prescription of a visit


def _locked_visit(visit_id: int) -> Visit:
    """The visit, re-read under a row lock: writes to one visit take turns, and a visit signed
    a moment ago is seen as signed."""
    return Visit.objects.select_related("clinic").select_for_update(of=("self",)).get(pk=visit_id)


def _refuse_signed(visit: Visit, prescription: Prescription | None) -> None:
    if (
        visit.status == VisitStatus.SIGNED
        or visit.superseded_at is not None
        or (prescription is not None and prescription.status == PrescriptionStatus.SIGNED)
    ):
        raise DomainError(SIGNED_MESSAGE, code="signed")


def _draft_prescription(visit: Visit) -> tuple[Prescription, bool]:
    """The visit's prescription, created if it has none. The visit must be locked."""
    prescription = Prescription.objects.filter(visit=visit).first()
    if prescription is not None:
        _refuse_signed(visit, prescription)
        return prescription, False
    _refuse_signed(visit, None)
    prescription = Prescription.objects.create(
        clinic_id=visit.clinic_id,
        visit=visit,
        patient_id=visit.patient_id,
        doctor_id=visit.doctor_id,
    )
    return prescription, True


@transaction.atomic
def prescription_for_visit(*, visit: Visit, actor: Actor) -> Prescription:
    """The visit's prescription; a draft one is created (for the visit's doctor) if it has none.

    Patient and doctor are the visit's. A signed visit without a prescription gets none: amend
    the visit to add one.
    """
    existing = Prescription.objects.filter(visit_id=visit.pk).first()
    if existing is not None:
        return existing
    membership = _require_perm(
        clinic_id=visit.clinic_id,
        actor=actor,
        perm=Perm.PRESCRIPTIONS_EDIT,
        doing="write prescriptions",
    )
    visit = _locked_visit(visit.pk)
    _require_visit_doctor(visit, actor, membership)
    prescription, created = _draft_prescription(visit)
    if created:
        audit_record(
            clinic=visit.clinic_id,
            actor=actor,
            action=Actions.PRESCRIPTION_CREATED,
            target=prescription,
            patient_id=visit.patient_id,
            data={"visit_id": visit.pk, "prescription_id": prescription.pk},
        )
    return prescription


def _taken_keys(prescription: Prescription, exclude_pk: int | None = None) -> set:
    rows = PrescriptionItem.objects.filter(prescription=prescription)
    if exclude_pk:
        rows = rows.exclude(pk=exclude_pk)
    return {
        (name, strength.casefold(), form)
        for name, strength, form in rows.values_list("generic_name", "strength", "form")
    }


def _next_position(prescription: Prescription) -> int:
    top = PrescriptionItem.objects.filter(prescription=prescription).aggregate(top=Max("position"))
    return (top["top"] or 0) + 1


def _prepared_item(
    visit: Visit, raw: dict[str, Any], drug: Drug | None, taken: set
) -> tuple[dict[str, Any], Drug | None]:
    """An item's checked values and its drug on the list, after every rule of one visit."""
    if drug is not None:
        drug = _usable_drug(drug, visit.clinic_id)
        raw = _with_drug_defaults(raw, drug)
    else:
        raw = _without_drug_defaults(raw)
    values = _checked_item(raw, starts_on_default=_visit_date(visit))
    if drug is None:
        drug = _listed_drug(visit.clinic_id, values)
    _refuse_duplicate_item(values, taken)
    _refuse_restricted(visit, values, drug)
    return values, drug


@transaction.atomic
def prescription_item_add(
    *,
    visit: Visit,
    actor: Actor,
    actor_membership: Membership,
    drug: Drug | None = None,
    generic_name: str = "",
    strength: str = "",
    form: str = "",
    route: str = Route.ORAL,
    dose_amount: Decimal | None = None,
    dose_unit: str = "",
    frequency: str = "",
    duration_days: int | None = None,
    timing: str | None = None,
    instructions: str = "",
    starts_on: dt.date | None = None,
) -> PrescriptionItem:
    """Add a medicine to the visit's draft prescription (created if needed).

    With `drug`, the name, strength, form and route come from the clinic's list, and its
    defaults fill the dose (when None), frequency (when empty), duration (when None, unless SOS
    or STAT) and timing (when None). Without it, the item is typed in and is linked to a
    matching drug on the list if there is one. The frequency is parsed into the stored
    schedule, the quantity counted (None when it cannot be), and `starts_on` defaults to the
    visit's date.
    """
    visit = _locked_visit(visit.pk)
    _require_visit_doctor(visit, actor, actor_membership)
    raw = {
        "generic_name": generic_name,
        "strength": strength,
        "form": form,
        "route": route,
        "dose_amount": dose_amount,
        "dose_unit": dose_unit,
        "frequency": frequency,
        "duration_days": duration_days,
        "timing": timing,
        "instructions": instructions,
        "starts_on": starts_on,
    }
    prescription, created = _draft_prescription(visit)
    if drug is not None:
        drug = _fresh_drug(drug)
    values, linked = _prepared_item(visit, raw, drug, _taken_keys(prescription))
    item = PrescriptionItem.objects.create(
        clinic_id=visit.clinic_id,
        prescription=prescription,
        drug=linked,
        position=_next_position(prescription),
        **values,
    )
    audit_record(
        clinic=visit.clinic_id,
        actor=actor,
        action=Actions.PRESCRIPTION_ITEM_ADDED,
        target=item,
        patient_id=visit.patient_id,
        data={
            "visit_id": visit.pk,
            "prescription_id": prescription.pk,
            "prescription_created": created,
            "drug_id": item.drug_id,
        },
    )
    return item


def _item_context(
    item: PrescriptionItem, actor: Actor, membership: Membership
) -> tuple[Visit, Prescription, PrescriptionItem]:
    prescription = Prescription.objects.get(pk=item.prescription_id)
    visit = _locked_visit(prescription.visit_id)
    item = PrescriptionItem.objects.select_for_update().get(pk=item.pk)
    _require_visit_doctor(visit, actor, membership)
    _refuse_signed(visit, prescription)
    return visit, prescription, item


@transaction.atomic
def prescription_item_update(
    *, item: PrescriptionItem, actor: Actor, actor_membership: Membership, **changes: Any
) -> PrescriptionItem:
    """Change an item on a draft prescription: the same rules as adding it. The schedule and
    quantity are computed again. Changing the name, strength or form re-links the item to the
    matching drug on the list (or to none)."""
    unknown = set(changes) - set(ITEM_FIELDS)
    if unknown:
        raise DomainError(f"Unknown prescription item fields: {', '.join(sorted(unknown))}")
    visit, prescription, item = _item_context(item, actor, actor_membership)
    raw = {field: getattr(item, field) for field in ITEM_FIELDS}
    raw.update(changes)
    values = _checked_item(
        _without_drug_defaults(raw),
        starts_on_default=_visit_date(visit),
        check_start="starts_on" in changes,
    )
    same_drug = _item_key(values) == (item.generic_name, item.strength.casefold(), item.form)
    drug = item.drug if item.drug_id and same_drug else None
    if drug is None:
        drug = _listed_drug(visit.clinic_id, values)
    _refuse_duplicate_item(values, _taken_keys(prescription, exclude_pk=item.pk))
    _refuse_restricted(visit, values, drug)
    changed = sorted(f for f, v in values.items() if getattr(item, f) != v and f != "schedule")
    if not changed and drug == item.drug:
        return item
    for field, value in values.items():
        setattr(item, field, value)
    item.drug = drug
    item.save()
    audit_record(
        clinic=visit.clinic_id,
        actor=actor,
        action=Actions.PRESCRIPTION_ITEM_UPDATED,
        target=item,
        patient_id=visit.patient_id,
        data={
            "visit_id": visit.pk,
            "prescription_id": prescription.pk,
            "drug_id": item.drug_id,
            "fields": changed,
        },
    )
    return item


@transaction.atomic
def prescription_item_remove(
    *, item: PrescriptionItem, actor: Actor, actor_membership: Membership
) -> None:
    """Take an item off a draft prescription."""
    visit, prescription, item = _item_context(item, actor, actor_membership)
    audit_record(
        clinic=visit.clinic_id,
        actor=actor,
        action=Actions.PRESCRIPTION_ITEM_REMOVED,
        target=item,
        patient_id=visit.patient_id,
        data={"visit_id": visit.pk, "prescription_id": prescription.pk, "drug_id": item.drug_id},
    )
    item.delete()


@transaction.atomic
def prescription_item_stop(
    *, item: PrescriptionItem, actor: Actor, reason: str
) -> PrescriptionItem:
    """Stop a medicine from now on (its reminders stop too). Allowed on signed prescriptions:
    stopping does not change what was prescribed. `reason` is a code from STOP_REASONS.

    Any doctor of the clinic may stop a medicine, not only the one who prescribed it: the
    patient's next doctor is often the one who stops it.
    """
    _require_perm(
        clinic_id=item.clinic_id,
        actor=actor,
        perm=Perm.PRESCRIPTIONS_EDIT,
        doing="stop a medicine",
    )
    if reason not in STOP_REASONS:
        raise ValidationFailed({"reason": ["Choose why the medicine is stopped."]})
    item = PrescriptionItem.objects.select_for_update().get(pk=item.pk)
    if item.stopped_at is not None:
        raise Conflict("This medicine was already stopped.")
    prescription = Prescription.objects.get(pk=item.prescription_id)
    item.stopped_at = timezone.now()
    item.save(update_fields=["stopped_at"])
    audit_record(
        clinic=item.clinic_id,
        actor=actor,
        action=Actions.PRESCRIPTION_ITEM_STOPPED,
        target=item,
        patient_id=prescription.patient_id,
        data={
            "visit_id": prescription.visit_id,
            "prescription_id": prescription.pk,
            "drug_id": item.drug_id,
            "reason": reason,
        },
    )
    return item


# ---------------------------------------------------------------------------------------------
# Templates


def _line_label(number: int, raw: dict[str, Any]) -> str:
    name = generic_name_normalised(raw.get("generic_name"))
    return f"Line {number} ({name})" if name else f"Line {number}"


def _flatten(prefix: str, exc: DomainError) -> list[str]:
    if isinstance(exc, ValidationFailed):
        return [f"{prefix}: {m}" for messages in exc.errors.values() for m in messages]
    return [f"{prefix}: {exc.message}"]


def _template_drugs(clinic_id: int, raws: list[dict[str, Any]]) -> dict[int, Drug]:
    ids = {r["drug_id"] for r in raws if isinstance(r.get("drug_id"), int)}
    return {d.pk: d for d in Drug.objects.filter(clinic_id=clinic_id, pk__in=ids)} if ids else {}


def _template_raw(entry: Any, number: int, errors: list[str]) -> dict[str, Any] | None:
    if not isinstance(entry, dict):
        errors.append(f"Line {number}: not a medicine.")
        return None
    unknown = set(entry) - set(TEMPLATE_ITEM_FIELDS)
    if unknown:
        errors.append(f"Line {number}: unknown fields {', '.join(sorted(unknown))}.")
        return None
    raw = dict(entry)
    drug = raw.pop("drug", None)
    if drug is not None:
        raw["drug_id"] = drug.pk if isinstance(drug, Drug) else drug
    raw.setdefault("route", Route.ORAL)
    return raw


def _stored_template_item(values: dict[str, Any], drug: Drug | None) -> dict[str, Any]:
    """Plain JSON: amounts as strings, no dates."""
    return {
        "drug_id": drug.pk if drug is not None else None,
        "generic_name": values["generic_name"],
        "strength": values["strength"],
        "form": values["form"],
        "route": values["route"],
        "dose_amount": format(values["dose_amount"].normalize(), "f"),
        "dose_unit": values["dose_unit"],
        "frequency": values["frequency"],
        "duration_days": values["duration_days"],
        "timing": values["timing"],
        "instructions": values["instructions"],
    }


@transaction.atomic
def prescription_template_save(
    *,
    doctor: Membership,
    actor: Actor,
    name: str,
    items: list[dict[str, Any]],
    template: PrescriptionTemplate | None = None,
) -> PrescriptionTemplate:
    """Save a doctor's template ("Viral fever, adult"): a new one, or replace `template`.

    Each item is a dict of prescription_item_add's fields (without `starts_on`), with `drug`
    or `drug_id` for a drug on the list. Every item is checked like a prescription item; any
    error refuses the whole template. Names are unique per doctor.
    """
    _require_template_owner(doctor, actor)
    if template is not None and template.doctor_id != doctor.pk:
        raise NotAllowed("Doctors manage their own prescription templates.")
    name = _single_spaced(name)
    if not name:
        raise ValidationFailed({"name": ["Give the template a name, for example Viral fever."]})
    if len(name) > 100:
        raise ValidationFailed({"name": ["Keep the name under 100 characters."]})
    if not isinstance(items, list) or not items:
        raise ValidationFailed({"items": ["Add at least one medicine to the template."]})
    if len(items) > MAX_TEMPLATE_ITEMS:
        raise ValidationFailed(
            {"items": [f"A template holds at most {MAX_TEMPLATE_ITEMS} medicines."]}
        )
    errors: list[str] = []
    raws = [_template_raw(entry, n, errors) for n, entry in enumerate(items, 1)]
    drugs = _template_drugs(doctor.clinic_id, [r for r in raws if r is not None])
    stored: list[dict[str, Any]] = []
    taken: set[tuple[str, str, str]] = set()
    for number, raw in enumerate(raws, 1):
        if raw is None:
            continue
        try:
            drug = None
            drug_id = raw.pop("drug_id", None)
            if drug_id is not None:
                drug = drugs.get(drug_id) if isinstance(drug_id, int) else None
                if drug is None:
                    raise DomainError("Choose a drug from this clinic's list.", field="drug")
                drug = _usable_drug(drug, doctor.clinic_id)
                raw = _with_drug_defaults(raw, drug)
            else:
                raw = _without_drug_defaults(raw)
            values = _checked_item(raw, starts_on_default=None)
            drug = drug or _listed_drug(doctor.clinic_id, values)
            _refuse_duplicate_item(values, taken, "in this template")
        except DomainError as exc:
            errors.extend(_flatten(_line_label(number, raw), exc))
            continue
        taken.add(_item_key(values))
        stored.append(_stored_template_item(values, drug))
    if errors:
        raise ValidationFailed({"items": errors})
    clash = PrescriptionTemplate.objects.filter(doctor=doctor, name__iexact=name)
    if template is not None:
        clash = clash.exclude(pk=template.pk)
    if clash.exists():
        raise Conflict(
            f"You already have a template named {name!r}. Choose another name.", field="name"
        )
    if template is None:
        template = PrescriptionTemplate(clinic_id=doctor.clinic_id, doctor=doctor)
    else:
        template = PrescriptionTemplate.objects.select_for_update().get(pk=template.pk)
    created = template.pk is None
    template.name, template.items = name, stored
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError as exc:
        raise Conflict(
            f"You already have a template named {name!r}. Choose another name.", field="name"
        ) from exc
    audit_record(
        clinic=doctor.clinic_id,
        actor=actor,
        action=Actions.PRESCRIPTION_TEMPLATE_SAVED,
        target=template,
        data={"template_id": template.pk, "created": created, "items": len(stored)},
    )
    return template


@transaction.atomic
def prescription_template_delete(*, template: PrescriptionTemplate, actor: Actor) -> None:
    """Delete one of the doctor's templates. Prescriptions made from it are not affected."""
    _require_template_owner(template.doctor, actor)
    audit_record(
        clinic=template.clinic_id,
        actor=actor,
        action=Actions.PRESCRIPTION_TEMPLATE_DELETED,
        target=template,
        data={"template_id": template.pk},
    )
    template.delete()


@transaction.atomic
def prescription_template_apply(
    *,
    template: PrescriptionTemplate,
    visit: Visit,
    actor: Actor,
    actor_membership: Membership,
) -> list[PrescriptionItem]:
    """Add all of a template's medicines to the visit's draft prescription, checked like
    single items. One refusal (a drug already on it, a drug taken off the list, a restricted
    drug at a teleconsultation) adds none. The doctor applies their own templates."""
    visit = _locked_visit(visit.pk)
    _require_visit_doctor(visit, actor, actor_membership)
    if template.doctor_id != actor_membership.pk or template.clinic_id != visit.clinic_id:
        raise NotAllowed("You can only use your own prescription templates.")
    prescription, created = _draft_prescription(visit)
    taken = _taken_keys(prescription)
    raws = [dict(entry) for entry in template.items]
    drugs = _template_drugs(visit.clinic_id, raws)
    errors: list[str] = []
    prepared: list[tuple[dict[str, Any], Drug | None]] = []
    for number, raw in enumerate(raws, 1):
        drug_id = raw.pop("drug_id", None)
        try:
            drug = None
            if drug_id is not None:
                drug = drugs.get(drug_id)
                if drug is None:
                    raise DomainError("This drug is no longer on the clinic's list.")
            values, linked = _prepared_item(visit, raw, drug, taken)
        except DomainError as exc:
            errors.extend(_flatten(_line_label(number, raw), exc))
            continue
        taken.add(_item_key(values))
        prepared.append((values, linked))
    if errors:
        raise ValidationFailed({"items": errors}, message="The template could not be added.")
    position = _next_position(prescription)
    items = PrescriptionItem.objects.bulk_create(
        PrescriptionItem(
            clinic_id=visit.clinic_id,
            prescription=prescription,
            drug=linked,
            position=position + offset,
            **values,
        )
        for offset, (values, linked) in enumerate(prepared)
    )
    audit_record(
        clinic=visit.clinic_id,
        actor=actor,
        action=Actions.PRESCRIPTION_TEMPLATE_APPLIED,
        target=prescription,
        patient_id=visit.patient_id,
        data={
            "visit_id": visit.pk,
            "prescription_id": prescription.pk,
            "prescription_created": created,
            "template_id": template.pk,
            "items": len(items),
        },
    )
    return items
