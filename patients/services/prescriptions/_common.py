"""What every prescription service shares: input cleaning, item checks, permissions."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q
from django.utils import timezone

from clinics.actors import Actor
from clinics.errors import Conflict, DomainError, NotAllowed, ValidationFailed
from clinics.models import Membership, User
from clinics.roles import Perm
from patients.dosing import Frequency, FrequencyError, parse_frequency, quantity_to_dispense
from patients.dosing import to_json as frequency_to_json
from patients.dosing.lines import parse_amount
from patients.models import (
    Drug,
    DrugForm,
    FoodTiming,
    Prescription,
    PrescriptionStatus,
    Route,
    Visit,
    VisitMode,
    VisitStatus,
)

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
        # Text as doctors write it: "1", "0.5", "1/2", "½", "1½".
        amount = parse_amount(value) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, ValueError):
        errors.setdefault(field, []).append(
            "Enter the dose as a number, for example 1, 0.5, 1/2 or ½."
        )
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


def _drug_label(name: str, strength: str, form: str) -> str:
    form_label = DrugForm(form).label if form in DrugForm.values else form
    return " ".join(p for p in (name, strength, form_label) if p)
