"""The rights desk's rules, without the database: which status may follow which, when an
answer is due, and which fields a correction may touch (and who approves it)."""

from __future__ import annotations

from datetime import datetime, timedelta

from clinics.roles import Perm
from compliance.rights.models import RightsKind, RightsStatus
from patients.services.visits import TEXT_NOTE_FIELDS

S = RightsStatus
# The law's outer limit (DPDP Rules) and the clinic's default target.
LIMIT_DAYS = 90
DEFAULT_TARGET_DAYS = 7
# IMC regulations 2002, reg. 1.3.2: copies of medical records within 72 hours.
RECORDS_COPY_HOURS = 72
# The owner is reminded this long before the due time (or at once when less is left).
REMIND_BEFORE = timedelta(hours=24)

TRANSITIONS: dict[str, frozenset[str]] = {
    S.RECEIVED: frozenset({S.VERIFYING, S.IN_PROGRESS, S.REFUSED, S.WITHDRAWN}),
    S.VERIFYING: frozenset({S.IN_PROGRESS, S.REFUSED, S.WITHDRAWN}),
    S.IN_PROGRESS: frozenset({S.AWAITING_APPROVAL, S.DONE, S.REFUSED, S.WITHDRAWN}),
    S.AWAITING_APPROVAL: frozenset({S.IN_PROGRESS, S.DONE, S.REFUSED, S.WITHDRAWN}),
    S.DONE: frozenset(),
    S.REFUSED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
# Statuses that answer the requester: they need a reply naming the privacy contact.
ANSWERS = frozenset({S.DONE, S.REFUSED})
CLOSED = frozenset({S.DONE, S.REFUSED, S.WITHDRAWN})


def may_move(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, frozenset())


def target_days(clinic_target: int | None) -> int:
    """The clinic's target in days, within 1 and the 90-day ceiling."""
    days = clinic_target or DEFAULT_TARGET_DAYS
    return max(1, min(int(days), LIMIT_DAYS))


def due_at(*, received_at: datetime, clinic_target: int | None, records_copy: bool) -> datetime:
    """When the answer is due: the clinic's target, or 72 hours for copies of medical records
    when that is sooner."""
    due = received_at + timedelta(days=target_days(clinic_target))
    if records_copy:
        due = min(due, received_at + timedelta(hours=RECORDS_COPY_HOURS))
    return due


def copies_records(kind: str, records_copy: bool) -> bool:
    """Whether the 72-hour rule applies: a portability request always hands over copies."""
    return kind == RightsKind.PORTABILITY or (kind == RightsKind.ACCESS and records_copy)


# --- corrections --------------------------------------------------------------------------------
# Fields of the patient's record a correction may change, by who approves it.
CONTACT_FIELDS = (
    "phone",
    "whatsapp_phone",
    "email",
    "address",
    "city",
    "pincode",
    "state_code",
    "emergency_contact_name",
    "emergency_contact_relation",
    "emergency_contact_phone",
)
DEMOGRAPHIC_FIELDS = ("full_name", "date_of_birth", "sex", "preferred_language")
CLINICAL_PATIENT_FIELDS = ("allergies", "chronic_conditions", "blood_group")
PATIENT_FIELDS = (*DEMOGRAPHIC_FIELDS, *CONTACT_FIELDS, *CLINICAL_PATIENT_FIELDS)
VISIT_FIELDS = TEXT_NOTE_FIELDS


def approval_perm(*, target: str, field: str) -> str:
    """The permission that approves a correction of `field`: clinical roles for clinical
    information, the front desk (and owner) for contact and demographic details."""
    if target == "visit" or field in CLINICAL_PATIENT_FIELDS:
        return Perm.RIGHTS_APPROVE_CLINICAL
    return Perm.RIGHTS_APPROVE_CONTACT


def field_problem(*, target: str, field: str) -> str | None:
    """Why `field` cannot be corrected through a request, or None."""
    allowed = VISIT_FIELDS if target == "visit" else PATIENT_FIELDS
    if field not in allowed:
        return "This field cannot be corrected through a request. Choose one from the list."
    return None
