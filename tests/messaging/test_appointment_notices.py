"""The patient hears when the clinic cancels or moves their appointment (a template, with the
reason the clinic chose to give and a way to book again), over the simulator; and their
Confirm shows on the day view and in the appointments API."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from clinics.audit import Actions
from clinics.models import AuditEvent
from clinics.roles import Role
from messaging.defaults import default_for
from messaging.models import MessagingSettings, Reminder, ReminderKind, ReminderStatus
from messaging.services.dispatch import reminders_dispatch
from patients.models import Appointment
from patients.services.appointments import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
)
from tests.factories import MembershipFactory
from tests.messaging.care_setup import make_doctor, make_reminder_templates
from tests.messaging.conftest import PATIENT, make_patient, make_template


def default_templates(clinic, sim, purposes, languages=("en", "hi")):
    """Vaidya's own default templates for `purposes`, approved in Vaidya and on the simulator."""
    for purpose in purposes:
        for language in languages:
            default = default_for(purpose, language)
            make_template(
                clinic,
                sim=sim,
                name=default.name,
                language=language,
                purpose=purpose,
                body=default.body,
                buttons=default.button_texts,
            )


@pytest.fixture
def setup(scoped, wa_account, sim):
    MessagingSettings.objects.create(
        clinic=scoped, quiet_hours_start=time(0), quiet_hours_end=time(0)
    )
    doctor = make_doctor(scoped)
    make_reminder_templates(scoped, sim=sim)
    default_templates(scoped, sim, ("appointment_moved", "appointment_cancelled"))
    return doctor


def at(clinic, hour: int, days: int = 2) -> datetime:
    local = timezone.localtime(timezone.now(), clinic.tzinfo) + timedelta(days=days)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


def book(doctor, patient, hour=11) -> Appointment:
    appointment = appointment_book(
        patient=patient, doctor=doctor, actor=doctor.user, starts_at=at(patient.clinic, hour)
    )
    reminders_dispatch()  # the booking's confirmation goes out first
    return appointment


def test_clinic_cancel_tells_the_patient_why_and_how_to_book_again(setup, scoped, sim):
    patient = make_patient(scoped)
    appointment = book(setup, patient)
    appointment_cancel(
        appointment=appointment,
        actor=setup.user,
        reason="Doctor called in sick",
        patient_note="the doctor is unwell",
    )
    assert reminders_dispatch().statuses == {ReminderStatus.SENT: 1}
    notice = sim.received(PATIENT)[-1]
    assert "has cancelled your appointment with Dr Anita Rao" in notice["body"]
    assert "(the doctor is unwell)" in notice["body"]
    assert "call +91 80 4123 4567" in notice["body"]
    buttons = notice["request"]["template"]["components"][-1]
    reminder = Reminder.objects.get(kind=ReminderKind.APPOINTMENT_CANCELLED)
    assert buttons["parameters"][0]["payload"] == f"appt_rebook:{reminder.pk}"
    event = AuditEvent.objects.get(action=Actions.APPOINTMENT_CANCELLED)
    assert event.data == {"patient_told": True}


def test_clinic_cancel_in_hindi_without_a_reason_gives_a_polite_one(setup, scoped, sim):
    patient = make_patient(scoped, preferred_language="hi")
    appointment = book(setup, patient)
    appointment_cancel(appointment=appointment, actor=setup.user, reason="Clinic closed")
    reminders_dispatch()
    notice = sim.received(PATIENT)[-1]
    assert "रद्द कर दिया है (क्लिनिक को डॉक्टर का समय बदलना पड़ा)" in notice["body"]
    assert "+91 80 4123 4567 पर फ़ोन करें" in notice["body"]
    assert "Clinic closed" not in notice["body"]  # the clinic's own record stays inside


def test_a_moved_appointment_says_moved_not_booked(setup, scoped, sim):
    patient = make_patient(scoped)
    appointment = book(setup, patient)
    before = len(sim.received(PATIENT))
    appointment_reschedule(
        appointment=appointment,
        actor=setup.user,
        starts_at=at(scoped, 18),
        patient_note="the doctor is at a conference",
    )
    reminders_dispatch()
    [notice] = sim.received(PATIENT)[before:]
    assert "has moved your appointment with Dr Anita Rao to" in notice["body"]
    assert "6:00 PM" in notice["body"] and "(the doctor is at a conference)" in notice["body"]
    assert "booked" not in notice["body"]
    assert not Reminder.objects.filter(
        kind=ReminderKind.APPOINTMENT_CONFIRMATION, status=ReminderStatus.PLANNED
    ).exists()


