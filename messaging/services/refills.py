"""Refill reminders for long-term medicines, and the patient's two answers.

Planning (`on_care_event`, a care listener registered in `MessagingConfig.ready`): when a visit
is signed, a prescription with items marked long-term gets one "refill" reminder (source
"prescription:<id>", like its dose reminders, so a correction of the visit cancels it with
them). An item runs out on its start day (`starts_on`, else the day it was signed) plus its
`duration_days`; a long-term item without a course length (SOS, STAT) has no run-out day and no
reminder. The sign page tells the doctor which (`refill_notes`).
The reminder is due `MessagingSettings.refill_reminder_days` (3 unless the clinic chose) before
the first of them runs out, at the clinic's follow-up reminder time, and waits for the end of
quiet hours; when that moment has passed already (a short course), it goes out now. Consent
(WhatsApp care opt-in) and the approved "refill_reminder" template are checked when it is sent,
as for every reminder; it is skipped when every long-term medicine on it was stopped.

Refills recur with the supply: a repeat prescription keeps its medicines long-term
(`patients.services.prescriptions.repeat`), so signing it plans the next refill reminder from
the new run-out day, and takes those medicines off any earlier refill reminder still planned
(an early repeat cancels it). One prescription is one supply: it never gets a second refill
reminder, whatever changes between signings.

The text names the doctor and the day, never the medicines (it may be read over the patient's
shoulder). Its buttons:
- refill_request: the doctor gets a "repeat prescription" item on the follow-up board
  (`escalation_open`, one per prescription while open); the patient is told the clinic will
  let them know.
- refill_book: the prescribing doctor's next free times as a list (`rebooking.offer_slots`);
  a tap books a visit ("Repeat prescription").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from clinics.languages import for_patient, in_english
from messaging.models import (
    EscalationReason,
    Message,
    MessagingSettings,
    Reminder,
    ReminderKind,
    ReminderStatus,
)
from messaging.replies import register_reply_handler
from messaging.services.accounts import messaging_settings_for
from messaging.services.escalations import escalation_open
from messaging.services.quiet_hours import quiet_adjusted
from messaging.services.rebooking import offer_slots
from messaging.services.reminder_answers import answered_reminder, reminder_outcome_record
from messaging.services.reminder_content import date_text, doctor_text, first_name
from messaging.services.reminders import prescription_source, source_id
from patients import events
from patients.models import Patient, Prescription, PrescriptionItem, PrescriptionStatus, Visit

DEFAULT_DAYS = MessagingSettings._meta.get_field("refill_reminder_days").default
REFILL_REQUESTED = "The patient asked for a repeat prescription."
BOOKING_OFFERED = "The patient asked to book a visit."

TEXTS = {
    "unknown": gettext_noop(
        "Sorry, we could not find what this answer is for. The clinic will get back to you."
    ),
    "requested": gettext_noop(
        "Thank you, {name}. We have asked {doctor} for a repeat prescription; "
        "{clinic} will tell you when it is ready."
    ),
}


def _text(patient: Patient | None, key: str, **values: str | Callable[[], str]) -> str:
    """TEXTS[key] in the patient's language; a value given as a function ("Dr ...") is
    written in that language too."""
    with for_patient(patient.preferred_language if patient is not None else None):
        filled = {k: v() if callable(v) else v for k, v in values.items()}
        return gettext(TEXTS[key]).format(**filled)


# --- planning -------------------------------------------------------------------------------
def runs_out_on(item: PrescriptionItem, signed_on: dt.date) -> dt.date | None:
    """The first day without the medicine, or None when the course has no length."""
    if not item.duration_days:
        return None
    return (item.starts_on or signed_on) + dt.timedelta(days=item.duration_days)


def plan_refill(*, prescription: Prescription, now: dt.datetime | None = None) -> int:
    """Plan the refill reminder of a signed prescription's long-term items (0 or 1 row): one
    per supply, never a second for the same prescription. The new supply also takes its
    medicines off the patient's earlier refill reminders still planned (`_supersede`)."""
    now = now or timezone.now()
    if prescription.status != PrescriptionStatus.SIGNED:
        return 0
    tz = prescription.clinic.tzinfo
    signed_on = timezone.localtime(prescription.signed_at or now, tz).date()
    long_term = list(
        PrescriptionItem.objects.filter(
            prescription=prescription, long_term=True, stopped_at__isnull=True
        ).order_by("position", "id")
    )
    _supersede(prescription, {_medicine_key(item) for item in long_term})
    items: list[dict[str, Any]] = []
    for item in long_term:
        day = runs_out_on(item, signed_on)
        if day is not None and day > now.astimezone(tz).date():
            items.append({"id": item.pk, "runs_out": day.isoformat()})
    source = prescription_source(prescription.pk)
    planned_before = (
        Reminder.objects.filter(
            clinic_id=prescription.clinic_id, source=source, kind=ReminderKind.REFILL
        )
        .exclude(status=ReminderStatus.CANCELLED)
        .exists()
    )
    if not items or planned_before:
        return 0
    settings = messaging_settings_for(prescription.clinic_id)
    first = min(dt.date.fromisoformat(entry["runs_out"]) for entry in items)
    at = settings.follow_up_reminder_time
    if isinstance(at, str):
        at = dt.time.fromisoformat(at)
    local = dt.datetime.combine(first - dt.timedelta(days=settings.refill_reminder_days), at)
    due = max(local.replace(tzinfo=tz).astimezone(dt.UTC), now)
    due = quiet_adjusted(due, tz=tz, settings=settings)
    _, created = Reminder.objects.get_or_create(
        clinic_id=prescription.clinic_id,
        source=source,
        kind=ReminderKind.REFILL,
        due_at=due,
        defaults={"patient_id": prescription.patient_id, "context": {"items": items}},
    )
    return 1 if created else 0


