"""What a reminder says: its template purpose, the objects it is about, and the values.

The dispatcher (messaging.services.dispatch) reads a batch's sources with `Sources.load` and
fills each reminder's template with `build_parameters`; a reminder whose source changed (an
appointment cancelled, a medicine stopped, a document revoked) raises `Skip` with the reason
staff will see.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.formats import date_format, time_format
from django.utils.translation import gettext, gettext_noop, ngettext

from messaging import links
from messaging.models import Reminder, ReminderKind
from messaging.services.accounts import messaging_settings_for
from messaging.services.auto_replies import clinic_phone_text
from messaging.services.reminders import source_id
from patients.models import (
    Appointment,
    AppointmentStatus,
    DiscreetMessages,
    Document,
    Patient,
    Prescription,
    PrescriptionItem,
    Visit,
)
from patients.prescribing.classes import is_sensitive

# Reminder kind -> template purpose (messaging.template_purposes).
PURPOSE_FOR_KIND = {
    ReminderKind.APPOINTMENT_CONFIRMATION: "appointment_confirmation",
    ReminderKind.APPOINTMENT_REMINDER: "appointment_reminder",
    ReminderKind.MEDICINE: "medicine_reminder",
    ReminderKind.FOLLOW_UP: "follow_up_reminder",
    ReminderKind.REVIEW_REQUEST: "review_request",
    ReminderKind.DOCUMENT_READY: "document_ready",
    ReminderKind.APPOINTMENT_MOVED: "appointment_moved",
    ReminderKind.APPOINTMENT_CANCELLED: "appointment_cancelled",
    ReminderKind.REFILL: "refill_reminder",
}
# The reason a change notice gives when the clinic chose to give none.
NO_NOTE = gettext_noop("the clinic had to change the doctor's schedule")

# A discreet medicine reminder: "your evening medicines (2)" (the names are on the prescription).
DAY_PARTS = {
    "morning": gettext_noop("morning"),
    "afternoon": gettext_noop("afternoon"),
    "evening": gettext_noop("evening"),
    "night": gettext_noop("night"),
}
# An appointment's state as the patient reads it ("This appointment is cancelled already").
STATE_WORDS = {
    "booked": gettext_noop("booked"),
    "cancelled": gettext_noop("cancelled"),
    "completed": gettext_noop("over"),
    "no_show": gettext_noop("missed"),
    "checked_in": gettext_noop("checked in"),
    "in_consultation": gettext_noop("under way"),
}
# How a moment and a day are written in a message, in the active language's names (Django's
# date formats: "Tue 8 Dec, 11:00 AM" / "मंगल 8 दिस॰, 11:00 पूर्वाह्न", "8 Dec 2026").
WHEN_FORMAT = "D j M, g:i A"
DAY_FORMAT = "j M Y"
TIME_FORMAT = "g:i A"
# A list row's title holds at most 24 characters: a longer moment drops AM/PM for the 24-hour
# clock, which is as unambiguous.
SHORT_WHEN_FORMAT = "D j M, H:i"
MAX_ROW_TITLE = 24
# Django's own names for AM/PM and the months, which these formats print: Vaidya's catalogue
# gives them the words patients read ("पूर्वाह्न", "दिस॰"); marked here so makemessages keeps them.
DATE_WORDS = (
    gettext_noop("AM"),
    gettext_noop("PM"),
    gettext_noop("jan"),
    gettext_noop("feb"),
    gettext_noop("mar"),
    gettext_noop("apr"),
    gettext_noop("may"),
    gettext_noop("jun"),
    gettext_noop("jul"),
    gettext_noop("aug"),
    gettext_noop("sep"),
    gettext_noop("oct"),
    gettext_noop("nov"),
    gettext_noop("dec"),
)


class Skip(Exception):
    """This reminder must not be sent; the message says why (shown to staff)."""


# --- formatting -----------------------------------------------------------------------------
def first_name(patient: Patient) -> str:
    return (patient.full_name or "").split(" ")[0] or "there"


def when_text(at: dt.datetime, tz) -> str:
    """ "Mon 12 Jan, 10:30 AM" in the clinic's time zone and the active language."""
    return date_format(at.astimezone(tz), WHEN_FORMAT)


