"""Automatic acknowledgements: a patient who writes while the clinic is closed is told when
it opens again and which number to call.

The clinic's hours are its doctors' working hours: the clinic is closed when no doctor has a
session now (a doctor on leave or blocked time has none). A clinic that set no hours at all is
never "closed": there are no hours to tell. The acknowledgement is sent once
in `ACK_EVERY` per conversation, inside the window the patient's message just opened, and
like every automatic message it leaves the thread in "Needs reply" (messaging.services.sending).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext, gettext_noop

from clinics.errors import DomainError
from clinics.languages import for_patient
from clinics.models import Clinic
from messaging.models import Conversation, Direction, Message, MessageKind
from messaging.services.sending import message_queue_text
from patients.models import DoctorLeave, WorkingHours

ACK_EVERY = dt.timedelta(hours=12)
AUTO_CLOSED = "closed_ack"
# What a patient writes by themselves (not a reaction, a button or a sticker).
FREE_KINDS = frozenset(
    {
        MessageKind.TEXT,
        MessageKind.IMAGE,
        MessageKind.DOCUMENT,
        MessageKind.AUDIO,
        MessageKind.VIDEO,
        MessageKind.LOCATION,
    }
)

# What the patient reads, translated with gettext into their language (locale/); the days are
# Django's own abbreviations ("Mon" / "सोम").
TEXTS = {
    "closed": gettext_noop(
        "Thank you for your message. {clinic} is closed now; we will reply when we open. Our "
        "hours: {hours}."
    ),
    "phone": gettext_noop(" For anything urgent, call {phone}."),
    "emergency": gettext_noop(" In an emergency, go to the nearest hospital."),
    "no_hours": gettext_noop("by appointment"),
}


def language_of(conversation: Conversation) -> str | None:
    """The patient's preferred language (None for an unknown sender: English)."""
    patient = conversation.patient
    return patient.preferred_language if patient is not None else None


def clinic_signed(text: str, clinic_name: str) -> str:
    """The text with the clinic's name under it, unless it names the clinic already: every
    message a patient gets says who sent it."""
    if not clinic_name or clinic_name in text:
        return text
    return f"{text}\n— {clinic_name}"


def clinic_name_of(conversation: Conversation) -> str:
    return Clinic.objects.filter(pk=conversation.clinic_id).values_list("name", flat=True).first()


def clinic_phone_text(clinic: Clinic) -> str:
    """The clinic's phone as people dial it ("+91 80 4000 1234"), or ""."""
    phone = clinic.phone
    if not phone:
        return ""
    return getattr(phone, "as_international", None) or str(phone)


def clinic_is_open(clinic: Clinic, now: dt.datetime | None = None) -> bool:
    """Whether some doctor of the clinic has a session now and is not on leave."""
    now = now or timezone.now()
    local = now.astimezone(clinic.tzinfo)
    working = set(
        WorkingHours.objects.filter(
            clinic_id=clinic.pk,
            weekday=local.weekday(),
            start_time__lte=local.time(),
            end_time__gt=local.time(),
            doctor__is_active=True,
        ).values_list("doctor_id", flat=True)
    )
    if not working:
        return False
    away = set(
        DoctorLeave.objects.filter(
            clinic_id=clinic.pk, doctor_id__in=working, starts_at__lte=now, ends_at__gt=now
        ).values_list("doctor_id", flat=True)
    )
    return bool(working - away)


def clinic_hours_text(clinic: Clinic) -> str:
    """The clinic's weekly hours, days with the same hours together, in the active language:
    "Mon-Sat 10:00-13:00, 17:00-20:00; Sun 10:00-12:00"."""
    sessions: dict[int, set[tuple[dt.time, dt.time]]] = defaultdict(set)
    for weekday, start, end in WorkingHours.objects.filter(
        clinic_id=clinic.pk, doctor__is_active=True
    ).values_list("weekday", "start_time", "end_time"):
        sessions[weekday].add((start, end))
    if not sessions:
        return clinic.timings or gettext(TEXTS["no_hours"])
    names = [str(WEEKDAYS_ABBR[day]) for day in range(7)]
    parts: list[str] = []
    weekday = 0
    while weekday < 7:
        if weekday not in sessions:
            weekday += 1
            continue
        hours = _merged(sessions[weekday])
        last = weekday
        while last + 1 < 7 and last + 1 in sessions and _merged(sessions[last + 1]) == hours:
            last += 1
        days = names[weekday] if last == weekday else f"{names[weekday]}-{names[last]}"
        times = ", ".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in hours)
        parts.append(f"{days} {times}")
        weekday = last + 1
    return "; ".join(parts)


def _merged(spans: set[tuple[dt.time, dt.time]]) -> list[tuple[dt.time, dt.time]]:
    """Overlapping or touching sessions of several doctors as one stretch each."""
    merged: list[list[dt.time]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def closed_text(clinic: Clinic, language: str | None) -> str:
    """What a patient reads when they write while the clinic is closed, in their language."""
    with for_patient(language):
        text = gettext(TEXTS["closed"]).format(clinic=clinic.name, hours=clinic_hours_text(clinic))
        phone = clinic_phone_text(clinic)
        if phone:
            return text + gettext(TEXTS["phone"]).format(phone=phone)
        return text + gettext(TEXTS["emergency"])


def acknowledge_when_closed(
    *, conversation: Conversation, message: Message, now: dt.datetime | None = None
) -> Message | None:
    """Tell a patient who wrote while the clinic is closed its hours and phone (once in
    `ACK_EVERY`); None when the clinic is open, already said so, or cannot reply."""
    now = now or timezone.now()
    if message.kind not in FREE_KINDS or conversation.staff_id is not None:
        return None
    conversation = Conversation.objects.select_related("clinic", "patient").get(pk=conversation.pk)
    clinic = conversation.clinic
    # A clinic that set no hours yet has none to tell.
    if not WorkingHours.objects.filter(clinic_id=clinic.pk).exists() or clinic_is_open(clinic, now):
        return None
    recent = Message.objects.filter(
        conversation=conversation,
        direction=Direction.OUTBOUND,
        parameters__auto=AUTO_CLOSED,
        created_at__gte=now - ACK_EVERY,
    )
    if recent.exists():
        return None
    try:
        sent = message_queue_text(
            conversation=conversation,
            body=closed_text(clinic, language_of(conversation)),
            actor=None,
        )
    except DomainError:
        return None  # no number connected, or the patient cannot get WhatsApp replies
    Message.objects.filter(pk=sent.pk).update(parameters={"auto": AUTO_CLOSED})
    return sent
