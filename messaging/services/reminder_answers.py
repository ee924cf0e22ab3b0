"""The reminder a patient's button answers, and what their answer did to it.

A button's payload carries a reminder id (`messaging.replies`); the id alone is never trusted:
the reminder must be the patient's own, in the clinic whose number received the answer, and of
a kind the button belongs to.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from messaging.models import Message, Reminder


def answered_reminder(message: Message, reminder_id: int, kinds: Iterable[str]) -> Reminder | None:
    """The reminder the patient answers: one of theirs, sent in this clinic, of one of `kinds`
    (with its patient and clinic); None for anyone else's."""
    if message.patient_id is None:
        return None
    return (
        Reminder.objects.select_related("patient", "clinic")
        .filter(
            pk=reminder_id,
            clinic_id=message.clinic_id,
            patient_id=message.patient_id,
            kind__in=list(kinds),
        )
        .first()
    )


def reminder_outcome_record(reminder: Reminder, outcome: str) -> None:
    """Keep what the patient's answer did on the reminder (the reports count outcomes)."""
    Reminder.objects.filter(pk=reminder.pk).update(outcome=outcome[:300], updated_at=timezone.now())
