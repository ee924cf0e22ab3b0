"""Choosing a new time on WhatsApp: the doctor's next free slots as a list, booked with a tap.

A patient who presses Reschedule (on an appointment reminder or a moved notice), Book again
(on a cancelled notice), Choose a time (on a follow-up reminder) or Book a visit (on a refill
reminder) gets an interactive list of
the doctor's next free slots (`offer_slots`: at most `PER_DAY` a day, so the choice spans
days, up to the clinic's booking horizon) and a "Call me instead" row. The slots offered are
kept on the reminder answered (context "offered"); each row's id is "appt_slot_<n>:<reminder
id>" (messaging.replies), so a tap names the slot. The tap books through the booking services,
which apply every booking rule again (hours, leave, horizon, no double booking): a slot taken
meanwhile gets a fresh list. A list superseded by a newer one (its row title no longer matches
the slot offered under that number) also gets a fresh list, never a booking the patient did
not see. Rescheduling moves the appointment (the patient chose, so no "moved" notice follows);
booking again after a cancelled appointment or for a follow-up books a new one, and a second
tap moves that one rather than booking twice.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from clinics.dates import last_bookable_day
from clinics.errors import DomainError
from clinics.languages import for_patient, in_english
from clinics.models import Membership
from messaging.models import Conversation, Message, Reminder, ReminderKind
from messaging.replies import button_payload, register_reply_handler
from messaging.services.auto_replies import clinic_phone_text, clinic_signed
from messaging.services.reminder_answers import answered_reminder, reminder_outcome_record
from messaging.services.reminder_content import (
    appointment_state_text,
    doctor_text,
    first_name,
    slot_title,
    when_text,
)
from messaging.services.reminders import source_id
from messaging.services.sending import message_queue_list
from patients.models import Appointment, AppointmentStatus, Patient, Prescription, Visit
from patients.selectors.appointments import doctor_free_slots_range
from patients.services.appointments import appointment_book, appointment_reschedule

MAX_OFFERED = 9  # and "Call me instead": WhatsApp lists hold 10 rows
PER_DAY = 3
SEARCH_DAYS = 21
SLOT_ACTIONS = tuple(f"appt_slot_{n}" for n in range(MAX_OFFERED))
CALL_ME = "appt_call"
RESCHEDULING = (
    ReminderKind.APPOINTMENT_CONFIRMATION,
    ReminderKind.APPOINTMENT_REMINDER,
    ReminderKind.APPOINTMENT_MOVED,
)
BOOKING = (ReminderKind.APPOINTMENT_CANCELLED, ReminderKind.FOLLOW_UP, ReminderKind.REFILL)
# The reason a visit booked from a reminder's list carries.
BOOKING_REASONS = {ReminderKind.FOLLOW_UP: "Follow-up", ReminderKind.REFILL: "Repeat prescription"}

# What the patient reads, translated with gettext into their language (locale/).
TEXTS = {
    "pick": gettext_noop(
        "{name}, these are {doctor}'s next free times. Tap the button and choose one; or call "
        "the clinic on {phone}."
    ),
    "stale": gettext_noop("That list was out of date. "),
    "taken": gettext_noop("Sorry, that time was just taken. "),
    "button": gettext_noop("Choose a time"),
    "call_me": gettext_noop("Call me instead"),
    "none": gettext_noop(
        "Sorry, {doctor} has no free time we can offer here. The clinic will call you; you can "
        "also call {phone}."
    ),
    "call": gettext_noop(
        "Thank you, {name}. The clinic will call you to find a new time; you can also call {phone}."
    ),
    "moved": gettext_noop("Done, {name}: your appointment with {doctor} is now on {when}."),
    "booked": gettext_noop("Done, {name}: your appointment with {doctor} is booked for {when}."),
    "not_booked": gettext_noop(
        "This appointment is {status} already. Please call the clinic on {phone} if you need help."
    ),
    "unknown": gettext_noop(
        "Sorry, we could not find what this answer is for. The clinic will get back to you."
    ),
}


def _in_language(patient: Patient | None):
    """Write what the patient reads in their language (values such as dates and "Dr" too)."""
    return for_patient(patient.preferred_language if patient is not None else None)


def _text(key: str, **values: str) -> str:
    """TEXTS[key] in the active language, filled."""
    return gettext(TEXTS[key]).format(**values)


def _phone(clinic) -> str:
    return clinic_phone_text(clinic) or clinic.name


def next_free_slots(
    doctor: Membership, *, from_day: dt.date | None = None, now: dt.datetime | None = None
) -> list[dt.datetime]:
    """The doctor's next bookable slot starts (at most `PER_DAY` a day, `MAX_OFFERED` in all)
    from `from_day` (or today) to the clinic's last bookable day."""
    now = now or timezone.now()
    clinic = doctor.clinic
    today = now.astimezone(clinic.tzinfo).date()
    start = max(from_day or today, today)
    last = min(last_bookable_day(clinic, now), start + dt.timedelta(days=SEARCH_DAYS - 1))
    if start > last:
        return []
    found: list[dt.datetime] = []
    by_day = doctor_free_slots_range(doctor, start, (last - start).days + 1, now=now)
    for day in sorted(by_day):
        found += [slot.start for slot in by_day[day][:PER_DAY]]
        if len(found) >= MAX_OFFERED:
            break
    return found[:MAX_OFFERED]


