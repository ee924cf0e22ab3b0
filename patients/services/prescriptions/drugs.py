"""The clinic's drug list, which the prescription form completes from."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from clinics.actors import Actor, require
from clinics.audit import Actions, audit_record
from clinics.errors import Conflict, DomainError, ValidationFailed
from clinics.models import Clinic
from clinics.roles import Perm
from patients.models import (
    Drug,
    DrugForm,
    FoodTiming,
    Route,
)
from patients.services.prescriptions._common import (
    DRUG_FIELDS,
    _amount,
    _choice,
    _drug_label,
    _duration,
    _frequency,
    _limit,
    _single_spaced,
    generic_name_normalised,
    strength_normalised,
)

ONLY_DOCTORS = "Only doctors can edit the drug list."


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
    require(actor, Perm.PRESCRIPTIONS_EDIT, clinic_id=clinic.pk, message=ONLY_DOCTORS)
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
    require(actor, Perm.PRESCRIPTIONS_EDIT, clinic_id=drug.clinic_id, message=ONLY_DOCTORS)
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
    require(actor, Perm.PRESCRIPTIONS_EDIT, clinic_id=drug.clinic_id, message=ONLY_DOCTORS)
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
    require(actor, Perm.PRESCRIPTIONS_EDIT, clinic_id=drug.clinic_id, message=ONLY_DOCTORS)
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


@transaction.atomic
def drug_reactivate(*, drug: Drug, actor: Actor) -> Drug:
    """Put a drug that was taken off the list back on it."""
    require(actor, Perm.PRESCRIPTIONS_EDIT, clinic_id=drug.clinic_id, message=ONLY_DOCTORS)
    drug = _locked_drug(drug)
    if drug.is_active:
        return drug
    drug.is_active = True
    drug.save(update_fields=["is_active"])
    audit_record(
        clinic=drug.clinic_id,
        actor=actor,
        action=Actions.DRUG_REACTIVATED,
        target=drug,
        data={"drug_id": drug.pk},
    )
    return drug
