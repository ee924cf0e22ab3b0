"""Reads for patients and their care, with their joins in one place.

Modules: `patients` (lists, search, duplicates, the record), `appointments` (doctors' hours,
free slots, the day and the queue).
"""

from patients.selectors.patients import (
    GUARDIAN_COLUMNS,
    PatientNotFound,
    names_similar,
    patient_detail,
    patient_list,
    patient_or_404,
    patient_with_guardians,
    possible_duplicates,
)

__all__ = [
    "GUARDIAN_COLUMNS",
    "PatientNotFound",
    "names_similar",
    "patient_detail",
    "patient_list",
    "patient_or_404",
    "patient_with_guardians",
    "possible_duplicates",
]
