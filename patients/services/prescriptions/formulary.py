"""Loading a formulary into a clinic's drug list: the starter formulary when a clinic is
created, and a CSV an owner imports (all rows or none)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from clinics.actors import Actor, require
from clinics.audit import Actions, audit_record
from clinics.errors import ValidationFailed
from clinics.models import Clinic
from clinics.roles import Perm
from patients.models import Drug, DrugBrand, DrugForm, Route
from patients.prescribing.formulary import (
    FormularyRow,
    brand_key,
    parse_formulary,
    shipped_formulary,
)
from patients.services.prescriptions._common import strength_normalised

MAX_IMPORT_BYTES = 2 * 1024 * 1024


def _load(clinic: Clinic, rows: Sequence[FormularyRow]) -> tuple[int, int]:
    """Add the rows that are not on the list and refresh the ATC code, doses and brands of
    those that are (same generic name, strength and form). Returns (added, updated)."""
    existing = {
        (d.generic_name, d.strength.casefold(), d.form): d
        for d in Drug.objects.filter(clinic=clinic)
    }
    new: list[Drug] = []
    updated: list[Drug] = []
    brands: dict[int, tuple[str, ...]] = {}
    for row in rows:
        strength = strength_normalised(row.strength)
        drug = existing.get((row.generic_name, strength.casefold(), row.form))
        if drug is None:
            drug = Drug(clinic=clinic, generic_name=row.generic_name, strength=strength)
            drug.form, drug.route = row.form, row.route
            new.append(drug)
        else:
            updated.append(drug)
        drug.atc_code, drug.usual_adult_dose = row.atc_code, row.usual_adult_dose
        drug.max_daily_dose_mg, drug.brand_names = row.max_daily_dose_mg, "; ".join(row.brand_names)
        brands[id(drug)] = row.brand_names
    Drug.objects.bulk_create(new, batch_size=500)
    Drug.objects.bulk_update(
        updated,
        ["atc_code", "usual_adult_dose", "max_daily_dose_mg", "brand_names"],
        batch_size=500,
    )
    DrugBrand.objects.filter(drug__in=updated).delete()
    DrugBrand.objects.bulk_create(
        (
            DrugBrand(clinic=clinic, drug=drug, name=name, key=brand_key(name))
            for drug in (*new, *updated)
            for name in brands[id(drug)]
        ),
        batch_size=1000,
    )
    return len(new), len(updated)


def formulary_starter_load(*, clinic: Clinic) -> int:
    """Put the starter formulary on a new clinic's drug list; returns how many drugs. Part of
    creating the clinic (its audit event records that), so it writes none of its own."""
    added, _ = _load(clinic, shipped_formulary())
    return added


@transaction.atomic
def formulary_import(*, clinic: Clinic, actor: Actor, text: str) -> tuple[int, int]:
    """Import a formulary CSV into the clinic's drug list: every row is checked first and any
    bad row refuses the whole file (ValidationFailed lists each line's problem), so nothing is
    half-imported. Returns (added, updated). Owners only; `actor` None is Vaidya itself (the
    `import_formulary` command an operator runs)."""
    if actor is not None:
        require(
            actor,
            Perm.SETTINGS_EDIT,
            clinic_id=clinic.pk,
            message="Only the clinic's owner can import a formulary.",
        )
    if len(text.encode("utf-8")) > MAX_IMPORT_BYTES:
        raise ValidationFailed({"file": ["The file is too large (at most 2 MB)."]})
    rows, errors = parse_formulary(text, forms=set(DrugForm.values), routes=set(Route.values))
    if not errors and not rows:
        errors = ["The file has no drugs in it."]
    if errors:
        raise ValidationFailed({"file": errors}, message="Nothing was imported.")
    added, updated = _load(clinic, rows)
    audit_record(
        clinic=clinic,
        actor=actor,
        action=Actions.FORMULARY_IMPORTED,
        target=clinic,
        data={"added": added, "updated": updated},
    )
    return added, updated
