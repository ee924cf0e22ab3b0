"""Writes for patients and their care. Each service runs in a transaction and audits itself.

Modules: `patients` (registration, guardians), `appointments` (working hours, leave, booking
and the queue), `visits` (notes, vitals, diagnoses, signing and amending), `prescriptions`
(drug list, templates, items).
"""

from patients.services.patients import (
    EDITABLE_FIELDS,
    MAX_AGE_YEARS,
    GuardianInput,
    PossibleDuplicate,
    estimated_dob,
    guardian_add,
    guardian_remove,
    patient_archive,
    patient_create,
    patient_record_view,
    patient_restore,
    patient_update,
)

__all__ = [
    "EDITABLE_FIELDS",
    "MAX_AGE_YEARS",
    "GuardianInput",
    "PossibleDuplicate",
    "estimated_dob",
    "guardian_add",
    "guardian_remove",
    "patient_archive",
    "patient_create",
    "patient_record_view",
    "patient_restore",
    "patient_update",
]
