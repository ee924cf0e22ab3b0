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

from clinics.dates import last_bookable_day
from clinics.errors import DomainError
from clinics.models import Membership
from messaging.models import Conversation, Message, Reminder, ReminderKind
from messaging.replies import button_payload, register_reply_handler
from messaging.services.auto_replies import clinic_phone_text
from messaging.services.reminder_answers import answered_reminder, reminder_outcome_record
from messaging.services.reminder_content import doctor_text, first_name, when_text
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

TEXTS = {
    "en": {
        "pick": "{name}, these are {doctor}'s next free times. Tap the button and choose one; "
        "or call the clinic on {phone}.",
        "stale": "That list was out of date. ",
        "taken": "Sorry, that time was just taken. ",
        "button": "Choose a time",
        "call_me": "Call me instead",
        "none": "Sorry, {doctor} has no free time we can offer here. The clinic will call "
        "you; you can also call {phone}.",
        "call": "Thank you, {name}. The clinic will call you to find a new time; you can also "
        "call {phone}.",
        "moved": "Done, {name}: your appointment with {doctor} is now on {when}.",
        "booked": "Done, {name}: your appointment with {doctor} is booked for {when}.",
        "not_booked": "This appointment is {status} already. Please call the clinic on "
        "{phone} if you need help.",
        "unknown": "Sorry, we could not find what this answer is for. The clinic will get back "
        "to you.",
    },
    "hi": {
        "pick": "{name}, ये {doctor} के अगले खाली समय हैं। बटन दबाकर एक समय चुनें; "
        "या क्लिनिक को {phone} पर फ़ोन करें।",
        "stale": "वह सूची पुरानी हो गई थी। ",
        "taken": "क्षमा करें, वह समय अभी-अभी बुक हो गया। ",
        "button": "समय चुनें",
        "call_me": "मुझे फ़ोन करें",
        "none": "क्षमा करें, {doctor} का कोई खाली समय यहाँ उपलब्ध नहीं है। क्लिनिक आपको फ़ोन "
        "करेगा; आप {phone} पर फ़ोन भी कर सकते हैं।",
        "call": "धन्यवाद, {name}। नया समय तय करने के लिए क्लिनिक आपको फ़ोन करेगा; आप {phone} पर "
        "फ़ोन भी कर सकते हैं।",
        "moved": "हो गया, {name}: {doctor} के साथ आपका अपॉइंटमेंट अब {when} को है।",
        "booked": "हो गया, {name}: {doctor} के साथ आपका अपॉइंटमेंट {when} के लिए बुक है।",
        "not_booked": "यह अपॉइंटमेंट पहले ही {status} है। सहायता के लिए क्लिनिक को {phone} पर फ़ोन करें।",
        "unknown": "क्षमा करें, हमें समझ नहीं आया कि यह उत्तर किसके लिए है। क्लिनिक आपसे संपर्क करेगा।",
    },
}


def _texts(patient: Patient | None) -> dict[str, str]:
    return TEXTS["hi" if patient is not None and patient.preferred_language == "hi" else "en"]


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
    thread waits for the front desk and the patient is told the clinic will call."""
    patient = reminder.patient
    texts = _texts(patient)
    clinic = doctor.clinic
    starts = next_free_slots(doctor, from_day=from_day)
    if not starts:
        Conversation.objects.filter(pk=message.conversation_id).update(needs_reply=True)
        reminder_outcome_record(reminder, "No free time to offer: the clinic should call.")
        return lead + texts["none"].format(doctor=doctor_text(doctor), phone=_phone(clinic))
    tz = clinic.tzinfo
    rows = [
        {"id": button_payload(SLOT_ACTIONS[n], reminder.pk), "title": when_text(start, tz)}
        for n, start in enumerate(starts)
    ]
    rows.append({"id": button_payload(CALL_ME, reminder.pk), "title": texts["call_me"]})
    Reminder.objects.filter(pk=reminder.pk).update(
        context={**(reminder.context or {}), "offered": [s.isoformat() for s in starts]},
        outcome="Free times offered on WhatsApp.",
        updated_at=timezone.now(),
    )
    body = lead + texts["pick"].format(
        name=first_name(patient), doctor=doctor_text(doctor), phone=_phone(clinic)
    )
    try:
        message_queue_list(
            conversation=message.conversation,
            body=body,
            button=texts["button"],
            rows=rows,
            actor=None,
        )
    except DomainError:  # the list cannot go (the window closed): the front desk calls
        return _call_back(message, reminder)
    return None


def _call_back(message: Message, reminder: Reminder) -> str:
    Conversation.objects.filter(pk=message.conversation_id).update(needs_reply=True)
    reminder_outcome_record(reminder, "The patient asked to be called for another time.")
    texts = _texts(reminder.patient)
    return texts["call"].format(name=first_name(reminder.patient), phone=_phone(reminder.clinic))


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
        return TEXTS["en"]["unknown"]
    found = _doctor_and_day(reminder)
    if found is None:
        return _texts(reminder.patient)["unknown"]
    doctor, day = found
    return offer_slots(message=message, reminder=reminder, doctor=doctor, from_day=day)


@register_reply_handler(CALL_ME)
def call_me_reply(message: Message, action: str, reminder_id: int) -> str | None:
    """None of the times suit: the front desk calls the patient."""
    reminder = answered_reminder(message, reminder_id, (*RESCHEDULING, *BOOKING))
    if reminder is None:
        return TEXTS["en"]["unknown"]
    return _call_back(message, reminder)


@register_reply_handler(*SLOT_ACTIONS)
def slot_reply(message: Message, action: str, reminder_id: int) -> str | None:
    """Book the slot the patient tapped (moving their appointment, or booking a new one)."""
    reminder = answered_reminder(message, reminder_id, (*RESCHEDULING, *BOOKING))
    if reminder is None:
        return TEXTS["en"]["unknown"]
    found = _doctor_and_day(reminder)
    if found is None:
        return _texts(reminder.patient)["unknown"]
    doctor, day = found
    texts = _texts(reminder.patient)
    offered = (reminder.context or {}).get("offered") or []
    number = int(action.rsplit("_", 1)[1])
    tz = doctor.clinic.tzinfo
    starts_at = dt.datetime.fromisoformat(offered[number]) if number < len(offered) else None
    if starts_at is None or message.body != when_text(starts_at, tz):
        return offer_slots(
            message=message, reminder=reminder, doctor=doctor, from_day=day, lead=texts["stale"]
        )
    try:
        with transaction.atomic():
            key, appointment = _book(reminder, doctor, starts_at)
    except DomainError:
        return offer_slots(
            message=message, reminder=reminder, doctor=doctor, from_day=day, lead=texts["taken"]
        )
    if appointment is None:
        return texts["not_booked"].format(status=key, phone=_phone(doctor.clinic))
    reminder_outcome_record(reminder, f"The patient chose {when_text(starts_at, tz)} on WhatsApp.")
    return texts[key].format(
        name=first_name(reminder.patient),
        doctor=doctor_text(doctor),
        when=when_text(appointment.starts_at, tz),
    )


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
            return target.get_status_display().lower(), None
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
