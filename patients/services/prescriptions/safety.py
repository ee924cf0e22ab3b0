"""The safety checks on the way into a prescription: the facts the pure checks need
(`patients.prescribing.checks`), gathered once per write, and the doctor's override.

A finding stops the add with `PrescribingCheckFailed` unless the doctor gives a reason; the
reason and the findings' keys are stored on the item. Several items at once (a template, the
last prescription repeated) are reviewed line by line: `ReviewNeeded` lists each line's
findings, and the doctor answers per line with a reason or leaves the line out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from clinics.errors import DomainError, ValidationFailed
from clinics.validators import hidden_character
from patients.models import Drug, PatientAllergy, Prescription, PrescriptionItem, Visit
from patients.prescribing.allergy_text import read_allergies
from patients.prescribing.checks import (
    AllergyFact,
    Finding,
    MedicineFact,
    atc_codes_for,
    check_item,
    daily_dose_mg,
)
from patients.prescribing.classes import BY_KEY
from patients.prescribing.formulary import generic_atc_codes

MAX_OVERRIDE_REASON = 300
NO_OVERRIDE = {"override_reason": "", "override_findings": []}


class PrescribingCheckFailed(DomainError):
    """A medicine the checks stopped: `findings` say why. Safe to show."""

    code = "prescribing_check"

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        super().__init__(
            " ".join(f.message for f in findings)
            + " To prescribe it anyway, give your reason: it is kept on the prescription.",
            field="override_reason",
        )


@dataclass(frozen=True)
class ReviewLine:
    number: int
    label: str
    findings: list[Finding]


class ReviewNeeded(DomainError):
    """Several medicines at once, some stopped by the checks: each needs a reason or to be left
    out before any is added."""

    code = "prescribing_check"

    def __init__(self, lines: list[ReviewLine]):
        self.lines = lines
        super().__init__(
            "Review these medicines before they are added: "
            + " ".join(f"Line {ln.number} ({ln.label}): " + _joined(ln.findings) for ln in lines)
        )


def _joined(findings: list[Finding]) -> str:
    return " ".join(f.message for f in findings)


def audit_codes(keys: list[str]) -> list[str]:
    """Finding keys for the audit trail: codes and class keys, never a typed name."""
    codes = []
    for key in keys:
        code, _, subject = key.partition(":")
        codes.append(key if subject in BY_KEY else code)
    return sorted(set(codes))


def override_reason_cleaned(reason: Any) -> str:
    text = " ".join(str(reason or "").split())
    if len(text) > MAX_OVERRIDE_REASON:
        raise ValidationFailed(
            {"override_reason": [f"Keep the reason under {MAX_OVERRIDE_REASON} characters."]}
        )
    if hidden_character(text):
        raise ValidationFailed(
            {"override_reason": ["The reason contains an invisible character. Type it again."]}
        )
    return text


def _fact(
    generic_name: str, drug: Drug | None, *, strength: str, dose_unit: str, dose_amount, schedule
) -> MedicineFact:
    return MedicineFact(
        generic_name=generic_name,
        atc_codes=atc_codes_for(generic_name, drug.atc_code if drug is not None else ""),
        daily_dose_mg=daily_dose_mg(
            strength=strength,
            dose_unit=dose_unit,
            dose_amount=Decimal(dose_amount),
            schedule=schedule,
        ),
        max_daily_dose_mg=drug.max_daily_dose_mg if drug is not None else None,
    )


def medicine_fact(values: dict[str, Any], drug: Drug | None) -> MedicineFact:
    return _fact(
        values["generic_name"],
        drug,
        strength=values["strength"],
        dose_unit=values["dose_unit"],
        dose_amount=values["dose_amount"],
        schedule=values["schedule"],
    )


def item_fact(item: PrescriptionItem) -> MedicineFact:
    return _fact(
        item.generic_name,
        item.drug,
        strength=item.strength,
        dose_unit=item.dose_unit,
        dose_amount=item.dose_amount,
        schedule=item.schedule,
    )


def patient_allergy_facts(patient_id: int, free_text: str) -> list[AllergyFact]:
    """The patient's recorded allergies, and what the free text on the record names."""
    facts = [
        AllergyFact(
            substance=a.substance,
            drug_class=a.drug_class,
            reaction=a.reaction,
            severity=a.get_severity_display() if a.severity else "",
            entry_id=a.pk,
        )
        for a in PatientAllergy.objects.filter(patient_id=patient_id, removed_at__isnull=True)
    ]
    for read in read_allergies(free_text, generic_atc_codes().keys()):
        fact = AllergyFact(substance=read.substance, drug_class=read.drug_class)
        if not any(
            (f.substance.upper(), f.drug_class) == (fact.substance.upper(), fact.drug_class)
            for f in facts
        ):
            facts.append(fact)
    return facts


@dataclass
class Safety:
    """What one write checks against: the patient's allergies and the medicines already on the
    prescription (items added in the same write are appended as they are prepared)."""

    allergies: list[AllergyFact]
    current: list[MedicineFact] = field(default_factory=list)

    @classmethod
    def for_visit(
        cls, visit: Visit, prescription: Prescription | None, exclude_pk: int | None = None
    ) -> Safety:
        patient = visit.patient
        current: list[MedicineFact] = []
        if prescription is not None and prescription.pk:
            items = PrescriptionItem.objects.filter(
                prescription=prescription, stopped_at__isnull=True
            ).select_related("drug")
            if exclude_pk:
                items = items.exclude(pk=exclude_pk)
            current = [item_fact(item) for item in items]
        return cls(patient_allergy_facts(patient.pk, patient.allergies), current)

    def review(
        self,
        values: dict[str, Any],
        drug: Drug | None,
        override_reason: Any = "",
        kept: tuple[str, list[str]] = ("", []),
    ) -> dict[str, Any]:
        """The item's override fields, or PrescribingCheckFailed. `kept` is the reason and the
        finding keys the doctor already overrode on this item: the same findings keep it."""
        candidate = medicine_fact(values, drug)
        findings = check_item(allergies=self.allergies, current=self.current, candidate=candidate)
        self.current.append(candidate)
        if not findings:
            return dict(NO_OVERRIDE)
        keys = [f.key for f in findings]
        reason = override_reason_cleaned(override_reason)
        if not reason:
            kept_reason, kept_keys = kept
            if kept_reason and set(keys) <= set(kept_keys):
                return {"override_reason": kept_reason, "override_findings": keys}
            raise PrescribingCheckFailed(findings)
        return {"override_reason": reason, "override_findings": keys}
