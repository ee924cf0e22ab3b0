"""Adherence: what patients answer to medicine reminders, and alerts when they slip.

A `DoseRecord` is written when a medicine reminder is sent ("pending"). The patient's
Taken / Skipped press answers it (`dose_answer`); every answer is kept with its time, and the
latest counts (a change shows as "changed from Taken"). A pending dose becomes "unanswered" when the
next dose of the same prescription is reminded, or 12 hours after it was due
(`doses_mark_unanswered`, a schedule). After MessagingSettings.missed_doses_threshold doses of
one prescription in a row are skipped or unanswered, the prescribing doctor gets an escalation
(reason missed_doses, subject "prescription:<id>"); one stays open until someone resolves it.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from messaging.models import (
    DoseAnswer,
    DoseOutcome,
    DoseRecord,
    EscalationReason,
    Message,
    Reminder,
    ReminderKind,
)
from messaging.services.accounts import messaging_settings_for
from messaging.services.escalations import escalation_open
from messaging.services.reminders import prescription_source, source_id
from patients.models import Prescription

UNANSWERED_AFTER = dt.timedelta(hours=12)
MISSED = (DoseOutcome.SKIPPED, DoseOutcome.UNANSWERED)


def _prescription_id(reminder: Reminder) -> int | None:
    return source_id(reminder.source) if reminder.source.startswith("prescription:") else None


@transaction.atomic
def dose_reminded(*, reminder: Reminder) -> DoseRecord:
    """A medicine reminder went out: earlier pending doses of the prescription are now
    unanswered, and this dose waits for the patient's answer. Idempotent."""
    existing = DoseRecord.objects.filter(reminder=reminder).first()
    if existing is not None:
        return existing
    prescription_id = _prescription_id(reminder)
    closed = (
        DoseRecord.objects.filter(
            clinic_id=reminder.clinic_id,
            patient_id=reminder.patient_id,
            reminder__source=reminder.source,
            outcome=DoseOutcome.PENDING,
            due_at__lt=reminder.due_at,
        ).update(outcome=DoseOutcome.UNANSWERED)
        if prescription_id
        else 0
    )
    dose = DoseRecord.objects.create(
        clinic_id=reminder.clinic_id,
        patient_id=reminder.patient_id,
        reminder=reminder,
        due_at=reminder.due_at,
    )
    context = reminder.context or {}
    item_ids = context.get("sent_item_ids") or [e["id"] for e in context.get("items") or []]
    if item_ids:
        dose.prescription_items.set(item_ids)
    if closed and prescription_id:
        check_missed_doses(prescription_id=prescription_id)
    return dose


@transaction.atomic
def dose_answer(
    *,
    dose: DoseRecord,
    taken: bool,
    at: dt.datetime | None = None,
    message: Message | None = None,
) -> DoseRecord:
    """The patient said they took (or skipped) the dose. A late answer to an unanswered dose
    still counts: it is what happened.

    Every answer is kept (`DoseAnswer`, with its time); the dose's outcome is the latest one.
    A patient who presses Taken and then Skipped has skipped it, and the doctor sees
    "changed from Taken" (`changed_from`). An answer older than the one recorded (webhooks can
    arrive out of order) is kept but does not replace the latest."""
    at = at or timezone.now()
    dose = DoseRecord.objects.select_for_update().get(pk=dose.pk)
    outcome = DoseOutcome.TAKEN if taken else DoseOutcome.SKIPPED
    DoseAnswer.objects.create(
        clinic_id=dose.clinic_id, dose=dose, outcome=outcome, answered_at=at, message=message
    )
    answered = dose.outcome in (DoseOutcome.TAKEN, DoseOutcome.SKIPPED)
    if answered and dose.answered_at is not None and at < dose.answered_at:
        if outcome != dose.outcome and not dose.changed_from:
            dose.changed_from = outcome
            dose.save(update_fields=["changed_from"])
        return dose
    if answered and outcome != dose.outcome:
        dose.changed_from = dose.outcome
    dose.outcome = outcome
    dose.answered_at = at
    dose.save(update_fields=["outcome", "answered_at", "changed_from"])
    if not taken:
        prescription_id = _prescription_id(dose.reminder)
        if prescription_id:
            check_missed_doses(prescription_id=prescription_id)
    return dose


def check_missed_doses(*, prescription_id: int) -> bool:
    """Open a missed-doses escalation when the latest answered doses are all missed."""
    prescription = (
        Prescription.objects.select_related("patient", "doctor").filter(pk=prescription_id).first()
    )
    if prescription is None:
        return False
    threshold = messaging_settings_for(prescription.clinic_id).missed_doses_threshold
    latest = list(
        DoseRecord.objects.filter(
            clinic_id=prescription.clinic_id,
            reminder__source=prescription_source(prescription_id),
            reminder__kind=ReminderKind.MEDICINE,
        )
        .exclude(outcome=DoseOutcome.PENDING)
        .order_by("-due_at", "-id")
        .values_list("outcome", flat=True)[:threshold]
    )
    if len(latest) < threshold or any(outcome not in MISSED for outcome in latest):
        return False
    escalation_open(
        patient=prescription.patient,
        reason=EscalationReason.MISSED_DOSES,
        detail=f"{threshold} doses in a row were skipped or not answered.",
        subject=prescription_source(prescription_id),
        doctor=prescription.doctor,
    )
    return True


def doses_mark_unanswered(*, now: dt.datetime | None = None) -> int:
    """Pending doses due more than 12 hours ago become unanswered (call inside a scope, or
    with scopes disabled from the schedule). Returns how many changed."""
    now = now or timezone.now()
    stale = DoseRecord.objects.filter(
        outcome=DoseOutcome.PENDING, due_at__lt=now - UNANSWERED_AFTER
    ).select_related("reminder")
    prescriptions: set[int] = set()
    changed = 0
    for dose in stale[:5000]:
        with transaction.atomic():
            if DoseRecord.objects.filter(pk=dose.pk, outcome=DoseOutcome.PENDING).update(
                outcome=DoseOutcome.UNANSWERED
            ):
                changed += 1
                prescription_id = _prescription_id(dose.reminder)
                if prescription_id:
                    prescriptions.add(prescription_id)
    for prescription_id in prescriptions:
        with transaction.atomic():
            check_missed_doses(prescription_id=prescription_id)
    return changed