def slot_title(at: dt.datetime, tz) -> str:
    """`when_text` short enough for a list row's title."""
    text = when_text(at, tz)
    if len(text) <= MAX_ROW_TITLE:
        return text
    return date_format(at.astimezone(tz), SHORT_WHEN_FORMAT)[:MAX_ROW_TITLE]


def date_text(day: dt.date) -> str:
    """ "12 Jan 2027" in the active language."""
    return date_format(day, DAY_FORMAT)


def time_text(at: dt.datetime | dt.time) -> str:
    """ "8:00 AM" in the active language."""
    return (
        date_format(at, TIME_FORMAT)
        if isinstance(at, dt.datetime)
        else time_format(at, TIME_FORMAT)
    )


def appointment_state_text(status: str) -> str:
    """ "cancelled" / "रद्द" in the active language."""
    return gettext(STATE_WORDS[status]) if status in STATE_WORDS else status


def doctor_text(membership) -> str:
    """ "Dr Anita Rao" / "डॉ. Anita Rao"."""
    return gettext("Dr %(name)s") % {"name": membership.user.full_name}


# --- parameters -----------------------------------------------------------------------------
@dataclass
class Sources:
    """The objects a batch of reminders is about, read with one query per kind."""

    appointments: dict[int, Appointment] = field(default_factory=dict)
    visits: dict[int, Visit] = field(default_factory=dict)
    documents: dict[int, Document] = field(default_factory=dict)
    live_items: set[int] = field(default_factory=set)
    sensitive_items: set[int] = field(default_factory=set)
    discreet_clinic: bool = True

    @classmethod
    def load(cls, reminders: list[Reminder]) -> Sources:
        wanted: dict[str, set[int]] = {}
        items: set[int] = set()
        for reminder in reminders:
            prefix = reminder.source.partition(":")[0]
            if reminder.kind == ReminderKind.MEDICINE:
                items.update(e["id"] for e in (reminder.context or {}).get("items") or [])
            elif (number := source_id(reminder.source)) is not None:
                wanted.setdefault(prefix, set()).add(number)
        sources = cls()
        if wanted.get("appointment"):
            sources.appointments = Appointment.objects.select_related("doctor__user").in_bulk(
                wanted["appointment"]
            )
        if wanted.get("visit"):
            sources.visits = Visit.objects.select_related("doctor__user").in_bulk(wanted["visit"])
        if wanted.get("document"):
            sources.documents = Document.objects.in_bulk(wanted["document"])
        if items:
            sources.live_items, sources.sensitive_items = _live_and_sensitive(items)
            sources.discreet_clinic = messaging_settings_for(
                reminders[0].clinic_id
            ).discreet_sensitive_medicines
        return sources


def _live_and_sensitive(ids: set[int] | list[int]) -> tuple[set[int], set[int]]:
    """Of these prescription items, the ones not stopped, and those of a sensitive class."""
    rows = PrescriptionItem.objects.filter(pk__in=ids, stopped_at__isnull=True).values_list(
        "pk", "drug__atc_code"
    )
    return {pk for pk, _ in rows}, {pk for pk, atc in rows if is_sensitive(atc)}


def day_part(at: dt.datetime, tz) -> str:
    """ "morning" (5-12), "afternoon" (12-17), "evening" (17-21) or "night", clinic time."""
    hour = at.astimezone(tz).hour
    if 5 <= hour < 12:
        return "morning"
    if 12 <= hour < 17:
        return "afternoon"
    if 17 <= hour < 21:
        return "evening"
    return "night"


