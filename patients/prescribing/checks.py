"""The checks a medicine goes through before it is added to a prescription.

`check_item(allergies=, current=, candidate=)` is a pure function: the patient's allergies,
the medicines already on the prescription and the one being added, as plain facts, give a list
of findings. Every finding of today's checks stops the add until the doctor gives a reason:

- `allergy`: the medicine, or one of its ingredients, is a substance the patient is allergic
  to, is in a drug class they are allergic to, or is in the same allergy class as a drug they
  are allergic to (IBUPROFEN allergy, DICLOFENAC prescribed);
- `duplicate_ingredient` / `duplicate_class`: an ingredient, or a drug class where two at once
  is duplicate therapy, is already on the prescription;
- `over_max_dose`: the daily dose is above the drug's maximum, where the list knows it.

The checks cover the clinic's drug list, the shipped formulary's generic names and the classes
in `patients.prescribing.classes`; they are not an interaction checker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from patients.prescribing.classes import BY_KEY, DRUG_CLASSES, class_label, classes_of
from patients.prescribing.formulary import components, generic_atc_codes

COVERAGE_NOTE = (
    "Vaidya checks each medicine against the patient's recorded allergies by generic name and "
    "by drug class (NSAIDs, penicillins, cephalosporins, sulfonamides, macrolides, "
    "fluoroquinolones, opioids and the other classes on the clinic's list), for two medicines "
    "of one class, and for a daily dose above the maximum where the drug list knows it. It "
    "covers the clinic's drug list and those classes only, not every interaction."
)
_STRENGTH = re.compile(r"^(\d+(?:\.\d+)?)\s*(mg|g|mcg|µg)$", re.IGNORECASE)
_LIQUID = re.compile(r"^(\d+(?:\.\d+)?)\s*(mg|g|mcg|µg)\s*/\s*(\d+(?:\.\d+)?)\s*ml$", re.I)
_TO_MG = {"mg": Decimal(1), "g": Decimal(1000), "mcg": Decimal("0.001"), "µg": Decimal("0.001")}


@dataclass(frozen=True)
class AllergyFact:
    """One allergy: a substance (a generic name or anything typed) or a drug class key."""

    substance: str = ""
    drug_class: str = ""
    reaction: str = ""
    severity: str = ""
    entry_id: int | None = None

    @property
    def label(self) -> str:
        return self.substance or class_label(self.drug_class)


@dataclass(frozen=True)
class MedicineFact:
    generic_name: str
    atc_codes: frozenset[str] = field(default_factory=frozenset)
    daily_dose_mg: Decimal | None = None
    max_daily_dose_mg: Decimal | None = None

    @property
    def ingredients(self) -> list[str]:
        return components(self.generic_name)

    @property
    def classes(self) -> set[str]:
        return classes_of(self.atc_codes)


@dataclass(frozen=True)
class Finding:
    code: str
    subject: str
    message: str
    stops: bool = True

    @property
    def key(self) -> str:
        """What the audit trail and the item record: "allergy:nsaids", never free text."""
        return f"{self.code}:{self.subject}" if self.subject else self.code


def atc_codes_for(generic_name: str, *atc_codes: str) -> frozenset[str]:
    """The medicine's own ATC codes, the formulary's for its name, and those of each of its
    ingredients."""
    known = generic_atc_codes()
    parts = components(generic_name)
    codes = {c.upper() for c in atc_codes if c} | known.get(" + ".join(parts), frozenset())
    for ingredient in parts:
        codes |= known.get(ingredient, frozenset())
    return frozenset(codes)


def _mg(amount: str, unit: str) -> Decimal:
    return Decimal(amount) * _TO_MG[unit.lower()]


def mg_per_unit(strength: str, dose_unit: str) -> Decimal | None:
    """Milligrams in one unit of the dose: "500 mg" per tablet, "250 mg/5 ml" per ml (when the
    dose is in ml). None for combinations, percentages and anything else."""
    text = " ".join((strength or "").split())
    single = _STRENGTH.match(text)
    if single and dose_unit.strip().lower() not in ("ml", "drops", "drop"):
        return _mg(single.group(1), single.group(2))
    liquid = _LIQUID.match(text)
    if liquid and dose_unit.strip().lower() == "ml":
        return _mg(liquid.group(1), liquid.group(2)) / Decimal(liquid.group(3))
    return None


def daily_dose_mg(
    *, strength: str, dose_unit: str, dose_amount: Decimal, schedule: dict
) -> Decimal | None:
    """The most taken on one dosing day, in mg, from the stored schedule; None when unknown
    (SOS, a strength that is not a single amount)."""
    per_unit = mg_per_unit(strength, dose_unit)
    if per_unit is None or not isinstance(schedule, dict):
        return None
    try:
        if schedule.get("once"):
            units = Decimal(dose_amount)
        else:
            doses = schedule.get("doses") or []
            units = sum((Decimal(str(d.get("amount", 1))) for d in doses), Decimal(0))
            units *= Decimal(dose_amount)
    except (InvalidOperation, TypeError, AttributeError):
        return None
    return per_unit * units if units else None


def _allergy_findings(allergy: AllergyFact, candidate: MedicineFact) -> Iterable[Finding]:
    reaction = ", ".join(p for p in (allergy.reaction, allergy.severity) if p)
    noted = f" ({reaction})" if reaction else ""
    name = candidate.generic_name
    if allergy.drug_class:
        drug_class = BY_KEY.get(allergy.drug_class)
        if drug_class is not None and any(drug_class.covers(c) for c in candidate.atc_codes):
            yield Finding(
                "allergy",
                allergy.drug_class,
                f"Allergy: the patient is allergic to {drug_class.label}{noted}. "
                f"{name} is one of them.",
            )
        return
    substance = " ".join(allergy.substance.upper().split())
    if not substance:
        return
    for ingredient in candidate.ingredients:
        if ingredient == substance or re.search(rf"\b{re.escape(substance)}\b", ingredient):
            yield Finding(
                "allergy",
                ingredient,
                f"Allergy: the patient is allergic to {allergy.substance}{noted}. "
                f"{name} {'is' if ingredient == name else 'contains'} {ingredient}.",
            )
            return
    related = classes_of(generic_atc_codes().get(substance, frozenset())) & candidate.classes
    for key in sorted(k for k in related if BY_KEY[k].allergy):
        yield Finding(
            "allergy",
            key,
            f"Allergy: the patient is allergic to {allergy.substance}{noted}, one of the "
            f"{BY_KEY[key].label}. {name} is in the same class.",
        )


def _duplicate_findings(
    current: Sequence[MedicineFact], candidate: MedicineFact
) -> Iterable[Finding]:
    for other in current:
        shared = [i for i in candidate.ingredients if i in other.ingredients]
        for ingredient in shared:
            yield Finding(
                "duplicate_ingredient",
                ingredient,
                f"Duplicate: {ingredient} is already on this prescription ({other.generic_name}).",
            )
        if shared:
            continue
        for drug_class in DRUG_CLASSES:
            if (
                drug_class.duplicate
                and drug_class.key in candidate.classes
                and drug_class.key in other.classes
            ):
                yield Finding(
                    "duplicate_class",
                    drug_class.key,
                    f"Duplicate therapy: {candidate.generic_name} and {other.generic_name} are "
                    f"both {drug_class.label}.",
                )


def check_item(
    *,
    allergies: Sequence[AllergyFact],
    current: Sequence[MedicineFact],
    candidate: MedicineFact,
) -> list[Finding]:
    """Every finding for `candidate`, once each (by key), allergies first."""
    found: dict[str, Finding] = {}
    for allergy in allergies:
        for finding in _allergy_findings(allergy, candidate):
            found.setdefault(finding.key, finding)
    for finding in _duplicate_findings(current, candidate):
        found.setdefault(finding.key, finding)
    top, dose = candidate.max_daily_dose_mg, candidate.daily_dose_mg
    if top is not None and dose is not None and dose > top:
        found.setdefault(
            "over_max_dose",
            Finding(
                "over_max_dose",
                "",
                f"Dose above the maximum: {_mg_text(dose)} mg a day of {candidate.generic_name}; "
                f"the most is {_mg_text(top)} mg a day.",
            ),
        )
    return list(found.values())


def _mg_text(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.01")).normalize(), "f")
