"""Each clinic's retention policy and its legal holds: reads and writes.

A clinic keeps each class of records (compliance.personal_data.RETENTION_CLASSES) for its
default period unless the owner lengthened it; no period goes below its class's floor. A legal
hold on a patient or a conversation stops every purge of what it covers until it is lifted.
The audit trail names the class, the numbers and the ids; a hold's reason stays on the hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinics.actors import Actor, actor_user
from clinics.audit import Actions, audit_record
from clinics.errors import DomainError, ValidationFailed
from compliance.models import LegalHold, RetentionPolicy
from compliance.personal_data import (
    NOT_KEPT,
    RETENTION_CLASSES,
    RetentionClass,
    personal_data,
)
from patients.models import Patient

MAX_DAYS = 100 * 365  # a bound on what a form or a client may send
REASON_MAX = 300


class HoldProblem(DomainError):
    """A legal hold could not be set or lifted."""


@dataclass(frozen=True)
class PolicyRow:
    """One class of records as the clinic keeps it (for the settings page and the API)."""

    record_class: RetentionClass
    days: int

    @property
    def key(self) -> str:
        return self.record_class.key

    @property
    def lengthened(self) -> bool:
        return self.days != self.record_class.default_days


def policy_classes() -> list[RetentionClass]:
    """The classes a clinic sets a period for (everything but "not personal data")."""
    return [c for c in RETENTION_CLASSES.values() if c.key != NOT_KEPT]


def retention_periods(*, clinic_id: int) -> dict[str, int]:
    """Days each class is kept at this clinic: its own row, else the class's default."""
    periods = {c.key: c.default_days for c in RETENTION_CLASSES.values()}
    rows = RetentionPolicy.objects.filter(clinic_id=clinic_id).values_list("record_class", "days")
    for key, days in rows:
        if key in periods:
            periods[key] = max(days, RETENTION_CLASSES[key].floor_days)
    return periods


def retention_policy(*, clinic_id: int) -> list[PolicyRow]:
    periods = retention_periods(clinic_id=clinic_id)
    return [PolicyRow(record_class=c, days=periods[c.key]) for c in policy_classes()]


@transaction.atomic
def retention_policy_set(
    *, clinic_id: int, record_class: str, days: int, actor: Actor
) -> RetentionPolicy:
    """Set how many days the clinic keeps one class of records (never below its floor).

    Raises ValidationFailed naming `days` (or `record_class`) when the value is refused."""
    rc = RETENTION_CLASSES.get(record_class)
    if rc is None or rc.key == NOT_KEPT:
        raise ValidationFailed({"record_class": ["Choose a class of records."]})
    if not isinstance(days, int) or isinstance(days, bool) or days > MAX_DAYS:
        raise ValidationFailed({"days": [f"Give a whole number of days up to {MAX_DAYS}."]})
    if days < rc.floor_days:
        raise ValidationFailed(
            {"days": [f"{rc.label} must be kept at least {rc.floor_days} days ({rc.basis})."]}
        )
    was = retention_periods(clinic_id=clinic_id)[rc.key]
    policy, _ = RetentionPolicy.objects.update_or_create(
        clinic_id=clinic_id,
        record_class=rc.key,
        defaults={"days": days, "updated_by": actor_user(actor), "updated_at": timezone.now()},
    )
    if was != days:
        audit_record(
            clinic=clinic_id,
            actor=actor,
            action=Actions.RETENTION_POLICY_CHANGED,
            target=policy,
            data={"record_class": rc.key, "days": days, "was": was},
        )
    return policy


# --- legal holds -------------------------------------------------------------------------------
def active_holds(*, clinic_id: int) -> tuple[set[int], set[int]]:
    """(patient ids, conversation ids) under a legal hold that is not lifted."""
    patients: set[int] = set()
    conversations: set[int] = set()
    rows = LegalHold.objects.filter(clinic_id=clinic_id, lifted_at__isnull=True).values_list(
        "patient_id", "conversation_id"
    )
    for patient_id, conversation_id in rows:
        if patient_id:
            patients.add(patient_id)
        if conversation_id:
            conversations.add(conversation_id)
    return patients, conversations


def legal_holds(*, clinic_id: int, include_lifted: bool = False) -> Any:
    rows = LegalHold.objects.filter(clinic_id=clinic_id).select_related(
        "patient", "set_by", "lifted_by"
    )
    return rows if include_lifted else rows.filter(lifted_at__isnull=True)


def _conversation_exists(conversation_id: int) -> bool:
    # The conversation model is found through the registry (compliance does not import
    # messaging): the kind whose conversation path is the row itself.
    for kind in personal_data.entries():
        if kind.conversation_path == "id":
            from compliance.personal_data import kind_model  # noqa: PLC0415

            return kind_model(kind).objects.filter(pk=conversation_id).exists()
    return False


def _reason(reason: str, field: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({field: ["Say why (for example the case or court reference)."]})
    if len(reason) > REASON_MAX:
        raise ValidationFailed({field: [f"Keep the reason under {REASON_MAX} characters."]})
    return reason


@transaction.atomic
def legal_hold_set(
    *,
    clinic_id: int,
    actor: Actor,
    reason: str,
    patient_id: int | None = None,
    conversation_id: int | None = None,
) -> LegalHold:
    """Put a patient's records, or one conversation, under a legal hold: no purge erases them
    until the hold is lifted. Setting a hold on what is already held returns that hold."""
    if (patient_id is None) == (conversation_id is None):
        raise ValidationFailed({"patient": ["Hold either a patient or a conversation."]})
    reason = _reason(reason, "reason")
    if patient_id is not None and not Patient.objects.filter(pk=patient_id).exists():
        raise HoldProblem("No such patient.", code="not_found")
    if conversation_id is not None and not _conversation_exists(conversation_id):
        raise HoldProblem("No such conversation.", code="not_found")
    existing = LegalHold.objects.filter(
        clinic_id=clinic_id,
        patient_id=patient_id,
        conversation_id=conversation_id,
        lifted_at__isnull=True,
    ).first()
    if existing is not None:
        return existing
    hold = LegalHold.objects.create(
        clinic_id=clinic_id,
        patient_id=patient_id,
        conversation_id=conversation_id,
        reason=reason,
        set_by=actor_user(actor),
    )
    audit_record(
        clinic=clinic_id,
        actor=actor,
        action=Actions.LEGAL_HOLD_SET,
        target=hold,
        patient_id=patient_id,
        data={"conversation_id": conversation_id} if conversation_id else {},
    )
    return hold


@transaction.atomic
def legal_hold_lift(*, hold_id: int, actor: Actor, reason: str) -> LegalHold:
    """Lift a legal hold (with the reason); purges may erase what it covered from the next
    run on. Audited; the hold stays in the list of lifted holds."""
    reason = _reason(reason, "lift_reason")
    hold = LegalHold.objects.select_for_update().filter(pk=hold_id).first()
    if hold is None:
        raise HoldProblem("No such legal hold.", code="not_found")
    if hold.lifted_at is not None:
        raise HoldProblem("This legal hold was already lifted.", code="already_lifted")
    hold.lifted_at = timezone.now()
    hold.lifted_by = actor_user(actor)
    hold.lift_reason = reason
    hold.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    audit_record(
        clinic=hold.clinic_id,
        actor=actor,
        action=Actions.LEGAL_HOLD_LIFTED,
        target=hold,
        patient_id=hold.patient_id,
        data={"conversation_id": hold.conversation_id} if hold.conversation_id else {},
    )
    return hold
