"""'Needs reply' stays until a person answers, and a patient writing while the clinic is closed
is told its hours and phone. Over the simulator: the patient's phone sends real webhooks."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from clinics.roles import Role
from messaging.models import Conversation, Reminder, ReminderKind, ReminderStatus
from messaging.services.auto_replies import clinic_hours_text
from messaging.services.sending import message_queue_text
from patients.models import Appointment, AppointmentStatus
from patients.services.appointments import SessionInput, working_hours_set
from tests.factories import DoctorProfileFactory, MembershipFactory
from tests.messaging.care_setup import make_doctor
from tests.messaging.conftest import PATIENT, make_patient
from tests.messaging.test_inbound import make_relay


@pytest.fixture
def web():
    return Client()


@pytest.fixture
def relay(web, wa_account, receiver, django_capture_on_commit_callbacks):
    return make_relay(web, wa_account, receiver, django_capture_on_commit_callbacks)


def open_all_day(clinic):
    """A doctor who works all of today (so the clinic is open now)."""
    owner = MembershipFactory(clinic=clinic, role=Role.OWNER)
    doctor = DoctorProfileFactory(membership__clinic=clinic).membership
    today = timezone.now().astimezone(clinic.tzinfo).weekday()
    working_hours_set(
        doctor=doctor,
        actor=owner.user,
        sessions=[SessionInput(weekday=today, start=time(0, 0), end=time(23, 59))],
    )
    return doctor


def closed_today(clinic):
    """A doctor who works only on the day after tomorrow, 10:00-13:00 (closed now)."""
    owner = MembershipFactory(clinic=clinic, role=Role.OWNER)
    doctor = DoctorProfileFactory(membership__clinic=clinic).membership
    day = (timezone.now().astimezone(clinic.tzinfo).weekday() + 2) % 7
    working_hours_set(
        doctor=doctor,
        actor=owner.user,
        sessions=[SessionInput(weekday=day, start=time(10), end=time(13))],
    )
    return doctor, day


def conversation() -> Conversation:
    return Conversation.objects.get(wa_id=PATIENT)


def sent_reminder(patient, kind, source) -> Reminder:
    return Reminder.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        kind=kind,
        source=source,
        due_at=timezone.now(),
        status=ReminderStatus.SENT,
    )


def booked(patient, doctor, days=2, **fields) -> Appointment:
    starts = timezone.now().replace(microsecond=0) + timedelta(days=days)
    return Appointment.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        doctor=doctor,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=15),
        **fields,
    )


def test_automatic_replies_leave_unanswered_words_in_needs_reply(sim, wa_account, scoped, relay):
    """The issue's two threads: 'chest pain' then Reschedule, 'tablets with milk' then a
    low rating. The automatic answers went out, and both threads still wait for a person."""
    doctor = open_all_day(scoped)
    patient = make_patient(scoped)
    appointment = booked(patient, doctor)
    reminder = sent_reminder(
        patient, ReminderKind.APPOINTMENT_REMINDER, f"appointment:{appointment.pk}"
    )
    sim.reply(PATIENT, "I have chest pain since morning")
    relay()
    assert conversation().needs_reply
    sim.reply(PATIENT, button_payload=f"appt_reschedule:{reminder.pk}", button_text="Reschedule")
    relay()
    # The automatic answers went out: the urgent reply to "chest pain" (call 112 now) and the
    # list of free times.
    sent = sim.received(PATIENT)
    assert [m["type"] for m in sent] == ["text", "interactive"] and "112" in sent[0]["body"]
    assert conversation().needs_reply

    sim.reply(PATIENT, "Can I take the tablets with milk?")
    relay()
    done = booked(patient, doctor, days=-1, status=AppointmentStatus.COMPLETED)
    rating = sent_reminder(patient, ReminderKind.REVIEW_REQUEST, f"appointment:{done.pk}")
    sim.reply(PATIENT, button_payload=f"rate_1:{rating.pk}", button_text="1")
    relay()
    assert "We are sorry" in sim.received(PATIENT)[-1]["body"]
    assert conversation().needs_reply

    sim.reply(PATIENT, "STOP")
    relay()
    assert "START" in sim.received(PATIENT)[-1]["body"]
    assert conversation().needs_reply


def test_a_handled_button_alone_does_not_ask_for_a_reply(sim, wa_account, scoped, relay):
    doctor = open_all_day(scoped)
    patient = make_patient(scoped)
    appointment = booked(patient, doctor)
    reminder = sent_reminder(
        patient, ReminderKind.APPOINTMENT_REMINDER, f"appointment:{appointment.pk}"
    )
    sim.reply(PATIENT, button_payload=f"appt_confirm:{reminder.pk}", button_text="Confirm")
    relay()
    assert "is confirmed" in sim.received(PATIENT)[0]["body"]
    assert not conversation().needs_reply


def test_a_persons_answer_or_no_reply_needed_clears_it(sim, wa_account, scoped, relay, web):
    open_all_day(scoped)
    make_patient(scoped)
    sim.reply(PATIENT, "Is the doctor in today?")
    relay()
    staff = MembershipFactory(clinic=scoped, role=Role.FRONT_DESK).user
    message_queue_text(conversation=conversation(), body="Yes, until 8 pm.", actor=staff)
    assert not conversation().needs_reply

    sim.reply(PATIENT, "Thanks")
    relay()
    assert conversation().needs_reply
    web.force_login(staff)
    response = web.post(f"/c/{scoped.slug}/messages/{conversation().pk}/no-reply-needed/")
    assert response.status_code == 302
    assert not conversation().needs_reply
    assert conversation().state == "open"
    # Saying it again is refused with a message, not an error page.
    response = web.post(f"/c/{scoped.slug}/messages/{conversation().pk}/no-reply-needed/")
    assert response.status_code == 200
    assert "not waiting for a reply" in response.content.decode()


def test_writing_while_closed_gets_the_hours_and_phone_once(sim, wa_account, scoped, relay):
    _doctor, day = closed_today(scoped)
    make_patient(scoped)
    sim.reply(PATIENT, "Can I take the tablets with milk?")
    relay()
    [ack] = sim.received(PATIENT)
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    assert f"{scoped.name} is closed now" in ack["body"]
    assert f"Our hours: {days[day]} 10:00-13:00." in ack["body"]
    assert "call +91 80 4123 4567" in ack["body"]
    assert conversation().needs_reply
    sim.reply(PATIENT, "Hello?")
    relay()
    assert len(sim.received(PATIENT)) == 1  # once, not after every message


def test_writing_while_closed_in_hindi(sim, wa_account, scoped, relay):
    _doctor, day = closed_today(scoped)
    make_patient(scoped, preferred_language="hi")
    sim.reply(PATIENT, "क्या दवा दूध के साथ ले सकते हैं?")
    relay()
    [ack] = sim.received(PATIENT)
    days = ("सोम", "मंगल", "बुध", "गुरु", "शुक्र", "शनि", "रवि")
    assert "अभी बंद है" in ack["body"]
    assert f"हमारा समय: {days[day]} 10:00-13:00।" in ack["body"]
    assert "+91 80 4123 4567 पर फ़ोन करें" in ack["body"]


def test_no_acknowledgement_while_a_doctor_works(sim, wa_account, scoped, relay):
    open_all_day(scoped)
    make_patient(scoped)
    sim.reply(PATIENT, "Hello")
    relay()
    assert sim.received(PATIENT) == []


def test_hours_group_days_with_the_same_sessions(scoped):
    make_doctor(scoped)  # 10-13 and 17-20 every day
    assert clinic_hours_text(scoped) == "Mon-Sun 10:00-13:00, 17:00-20:00"