def test_a_moved_appointment_in_hindi(setup, scoped, sim):
    patient = make_patient(scoped, preferred_language="hi")
    appointment = book(setup, patient)
    appointment_reschedule(appointment=appointment, actor=setup.user, starts_at=at(scoped, 18))
    reminders_dispatch()
    assert "बदलकर" in sim.received(PATIENT)[-1]["body"]


def test_nothing_is_sent_when_the_patient_cancelled_on_whatsapp(setup, scoped, sim):
    patient = make_patient(scoped)
    appointment = book(setup, patient)
    before = len(sim.received(PATIENT))
    appointment_cancel(
        appointment=appointment, actor=None, reason="Cancelled by the patient", by_patient=True
    )
    assert reminders_dispatch().claimed == 0
    assert len(sim.received(PATIENT)) == before


def test_no_notice_without_an_approved_template(scoped, wa_account, sim):
    MessagingSettings.objects.create(
        clinic=scoped, quiet_hours_start=time(0), quiet_hours_end=time(0)
    )
    doctor = make_doctor(scoped)
    patient = make_patient(scoped)
    appointment = appointment_book(
        patient=patient, doctor=doctor, actor=doctor.user, starts_at=at(scoped, 11)
    )
    appointment_cancel(appointment=appointment, actor=doctor.user, reason="Doctor away")
    reminders_dispatch()
    notice = Reminder.objects.get(kind=ReminderKind.APPOINTMENT_CANCELLED)
    assert (notice.status, notice.outcome) == (ReminderStatus.SKIPPED, "No approved template")


# --- the patient's Confirm on the schedule and in the API ------------------------------------
def test_confirm_shows_as_a_tick_on_the_day_view_and_in_the_api(setup, scoped, sim, api_client_for):
    patient = make_patient(scoped)
    appointment = book(setup, patient)
    staff = MembershipFactory(clinic=scoped, role=Role.FRONT_DESK).user
    web = Client()
    web.force_login(staff)
    day = appointment.starts_at.astimezone(scoped.tzinfo).date().isoformat()
    page = web.get(f"/c/{scoped.slug}/schedule/?date={day}").content.decode()
    assert "✓ Confirmed" not in page

    Appointment.objects.filter(pk=appointment.pk).update(patient_confirmed_at=timezone.now())
    page = web.get(f"/c/{scoped.slug}/schedule/?date={day}").content.decode()
    assert "✓ Confirmed" in page

    api = api_client_for(scoped)
    answer = api.get(f"/api/v1/appointments/?date={day}").json()
    [row] = [a for a in answer if a["id"] == appointment.pk]
    assert row["patient_confirmed_at"] is not None


def test_the_cancel_page_and_the_api_take_the_reason_for_the_patient(
    setup, scoped, sim, api_client_for
):
    patient = make_patient(scoped)
    first = book(setup, patient)
    staff = MembershipFactory(clinic=scoped, role=Role.FRONT_DESK).user
    web = Client()
    web.force_login(staff)
    page = web.get(f"/c/{scoped.slug}/schedule/appointments/{first.pk}/cancel/")
    assert "Tell the patient why (optional)" in page.content.decode()
    response = web.post(
        f"/c/{scoped.slug}/schedule/appointments/{first.pk}/cancel/",
        {"reason": "Doctor called in sick", "patient_note": "the doctor is unwell"},
    )
    assert response.status_code == 302
    second = appointment_book(
        patient=patient, doctor=setup, actor=setup.user, starts_at=at(scoped, 12)
    )
    api = api_client_for(scoped)
    answer = api.post(
        f"/api/v1/appointments/{second.pk}/reschedule/",
        {"starts_at": at(scoped, 19).isoformat(), "patient_note": "the morning is full"},
        format="json",
    )
    assert answer.status_code == 200
    notes = dict(
        Reminder.objects.filter(
            kind__in=[ReminderKind.APPOINTMENT_CANCELLED, ReminderKind.APPOINTMENT_MOVED]
        ).values_list("kind", "context__note")
    )
    assert notes == {
        ReminderKind.APPOINTMENT_CANCELLED: "the doctor is unwell",
        ReminderKind.APPOINTMENT_MOVED: "the morning is full",
    }