def discreet(patient: Patient, *, sensitive: bool, clinic_default: bool) -> bool:
    """Whether a medicine reminder leaves out the medicines' names: the patient's own choice,
    else the clinic's (on by default) when one of the medicines is of a sensitive class."""
    if patient.discreet_messages == DiscreetMessages.ALWAYS:
        return True
    if patient.discreet_messages == DiscreetMessages.NEVER:
        return False
    return sensitive and clinic_default


def discreet_medicines_text(*, count: int, part: str) -> str:
    """ "your evening medicines (2)" / "आपकी शाम की दवाएं (2)", in the active language."""
    text = ngettext(
        "your %(part)s medicine (%(count)s)", "your %(part)s medicines (%(count)s)", count
    )
    return text % {"part": gettext(DAY_PARTS[part]), "count": count}


@dataclass
class Built:
    params: list[str]
    extra: dict[str, Any] = field(default_factory=dict)


def _source_appointment(reminder: Reminder, sources: Sources | None) -> Appointment:
    """The reminder's appointment (from the batch's preloaded ones when given); raises Skip."""
    number = source_id(reminder.source)
    if sources is not None:
        appointment = sources.appointments.get(number)
    else:
        appointment = Appointment.objects.select_related("doctor__user").filter(pk=number).first()
    if appointment is None:
        raise Skip("The appointment no longer exists.")
    return appointment


def _appointment(
    reminder: Reminder,
    now: dt.datetime,
    *,
    completed: bool = False,
    sources: Sources | None = None,
) -> Appointment:
    appointment = _source_appointment(reminder, sources)
    if completed:
        if appointment.status != AppointmentStatus.COMPLETED:
            raise Skip("The visit was not completed.")
    elif appointment.status != AppointmentStatus.BOOKED:
        raise Skip(f"The appointment is {appointment.get_status_display().lower()}.")
    elif appointment.starts_at <= now:
        raise Skip("The appointment time has passed.")
    return appointment


