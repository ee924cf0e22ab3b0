"""Patients' quick-reply answers to reminders: appointments, doses and visit ratings.

Each handler is registered with `messaging.replies.register_reply_handler` for its button
actions and returns the text sent back to the patient, in the patient's language (gettext,
locale/; English when Vaidya has no catalogue for it), or None when there is nothing to say.

- appt_confirm: the appointment is marked confirmed by the patient (shown to the front desk).
- appt_reschedule: the doctor's next free slots come back as a list to book with a tap
  (messaging.services.rebooking); with none free, the thread waits for the front desk.
- appt_cancel: the appointment is cancelled ("Cancelled by the patient on WhatsApp").
- dose_taken / dose_skipped: recorded on the dose (adherence).
- rate_1 .. rate_5: the visit's rating. At or below the clinic's low-rating threshold the
  doctor gets an escalation; 4 or 5 gets the clinic's review link when it has one.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from clinics.errors import DomainError
from clinics.languages import for_patient
from messaging.models import (
    DoseRecord,
    EscalationReason,
    Message,
    ReminderKind,
    VisitRating,
)
from messaging.replies import register_reply_handler
from messaging.services.accounts import messaging_settings_for
from messaging.services.adherence import dose_answer
from messaging.services.escalations import escalation_open
from messaging.services.rebooking import offer_slots
from messaging.services.reminder_answers import answered_reminder, reminder_outcome_record
from messaging.services.reminder_content import appointment_state_text, first_name, when_text
from messaging.services.reminders import source_id
from patients.models import Appointment, AppointmentStatus, Patient, Visit
from patients.services.appointments import appointment_cancel

PATIENT_CANCEL_REASON = "Cancelled by the patient on WhatsApp"

TEXTS = {
    "unknown": gettext_noop(
        "Sorry, we could not find what this answer is for. The clinic will get back to you."
    ),
    "confirmed": gettext_noop("Thank you, {name}. Your appointment on {when} is confirmed."),
    "reschedule": gettext_noop("Thank you, {name}. The clinic will call you to find a new time."),
    "cancelled": gettext_noop(
        "Your appointment on {when} is cancelled. Write to us any time to book again."
    ),
    "not_booked": gettext_noop(
        "This appointment is {status} already. Please call the clinic if you need help."
    ),
    "taken": gettext_noop("Thank you, {name}. Noted that you took your medicine."),
    "skipped": gettext_noop(
        "Noted, {name}. Please try not to miss doses; call the clinic if the medicine troubles you."
    ),
    "rated_low": gettext_noop(
        "Thank you for telling us, {name}. We are sorry. Someone from {clinic} will call you."
    ),
    "rated_mid": gettext_noop("Thank you for your rating, {name}."),
    "rated_high": gettext_noop(
        "Thank you, {name}! It would help others if you shared your experience: {link}"
    ),
    "rated_high_no_link": gettext_noop("Thank you, {name}! We are glad the visit went well."),
    "rated_already": gettext_noop("Thank you, {name}. We already have your rating for this visit."),
}


def _text(patient: Patient | None, key: str, **values: str | Callable[[], str]) -> str:
    """TEXTS[key] in the patient's language; a value given as a function (a date, a state) is
    written in that language too."""
    with for_patient(patient.preferred_language if patient is not None else None):
        filled = {k: v() if callable(v) else v for k, v in values.items()}
        return gettext(TEXTS[key]).format(**filled)


APPOINTMENT_KINDS = (
    ReminderKind.APPOINTMENT_CONFIRMATION,
    ReminderKind.APPOINTMENT_REMINDER,
    ReminderKind.APPOINTMENT_MOVED,
)
# What the patient's answer to an appointment reminder did (its `outcome`; the reports count them).
CONFIRMED = "Confirmed by the patient."
ASKED_TO_MOVE = "The patient asked for another time."
CANCELLED_BY_PATIENT = "Cancelled by the patient."


@register_reply_handler("appt_confirm", "appt_reschedule", "appt_cancel")
def appointment_reply(message: Message, action: str, reminder_id: int) -> str | None:
    """Confirm, ask to reschedule or cancel the appointment a reminder was about."""
    reminder = answered_reminder(message, reminder_id, APPOINTMENT_KINDS)
    patient = reminder.patient if reminder else None
    if reminder is None:
        return _text(None, "unknown")
    appointment = (
        Appointment.objects.select_related("clinic").filter(pk=source_id(reminder.source)).first()
    )
    if appointment is None:
        return _text(patient, "unknown")
    name = first_name(patient)
    tz = appointment.clinic.tzinfo

    def when() -> str:
        return when_text(appointment.starts_at, tz)

    if appointment.status != AppointmentStatus.BOOKED:
        return _text(
            patient, "not_booked", status=lambda: appointment_state_text(appointment.status)
        )
    if action == "appt_confirm":
        with transaction.atomic():
            Appointment.objects.filter(pk=appointment.pk).update(
                patient_confirmed_at=timezone.now()
            )
            reminder_outcome_record(reminder, CONFIRMED)
        return _text(patient, "confirmed", name=name, when=when)
    if action == "appt_reschedule":
        with transaction.atomic():
            reminder_outcome_record(reminder, ASKED_TO_MOVE)
            return offer_slots(message=message, reminder=reminder, doctor=appointment.doctor)
    try:
        with transaction.atomic():
            appointment_cancel(
                appointment=appointment,
                actor=None,
                reason=PATIENT_CANCEL_REASON,
                by_patient=True,
            )
            reminder_outcome_record(reminder, CANCELLED_BY_PATIENT)
    except DomainError:
        appointment.refresh_from_db()
        return _text(
            patient, "not_booked", status=lambda: appointment_state_text(appointment.status)
        )
    return _text(patient, "cancelled", when=when)


def _not_booked(patient: Patient | None, appointment: Appointment) -> str:
    return _text(patient, "not_booked", status=lambda: appointment_state_text(appointment.status))


@register_reply_handler("dose_taken", "dose_skipped")
def dose_reply(message: Message, action: str, reminder_id: int) -> str | None:
    """Record whether the patient took the reminded dose."""
    reminder = answered_reminder(message, reminder_id, (ReminderKind.MEDICINE,))
    if reminder is None:
        return _text(None, "unknown")
    dose = DoseRecord.objects.filter(reminder=reminder).first()
    if dose is None:
        return _text(reminder.patient, "unknown")
    taken = action == "dose_taken"
    dose_answer(dose=dose, taken=taken, at=message.created_at, message=message)
    return _text(
        reminder.patient, "taken" if taken else "skipped", name=first_name(reminder.patient)
    )


@register_reply_handler("rate_1", "rate_2", "rate_3", "rate_4", "rate_5")
def rating_reply(message: Message, action: str, reminder_id: int) -> str | None:
    """Store the patient's 1-5 rating of the visit; alert the doctor when it is low."""
    reminder = answered_reminder(message, reminder_id, (ReminderKind.REVIEW_REQUEST,))
    if reminder is None:
        return _text(None, "unknown")
    patient = reminder.patient
    name = first_name(patient)
    appointment = (
        Appointment.objects.select_related("clinic").filter(pk=source_id(reminder.source)).first()
    )
    if appointment is None:
        return _text(patient, "unknown")
    rating = int(action.removeprefix("rate_"))
    visit = Visit.objects.filter(appointment=appointment, superseded_at__isnull=True).first()
    settings = messaging_settings_for(appointment.clinic_id)
    with transaction.atomic():
        if VisitRating.objects.filter(appointment=appointment).exists():
            return _text(patient, "rated_already", name=name)
        VisitRating.objects.create(
            clinic_id=appointment.clinic_id,
            patient=patient,
            appointment=appointment,
            visit=visit,
            rating=rating,
            message=message,
        )
        reminder_outcome_record(reminder, f"Rated {rating} of 5.")
        if rating <= settings.low_rating_threshold:
            escalation_open(
                patient=patient,
                reason=EscalationReason.LOW_RATING,
                detail=f"The patient rated the visit {rating} of 5.",
                subject=f"appointment:{appointment.pk}",
                doctor=visit.doctor if visit else appointment.doctor,
                message=message,
            )
            return _text(patient, "rated_low", name=name, clinic=appointment.clinic.name)
    if rating >= 4:
        if settings.review_link:
            return _text(patient, "rated_high", name=name, link=settings.review_link)
        return _text(patient, "rated_high_no_link", name=name)
    return _text(patient, "rated_mid", name=name)
