"""Patients answer reminders with quick replies: appointments, doses and visit ratings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clinics.audit import Actions
from clinics.models import AuditEvent
from messaging.models import (
    Conversation,
    Direction,
    DoseOutcome,
    DoseRecord,
    Escalation,
    EscalationReason,
    Message,
    MessageKind,
    MessageStatus,
    MessagingSettings,
    Reminder,
    ReminderKind,
    ReminderStatus,
    VisitRating,
)
from messaging.replies import dispatch_reply
from messaging.services.adherence import dose_reminded
from messaging.services.care_replies import PATIENT_CANCEL_REASON
from patients.models import Appointment, AppointmentStatus, Visit
from tests.messaging.care_setup import make_doctor
from tests.messaging.conftest import make_patient


@pytest.fixture
def doctor(scoped):
    return make_doctor(scoped)


def conversation_of(patient, account) -> Conversation:
    return Conversation.objects.get_or_create(
        clinic_id=patient.clinic_id, account=account, patient=patient, wa_id="919876543210"
    )[0]


def press(patient, account, payload: str, text: str = "") -> tuple[bool, str | None]:
    """The patient presses a quick-reply button: the inbound message, routed to its handler."""
    message = Message.objects.create(
        clinic_id=patient.clinic_id,
        conversation=conversation_of(patient, account),
        patient=patient,
        direction=Direction.INBOUND,
        kind=MessageKind.BUTTON,
        body=text or payload,
        payload=payload,
        status=MessageStatus.RECEIVED,
    )
    return dispatch_reply(message)


def booked(patient, doctor, *, days=2) -> Appointment:
    starts = timezone.now().replace(microsecond=0) + timedelta(days=days)
    return Appointment.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        doctor=doctor,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=15),
    )


def reminder_for(patient, kind, source, **fields) -> Reminder:
    return Reminder.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        kind=kind,
        source=source,
        due_at=fields.pop("due_at", timezone.now()),
        status=fields.pop("status", ReminderStatus.SENT),
        **fields,
    )


# --- appointments ---------------------------------------------------------------------------
def test_confirm_marks_the_appointment_confirmed_for_the_front_desk(
    scoped, doctor, patient, wa_account
):
    appt = booked(patient, doctor)
    reminder = reminder_for(patient, ReminderKind.APPOINTMENT_REMINDER, f"appointment:{appt.pk}")
    handled, reply = press(patient, wa_account, f"appt_confirm:{reminder.pk}", "Confirm")
    assert handled
    assert reply.startswith(f"Thank you, {patient.full_name.split()[0]}. Your appointment on ")
    assert reply.endswith(" is confirmed.")
    appt.refresh_from_db()
    assert appt.patient_confirmed_at is not None and appt.status == AppointmentStatus.BOOKED
    reminder.refresh_from_db()
    assert reminder.outcome == "Confirmed by the patient."


def test_reschedule_asks_the_front_desk_to_reply(scoped, doctor, patient, wa_account):
    appt = booked(patient, doctor)
    reminder = reminder_for(patient, ReminderKind.APPOINTMENT_REMINDER, f"appointment:{appt.pk}")
    _, reply = press(patient, wa_account, f"appt_reschedule:{reminder.pk}")
    assert "will call you to find a new time" in reply
    assert Conversation.objects.get().needs_reply is True
    appt.refresh_from_db()
    assert appt.status == AppointmentStatus.BOOKED


def test_cancel_cancels_the_appointment_and_its_other_reminders(
    scoped, doctor, patient, wa_account
):
    appt = booked(patient, doctor)
    source = f"appointment:{appt.pk}"
    reminder = reminder_for(patient, ReminderKind.APPOINTMENT_CONFIRMATION, source)
    later = reminder_for(
        patient,
        ReminderKind.APPOINTMENT_REMINDER,
        source,
        status=ReminderStatus.PLANNED,
        due_at=appt.starts_at - timedelta(hours=2),
    )
    _, reply = press(patient, wa_account, f"appt_cancel:{reminder.pk}")
    assert reply.startswith("Your appointment on ") and "is cancelled" in reply
    appt.refresh_from_db()
    assert (appt.status, appt.cancel_reason) == (AppointmentStatus.CANCELLED, PATIENT_CANCEL_REASON)
    later.refresh_from_db()
    assert later.status == ReminderStatus.CANCELLED
    event = AuditEvent.objects.get(action=Actions.APPOINTMENT_CANCELLED)
    assert event.actor is None  # the patient, not a staff member

    # Pressing again: nothing more happens, and the patient is told.
    _, again = press(patient, wa_account, f"appt_cancel:{reminder.pk}")
    assert again.startswith("This appointment is cancelled already.")


def test_replies_are_in_hindi_for_hindi_speaking_patients(scoped, doctor, wa_account):
    patient = make_patient(scoped, preferred_language="hi")
    appt = booked(patient, doctor)
    reminder = reminder_for(patient, ReminderKind.APPOINTMENT_REMINDER, f"appointment:{appt.pk}")
    _, reply = press(patient, wa_account, f"appt_confirm:{reminder.pk}")
    assert "अपॉइंटमेंट पक्का है" in reply


def test_a_button_of_another_patients_reminder_changes_nothing(scoped, doctor, patient, wa_account):
    other = make_patient(scoped, phone="+91 98450 11111")
    appt = booked(other, doctor)
    reminder = reminder_for(other, ReminderKind.APPOINTMENT_REMINDER, f"appointment:{appt.pk}")
    handled, reply = press(patient, wa_account, f"appt_cancel:{reminder.pk}")
    assert handled and reply.startswith("Sorry, we could not find")
    appt.refresh_from_db()
    assert appt.status == AppointmentStatus.BOOKED


# --- doses ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("action", "outcome"),
    [("dose_taken", DoseOutcome.TAKEN), ("dose_skipped", DoseOutcome.SKIPPED)],
)
def test_dose_answers_are_recorded(scoped, patient, wa_account, action, outcome):
    reminder = reminder_for(patient, ReminderKind.MEDICINE, "prescription:999", context={})
    dose_reminded(reminder=reminder)
    _, reply = press(patient, wa_account, f"{action}:{reminder.pk}")
    dose = DoseRecord.objects.get(reminder=reminder)
    assert dose.outcome == outcome and dose.answered_at is not None
    assert reply.startswith("Thank you" if outcome == DoseOutcome.TAKEN else "Noted")


# --- ratings --------------------------------------------------------------------------------
def completed_visit(patient, doctor):
    appt = booked(patient, doctor, days=-1)
    Appointment.objects.filter(pk=appt.pk).update(
        status=AppointmentStatus.COMPLETED, completed_at=appt.ends_at
    )
    visit = Visit.objects.create(
        clinic_id=patient.clinic_id, patient=patient, doctor=doctor, appointment=appt
    )
    review = reminder_for(patient, ReminderKind.REVIEW_REQUEST, f"appointment:{appt.pk}")
    return appt, visit, review


def test_a_low_rating_alerts_the_doctor_and_promises_a_call(scoped, doctor, patient, wa_account):
    appt, visit, review = completed_visit(patient, doctor)
    _, reply = press(patient, wa_account, f"rate_2:{review.pk}")
    assert "will call you" in reply and scoped.name in reply
    rating = VisitRating.objects.get()
    assert (rating.rating, rating.appointment, rating.visit) == (2, appt, visit)
    escalation = Escalation.objects.get()
    assert escalation.reason == EscalationReason.LOW_RATING
    assert escalation.doctor == doctor and escalation.patient == patient
    # One rating per visit.
    _, again = press(patient, wa_account, f"rate_5:{review.pk}")
    assert "already have your rating" in again
    assert VisitRating.objects.get().rating == 2


def test_a_high_rating_gets_the_review_link(scoped, doctor, patient, wa_account):
    MessagingSettings.objects.create(clinic=scoped, review_link="https://g.page/r/asha-clinic")
    _, _, review = completed_visit(patient, doctor)
    _, reply = press(patient, wa_account, f"rate_5:{review.pk}")
    assert reply.endswith("https://g.page/r/asha-clinic")
    assert Escalation.objects.count() == 0


def test_a_middle_rating_is_thanked(scoped, doctor, patient, wa_account):
    _, _, review = completed_visit(patient, doctor)
    _, reply = press(patient, wa_account, f"rate_3:{review.pk}")
    assert reply == f"Thank you for your rating, {patient.full_name.split()[0]}."
    assert Escalation.objects.count() == 0
