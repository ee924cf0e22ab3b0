"""A patient's allergies as structured entries: recorded and removed by clinical staff."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinics.actors import Actor, require
from clinics.audit import Actions, audit_record
from clinics.errors import Conflict, ValidationFailed
from clinics.roles import Perm
from patients.models import AllergySeverity, Patient, PatientAllergy
from patients.prescribing.classes import BY_KEY

ONLY_CLINICAL = "Only clinical staff (doctors and nurses) may record allergies."


def _single_spaced(value: str) -> str:
    return " ".join(str(value or "").split())


@transaction.atomic
def patient_allergy_add(
    *,
    patient: Patient,
    actor: Actor,
    substance: str = "",
    drug_class: str = "",
    reaction: str = "",
    severity: str = "",
    note: str = "",
) -> PatientAllergy:
    """Record an allergy: a substance (a generic name such as IBUPROFEN, or a food, latex ...)
    or a drug class (penicillins, NSAIDs ...), with the reaction and its severity. Every
    medicine prescribed afterwards is checked against it. Clinical staff only."""
    access = require(actor, Perm.CLINICAL_DRAFT, clinic_id=patient.clinic_id, message=ONLY_CLINICAL)
    entry = PatientAllergy(
        clinic_id=patient.clinic_id,
        patient=patient,
        substance=_single_spaced(substance),
        drug_class=drug_class or "",
        reaction=_single_spaced(reaction),
        severity=severity or "",
        note=(note or "").strip(),
        recorded_by=access.membership,
    )
    if entry.drug_class and entry.drug_class not in BY_KEY:
        raise ValidationFailed({"drug_class": ["Choose a drug class from the list."]})
    if entry.severity not in AllergySeverity.values:
        raise ValidationFailed({"severity": ["Choose how severe the reaction was."]})
    if not entry.substance and not entry.drug_class:
        raise ValidationFailed(
            {"substance": ["Enter what the patient is allergic to, or choose a drug class."]}
        )
    if entry.substance and entry.drug_class:
        raise ValidationFailed(
            {"drug_class": ["Record a substance or a drug class, one per entry."]}
        )
    try:
        entry.full_clean(exclude=["clinic", "patient", "recorded_by"])
    except ValidationError as exc:
        raise ValidationFailed(exc.message_dict) from exc
    entry.save()
    audit_record(
        clinic=patient.clinic_id,
        actor=actor,
        action=Actions.PATIENT_ALLERGY_ADDED,
        target=entry,
        patient_id=patient.pk,
        data={"allergy_id": entry.pk, "drug_class": entry.drug_class, "severity": entry.severity},
    )
    return entry


@transaction.atomic
def patient_allergy_remove(*, allergy: PatientAllergy, actor: Actor) -> PatientAllergy:
    """Take an allergy off the record (entered in error, or disproved). The entry is kept,
    marked removed, so the record shows what was known when."""
    require(actor, Perm.CLINICAL_DRAFT, clinic_id=allergy.clinic_id, message=ONLY_CLINICAL)
    allergy = PatientAllergy.objects.select_for_update().get(pk=allergy.pk)
    if allergy.removed_at is not None:
        raise Conflict("This allergy was already removed.")
    allergy.removed_at = timezone.now()
    allergy.save(update_fields=["removed_at"])
    audit_record(
        clinic=allergy.clinic_id,
        actor=actor,
        action=Actions.PATIENT_ALLERGY_REMOVED,
        target=allergy,
        patient_id=allergy.patient_id,
        data={"allergy_id": allergy.pk, "drug_class": allergy.drug_class},
    )
    return allergy
