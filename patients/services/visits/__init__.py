"""Writes for visits: opening a draft, notes, vitals, diagnoses, procedures, signing, amending.

Every service takes the acting user and their membership of the clinic, checks the role's
permission itself (assistants may open a draft, record vitals and draft the notes; only the
visit's doctor writes diagnoses, procedures and medicines and signs), locks the visit row, and
writes one audit event that names fields and ids but never clinical text. Callers run inside
the clinic's scope.

A signed visit is frozen. A correction is a new version (`visit_amend`): a draft copy of the
signed visit that points to it; signing the copy marks the earlier version superseded. Every
version stays readable.

Modules: `_common` (roles, messages, the permission check, the teleconsultation rules),
`drafting` (opening a visit, a whole draft at once), `notes`, `vitals`, `diagnoses` (and
procedures), `signing` (signing and amending).
"""

from patients.services.visits._common import (
    CANNOT_DRAFT,
    CANNOT_DRAFT_NOTES,
    CANNOT_EDIT,
    DOCTOR_ROLES,
    MINOR_TELECONSULTATION,
    NOTE_FIELDS,
    SIGNED_MESSAGE,
    TEXT_NOTE_FIELDS,
    not_the_visit_doctor,
)
from patients.services.visits.diagnoses import (
    diagnosis_add,
    diagnosis_remove,
    procedure_add,
    procedure_remove,
)
from patients.services.visits.drafting import visit_draft_create, visit_record_view, visit_start
from patients.services.visits.notes import FOLLOW_UP_MAX_YEARS, visit_update_notes
from patients.services.visits.saving import visit_save_draft
from patients.services.visits.signing import visit_amend, visit_sign
from patients.services.visits.vitals import (
    STORED_VITALS,
    VITAL_FIELDS,
    VITAL_RANGES,
    fahrenheit_to_celsius,
    vitals_record,
)

__all__ = [
    "CANNOT_DRAFT",
    "CANNOT_DRAFT_NOTES",
    "CANNOT_EDIT",
    "DOCTOR_ROLES",
    "FOLLOW_UP_MAX_YEARS",
    "MINOR_TELECONSULTATION",
    "NOTE_FIELDS",
    "SIGNED_MESSAGE",
    "STORED_VITALS",
    "TEXT_NOTE_FIELDS",
    "VITAL_FIELDS",
    "VITAL_RANGES",
    "diagnosis_add",
    "diagnosis_remove",
    "fahrenheit_to_celsius",
    "not_the_visit_doctor",
    "procedure_add",
    "procedure_remove",
    "visit_amend",
    "visit_draft_create",
    "visit_record_view",
    "visit_save_draft",
    "visit_sign",
    "visit_start",
    "visit_update_notes",
    "vitals_record",
]
