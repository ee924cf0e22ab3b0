"""Reads of a patient's structured allergies. Callers check `clinical.view` first."""

from __future__ import annotations

from patients.models import PatientAllergy


def patient_allergies(patient_id: int) -> list[PatientAllergy]:
    """The patient's current allergies (removed ones left out), oldest first."""
    return list(
        PatientAllergy.objects.filter(patient_id=patient_id, removed_at__isnull=True).order_by(
            "recorded_at", "id"
        )
    )
