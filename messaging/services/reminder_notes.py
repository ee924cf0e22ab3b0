"""What the doctor reads beside each medicine before signing: which of its doses the WhatsApp
reminders will cover ("3 of 6 daily doses will be reminded; 22:00, 02:00 and 06:00 fall in quiet
hours ..."), from the same plan `medicine_doses.DoseTable` follows (`patients.dosing.quiet`).
Registered with `patients.prescription_notes` in `MessagingConfig.ready`."""

from __future__ import annotations

from collections.abc import Sequence

from messaging.models import MessagingSettings
from messaging.services.quiet_hours import quiet_hours
from patients.dosing import FrequencyError, from_json
from patients.dosing.quiet import quiet_plan
from patients.models import PrescriptionItem


def reminder_plan_notes(clinic_id: int, items: Sequence[PrescriptionItem]) -> dict[int, list[str]]:
    """{item id: ["WhatsApp reminders: ..."]} for the items some of whose doses fall in quiet
    hours; nothing when the clinic sends no medicine reminders."""
    planned = [i for i in items if i.stopped_at is None and i.schedule and i.duration_days]
    if not planned:
        return {}
    # Read, never created here: a page view writes nothing (unsaved defaults are the defaults).
    settings = MessagingSettings.objects.filter(clinic_id=clinic_id).first()
    settings = settings or MessagingSettings(clinic_id=clinic_id)
    if not settings.send_medicine_reminders:
        return {}
    start, end = quiet_hours(settings)
    notes: dict[int, list[str]] = {}
    for item in planned:
        try:
            frequency = from_json(item.schedule)
        except FrequencyError:
            continue
        summary = quiet_plan(frequency, start=start, end=end).summary()
        if summary:
            notes[item.pk] = [f"WhatsApp reminders: {summary}"]
    return notes