def offer_slots(
    *, message: Message, reminder: Reminder, doctor: Membership, from_day=None, lead: str = ""
) -> str | None:
    """Send the doctor's next free slots as a list answering `reminder`; with none free, the
    thread waits for the front desk and the patient is told the clinic will call. `lead` is a
    TEXTS key said first ("stale", "taken")."""
    patient = reminder.patient
    clinic = doctor.clinic
    starts = next_free_slots(doctor, from_day=from_day)
    with _in_language(patient):
        first = _text(lead) if lead else ""
        if not starts:
            Conversation.objects.filter(pk=message.conversation_id).update(needs_reply=True)
            reminder_outcome_record(reminder, "No free time to offer: the clinic should call.")
            return first + _text("none", doctor=doctor_text(doctor), phone=_phone(clinic))
        tz = clinic.tzinfo
        rows = [
            {"id": button_payload(SLOT_ACTIONS[n], reminder.pk), "title": slot_title(start, tz)}
            for n, start in enumerate(starts)
        ]
        rows.append({"id": button_payload(CALL_ME, reminder.pk), "title": _text("call_me")})
        body = first + _text(
            "pick", name=first_name(patient), doctor=doctor_text(doctor), phone=_phone(clinic)
        )
        body = clinic_signed(body, clinic.name)
        button = _text("button")
    Reminder.objects.filter(pk=reminder.pk).update(
        context={**(reminder.context or {}), "offered": [s.isoformat() for s in starts]},
        outcome="Free times offered on WhatsApp.",
        updated_at=timezone.now(),
    )
    try:
        message_queue_list(
            conversation=message.conversation, body=body, button=button, rows=rows, actor=None
        )
    except DomainError:  # the list cannot go (the window closed): the front desk calls
        return _call_back(message, reminder)
    return None


def _call_back(message: Message, reminder: Reminder) -> str:
    Conversation.objects.filter(pk=message.conversation_id).update(needs_reply=True)
    reminder_outcome_record(reminder, "The patient asked to be called for another time.")
    with _in_language(reminder.patient):
        return _text("call", name=first_name(reminder.patient), phone=_phone(reminder.clinic))


def _doctor_and_day(reminder: Reminder) -> tuple[Membership, dt.date | None] | None:
    """Whose slots a reminder's answer books, and from which day."""
    number = source_id(reminder.source)
    if reminder.kind == ReminderKind.FOLLOW_UP:
        visit = Visit.objects.select_related("doctor__clinic").filter(pk=number).first()
        return (visit.doctor, visit.follow_up_date) if visit is not None else None
    if reminder.kind == ReminderKind.REFILL:
        prescription = Prescription.objects.select_related("doctor__clinic").filter(pk=number)
        found = prescription.first()
        return (found.doctor, None) if found is not None else None
    appointment = Appointment.objects.select_related("doctor__clinic").filter(pk=number).first()
    return (appointment.doctor, None) if appointment is not None else None