def _moment(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _change_notice(reminder: Reminder, now: dt.datetime, sources: Sources | None) -> Built:
    """first name, doctor, date and time, clinic, reason (and, cancelled, the clinic's phone)."""
    appointment = _source_appointment(reminder, sources)
    context = reminder.context or {}
    cancelled = reminder.kind == ReminderKind.APPOINTMENT_CANCELLED
    if cancelled and appointment.status != AppointmentStatus.CANCELLED:
        raise Skip(f"The appointment is {appointment.get_status_display().lower()} again.")
    if not cancelled and (
        appointment.status != AppointmentStatus.BOOKED
        or appointment.starts_at != _moment(context.get("starts_at"))
    ):
        raise Skip("The appointment changed again.")
    if appointment.starts_at <= now:
        raise Skip("The appointment time has passed.")
    clinic = reminder.clinic
    params = [
        first_name(reminder.patient),
        doctor_text(appointment.doctor),
        when_text(appointment.starts_at, clinic.tzinfo),
        clinic.name,
        context.get("note") or gettext(NO_NOTE),
    ]
    if cancelled:
        params.append(clinic_phone_text(clinic) or clinic.name)
    return Built(params)


def _medicine(reminder: Reminder, sources: Sources | None) -> Built:
    """first name, the medicines and doses (or, discreet, "your evening medicines (2)"), time,
    clinic."""
    tz = reminder.clinic.tzinfo
    items = (reminder.context or {}).get("items") or []
    if sources is not None:
        live, sensitive = sources.live_items, sources.sensitive_items
        clinic_default = sources.discreet_clinic
    else:
        live, sensitive = _live_and_sensitive([entry["id"] for entry in items])
        clinic_default = messaging_settings_for(reminder.clinic_id).discreet_sensitive_medicines
    items = [entry for entry in items if entry["id"] in live]
    if not items:
        raise Skip("The medicines were stopped.")
    patient = reminder.patient
    if discreet(
        patient,
        sensitive=any(entry["id"] in sensitive for entry in items),
        clinic_default=clinic_default,
    ):
        medicines = discreet_medicines_text(
            count=len(items),
            part=day_part(reminder.due_at, tz),
        )
    else:
        medicines = "; ".join(entry["text"] for entry in items)
    dose_time = (reminder.context or {}).get("dose_time") or when_text(reminder.due_at, tz)
    ids = [entry["id"] for entry in items]
    clinic = reminder.clinic.name
    return Built([first_name(patient), medicines, dose_time, clinic], {"item_ids": ids})


def build_parameters(
    reminder: Reminder, *, now: dt.datetime, sources: Sources | None = None
) -> Built:
    """The template values for a reminder, in template_purposes order; raises Skip.

    `sources`: the batch's preloaded source objects (else each is read here)."""
    patient = reminder.patient
    clinic = reminder.clinic
    tz = clinic.tzinfo
    name = first_name(patient)
    kind = reminder.kind
    if kind in (ReminderKind.APPOINTMENT_CONFIRMATION, ReminderKind.APPOINTMENT_REMINDER):
        appointment = _appointment(reminder, now, sources=sources)
        return Built(
            [
                name,
                doctor_text(appointment.doctor),
                when_text(appointment.starts_at, tz),
                clinic.name,
            ]
        )
    if kind == ReminderKind.MEDICINE:
        return _medicine(reminder, sources)
    if kind == ReminderKind.FOLLOW_UP:
        number = source_id(reminder.source)
        visit = (
            sources.visits.get(number)
            if sources is not None
            else Visit.objects.select_related("doctor__user").filter(pk=number).first()
        )
        if visit is None or visit.superseded_at is not None or visit.follow_up_date is None:
            raise Skip("The follow-up was changed.")
        return Built(
            [
                name,
                doctor_text(visit.doctor),
                date_text(visit.follow_up_date),
                clinic.name,
                clinic_phone_text(clinic) or clinic.name,
            ]
        )
    if kind in (ReminderKind.APPOINTMENT_MOVED, ReminderKind.APPOINTMENT_CANCELLED):
        return _change_notice(reminder, now, sources)
    if kind == ReminderKind.REVIEW_REQUEST:
        _appointment(reminder, now, completed=True, sources=sources)
        return Built([name, clinic.name])
    if kind == ReminderKind.DOCUMENT_READY:
        number = source_id(reminder.source)
        document = (
            sources.documents.get(number)
            if sources is not None
            else Document.objects.filter(pk=number).first()
        )
        if document is None or not document.is_ready:
            raise Skip("The document is no longer available.")
        # The kind in the patient's language ("पर्चा"), not the title staff gave it.
        kind_text = str(document.get_kind_display())
        return Built([name, kind_text, links.document_link(document), clinic.name])
    if kind == ReminderKind.REFILL:
        return _refill(reminder)
    raise Skip("Unknown reminder kind.")


def _refill(reminder: Reminder) -> Built:
    """first name, doctor, run-out date, clinic (messaging.services.refills): the first day
    a long-term medicine still taken runs out; no medicine names."""
    runs_out = {e["id"]: e["runs_out"] for e in (reminder.context or {}).get("items") or []}
    live = PrescriptionItem.objects.filter(
        pk__in=runs_out, long_term=True, stopped_at__isnull=True
    ).values_list("pk", flat=True)
    days = [runs_out[pk] for pk in live]
    prescription = (
        Prescription.objects.select_related("doctor__user")
        .filter(pk=source_id(reminder.source))
        .first()
    )
    if not days or prescription is None:
        raise Skip("The long-term medicines were stopped.")
    return Built(
        [
            first_name(reminder.patient),
            doctor_text(prescription.doctor),
            date_text(dt.date.fromisoformat(min(days))),
            reminder.clinic.name,
        ]
    )
