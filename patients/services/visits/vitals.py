"""A draft's vital signs: plausible ranges, cleaning each value, and recording them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinics.audit import Actions
from clinics.errors import DomainError, ValidationFailed
from clinics.models import Membership, User
from clinics.roles import Perm
from patients.models import Visit, Vitals
from patients.services.visits._common import CANNOT_DRAFT, _audit, _editable_visit


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


def _cleaned_vitals(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The values to store (°F given becomes °C), and a message for each implausible one."""
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
    return cleaned, errors


def _check_blood_pressure(vitals: Vitals, errors: dict[str, list[str]]) -> None:
    """Both BP values or neither, the diastolic below the systolic (unless one is already
    refused)."""
    if errors.keys() & {"bp_systolic", "bp_diastolic"}:
        return
    systolic, diastolic = vitals.bp_systolic, vitals.bp_diastolic
    if systolic is not None and diastolic is None:
        errors["bp_diastolic"] = ["Enter the diastolic BP too, or neither."]
    elif diastolic is not None and systolic is None:
        errors["bp_systolic"] = ["Enter the systolic BP too, or neither."]
    elif systolic is not None and diastolic >= systolic:
        errors["bp_diastolic"] = ["The diastolic BP must be lower than the systolic."]


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
    cleaned, errors = _cleaned_vitals(values)
    vitals = Vitals.objects.filter(visit=visit).first() or Vitals(
        clinic_id=visit.clinic_id, visit=visit
    )
    changed = [f for f in STORED_VITALS if f in cleaned and getattr(vitals, f) != cleaned[f]]
    for field in changed:
        setattr(vitals, field, cleaned[field])
    _check_blood_pressure(vitals, errors)
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