@register_reply_handler("appt_rebook", "fu_book")
def rebook_reply(message: Message, action: str, reminder_id: int) -> str | None:
    """Book again (a cancelled notice) or choose a follow-up time: offer the free slots."""
    reminder = answered_reminder(message, reminder_id, (*RESCHEDULING, *BOOKING))
    if reminder is None or reminder.kind not in BOOKING:
        return _unknown(None)
    found = _doctor_and_day(reminder)
    if found is None:
        return _unknown(reminder.patient)
    doctor, day = found
    return offer_slots(message=message, reminder=reminder, doctor=doctor, from_day=day)


@register_reply_handler(CALL_ME)
def call_me_reply(message: Message, action: str, reminder_id: int) -> str | None:
    """None of the times suit: the front desk calls the patient."""
    reminder = answered_reminder(message, reminder_id, (*RESCHEDULING, *BOOKING))
    if reminder is None:
        return _unknown(None)
    return _call_back(message, reminder)


@register_reply_handler(*SLOT_ACTIONS)
def slot_reply(message: Message, action: str, reminder_id: int) -> str | None:
    """Book the slot the patient tapped (moving their appointment, or booking a new one)."""
    reminder = answered_reminder(message, reminder_id, (*RESCHEDULING, *BOOKING))
    if reminder is None:
        return _unknown(None)
    found = _doctor_and_day(reminder)
    if found is None:
        return _unknown(reminder.patient)
    doctor, day = found
    offered = (reminder.context or {}).get("offered") or []
    number = int(action.rsplit("_", 1)[1])
    tz = doctor.clinic.tzinfo
    starts_at = dt.datetime.fromisoformat(offered[number]) if number < len(offered) else None
    with _in_language(reminder.patient):
        shown = slot_title(starts_at, tz) if starts_at is not None else None
    if starts_at is None or message.body not in (shown, when_text(starts_at, tz)):
        return offer_slots(
            message=message, reminder=reminder, doctor=doctor, from_day=day, lead="stale"
        )
    try:
        with transaction.atomic():
            key, appointment = _book(reminder, doctor, starts_at)
    except DomainError:
        return offer_slots(
            message=message, reminder=reminder, doctor=doctor, from_day=day, lead="taken"
        )
    if appointment is not None:
        with in_english():  # the outcome is for staff
            chosen = when_text(starts_at, tz)
        reminder_outcome_record(reminder, f"The patient chose {chosen} on WhatsApp.")
    with _in_language(reminder.patient):
        if appointment is None:
            status = appointment_state_text(key)
            return _text("not_booked", status=status, phone=_phone(doctor.clinic))
        return _text(
            key,
            name=first_name(reminder.patient),
            doctor=doctor_text(doctor),
            when=when_text(appointment.starts_at, tz),
        )


def _unknown(patient: Patient | None) -> str:
    with _in_language(patient):
        return _text("unknown")


def _book(
    reminder: Reminder, doctor: Membership, starts_at: dt.datetime
) -> tuple[str, Appointment | None]:
    """("moved" | "booked", the appointment), or (its status, None) when it cannot move."""
    context = reminder.context or {}
    if reminder.kind in RESCHEDULING:
        target = Appointment.objects.filter(pk=source_id(reminder.source)).first()
    else:  # a second tap moves the appointment the first one booked
        target = Appointment.objects.filter(
            pk=context.get("booked"), status=AppointmentStatus.BOOKED
        ).first()
    if target is not None:
        if target.status != AppointmentStatus.BOOKED:
            return target.status, None
        moved = appointment_reschedule(
            appointment=target, actor=None, starts_at=starts_at, by_patient=True
        )
        return "moved", moved
    booked = appointment_book(
        patient=reminder.patient,
        doctor=doctor,
        actor=None,
        starts_at=starts_at,
        reason=BOOKING_REASONS.get(reminder.kind, ""),
        by_patient=True,
    )
    Reminder.objects.filter(pk=reminder.pk).update(context={**context, "booked": booked.pk})
    return "booked", booked