def _medicine_key(item: PrescriptionItem) -> tuple[str, str]:
    return (item.generic_name.strip().lower(), item.strength.strip().lower())


def _supersede(prescription: Prescription, supplied: set[tuple[str, str]]) -> None:
    """A repeat prescription is a new supply: the patient's earlier refill reminders still
    planned lose the medicines it supplies again (and are cancelled when none is left), so
    the patient is not asked to renew what they have just got."""
    if not supplied:
        return
    earlier = (
        Reminder.objects.filter(
            clinic_id=prescription.clinic_id,
            patient_id=prescription.patient_id,
            kind=ReminderKind.REFILL,
            status=ReminderStatus.PLANNED,
        )
        .exclude(source=prescription_source(prescription.pk))
        .select_for_update()
    )
    for reminder in earlier:
        entries = (reminder.context or {}).get("items") or []
        keys = {
            item.pk: _medicine_key(item)
            for item in PrescriptionItem.objects.filter(pk__in=[e["id"] for e in entries])
        }
        kept = [e for e in entries if keys.get(e["id"]) not in supplied]
        if len(kept) == len(entries):
            continue
        if kept:
            reminder.context = {**reminder.context, "items": kept}
            reminder.save(update_fields=["context", "updated_at"])
        else:
            reminder.status = ReminderStatus.CANCELLED
            reminder.outcome = "A repeat prescription was signed: a new supply."
            reminder.save(update_fields=["status", "outcome", "updated_at"])


def on_care_event(event: str, **kwargs: Any) -> None:
    """Plan the refill reminder when a visit with long-term medicines is signed."""
    if event != events.VISIT_SIGNED:
        return
    visit: Visit = kwargs["visit"]
    prescription = Prescription.objects.filter(visit=visit).select_related("clinic").first()
    if prescription is not None:
        plan_refill(prescription=prescription)


def refill_notes(clinic_id: int, items: Sequence[PrescriptionItem]) -> dict[int, list[str]]:
    """What the doctor reads beside each long-term medicine before signing: when the refill
    reminder goes, or why none will (registered with `patients.prescription_notes`)."""
    long_term = [i for i in items if i.long_term and i.stopped_at is None]
    if not long_term:
        return {}
    # Read, never created here: a page view writes nothing.
    settings = MessagingSettings.objects.filter(clinic_id=clinic_id).first()
    days = settings.refill_reminder_days if settings else DEFAULT_DAYS
    notes: dict[int, list[str]] = {}
    for item in long_term:
        if item.duration_days:
            notes[item.pk] = [
                f"Refill reminder on WhatsApp {days} days before the {item.duration_days} "
                "days run out, if the patient opted in."
            ]
        else:
            notes[item.pk] = ["No refill reminder: without a course length it never runs out."]
    return notes


# --- the patient's answers ------------------------------------------------------------------
def _answered(message: Message, reminder_id: int) -> tuple[Reminder, Prescription] | None:
    """The refill reminder the patient answers (one of theirs, in this clinic) and its
    prescription."""
    reminder = answered_reminder(message, reminder_id, (ReminderKind.REFILL,))
    if reminder is None:
        return None
    prescription = (
        Prescription.objects.select_related("doctor__user", "doctor__clinic")
        .filter(pk=source_id(reminder.source))
        .first()
    )
    return (reminder, prescription) if prescription is not None else None


@register_reply_handler("refill_request", "refill_book")
def refill_reply(message: Message, action: str, reminder_id: int) -> str | None:
    """Ask the doctor for a repeat prescription, or offer the doctor's free times."""
    found = _answered(message, reminder_id)
    if found is None:
        return _text(None, "unknown")
    reminder, prescription = found
    patient = reminder.patient
    doctor = prescription.doctor
    if action == "refill_book":
        with transaction.atomic():
            reminder_outcome_record(reminder, BOOKING_OFFERED)
            return offer_slots(message=message, reminder=reminder, doctor=doctor)
    items = (reminder.context or {}).get("items") or []
    runs_out = min((entry["runs_out"] for entry in items), default="")
    detail = "The patient asks for a repeat prescription of their long-term medicines"
    if runs_out:
        with in_english():  # the detail is for the doctor
            detail += f", which run out around {date_text(dt.date.fromisoformat(runs_out))}"
    with transaction.atomic():
        escalation_open(
            patient=patient,
            reason=EscalationReason.REPEAT_PRESCRIPTION,
            detail=detail + ".",
            subject=prescription_source(prescription.pk),
            doctor=doctor,
            message=message,
        )
        reminder_outcome_record(reminder, REFILL_REQUESTED)
    return _text(
        patient,
        "requested",
        name=first_name(patient),
        doctor=lambda: doctor_text(doctor),
        clinic=reminder.clinic.name,
    )
