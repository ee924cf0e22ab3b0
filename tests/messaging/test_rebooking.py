"""Rescheduling and booking again from WhatsApp: the doctor's next free slots arrive as a list
message and one tap books, under the booking rules. Over the simulator."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from messaging.defaults import default_for
from messaging.models import (
    Conversation,
    MessageTemplate,
    MessagingSettings,
    Reminder,
    ReminderKind,
)
from messaging.services.dispatch import reminders_dispatch
from messaging.services.reminder_content import slot_title, when_text
from patients.models import Appointment, AppointmentStatus
from patients.selectors.appointments import doctor_free_slots_range
from patients.services.appointments import (
    appointment_book,
    appointment_cancel,
    doctor_leave_add,
)
from tests.messaging.care_setup import make_doctor, make_reminder_templates, sign_visit
from tests.messaging.conftest import PATIENT, make_patient, make_template
from tests.messaging.test_appointment_notices import default_templates
from tests.messaging.test_inbound import make_relay


@pytest.fixture
def web():
    return Client()


@pytest.fixture
def relay(web, wa_account, receiver, django_capture_on_commit_callbacks):
    return make_relay(web, wa_account, receiver, django_capture_on_commit_callbacks)


@pytest.fixture
def doctor(scoped, wa_account, sim):
    MessagingSettings.objects.create(
        clinic=scoped, quiet_hours_start=time(0), quiet_hours_end=time(0)
    )
    scoped.booking_horizon_days = 3
    scoped.save(update_fields=["booking_horizon_days"])
    make_reminder_templates(scoped, sim=sim)
    make_reminder_templates(scoped, sim=sim, language="hi")
    default_templates(scoped, sim, ("appointment_cancelled",))
    return make_doctor(scoped)


def local(clinic, days: int, hour: int, minute: int = 0) -> datetime:
    day = timezone.localtime(timezone.now(), clinic.tzinfo) + timedelta(days=days)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def booked_and_confirmed(doctor, patient) -> tuple[Appointment, Reminder]:
    appointment = appointment_book(
        patient=patient, doctor=doctor, actor=doctor.user, starts_at=local(doctor.clinic, 2, 11)
    )
    reminders_dispatch()  # the confirmation, with Confirm / Reschedule / Cancel
    return appointment, Reminder.objects.get(kind=ReminderKind.APPOINTMENT_CONFIRMATION)


def last_list(sim) -> dict:
    lists = [m for m in sim.received(PATIENT) if m["type"] == "interactive"]
    assert lists, "no list message reached the patient"
    return lists[-1]


def test_reschedule_offers_free_slots_under_the_booking_rules_and_a_tap_moves_it(
    doctor, scoped, sim, relay
):
    clinic = scoped
    patient = make_patient(clinic)
    other = make_patient(clinic, phone="+91 98765 00000")
    appointment, reminder = booked_and_confirmed(doctor, patient)
    # Tomorrow the doctor is on leave; another patient holds the day after's 10:00.
    doctor_leave_add(
        doctor=doctor,
        actor=doctor.user,
        starts_at=local(clinic, 1, 0),
        ends_at=local(clinic, 2, 0),
    )
    appointment_book(
        patient=other, doctor=doctor, actor=doctor.user, starts_at=local(clinic, 2, 10)
    )

    sim.reply(PATIENT, button_payload=f"appt_reschedule:{reminder.pk}", button_text="Reschedule")
    relay()
    offer = last_list(sim)
    request = offer["request"]["interactive"]
    assert request["type"] == "list" and request["action"]["button"] == "Choose a time"
    assert "Dr Anita Rao's next free times" in offer["body"] and "+91 80 4123 4567" in offer["body"]
    rows = offer["list"]["rows"]
    assert len(rows) <= 10 and rows[-1]["title"] == "Call me instead"
    tz = clinic.tzinfo
    today = timezone.localtime(timezone.now(), tz).date()
    free = doctor_free_slots_range(doctor, today, 4)
    expected = [s.start for d in sorted(free) for s in free[d][:3]][:9]
    assert [r["title"] for r in rows[:-1]] == [when_text(s, tz) for s in expected]
    days = {s.date() for s in expected}
    assert today + timedelta(days=1) not in days  # on leave
    assert all(d <= today + timedelta(days=3) for d in days)  # the booking horizon
    assert when_text(local(clinic, 2, 10), tz) not in [r["title"] for r in rows]  # taken
    assert not Conversation.objects.get(wa_id=PATIENT).needs_reply

    chosen = rows[-2]
    sim.choose_from_list(PATIENT, chosen["id"])
    relay()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    assert when_text(appointment.starts_at, tz) == chosen["title"]
    assert sim.received(PATIENT)[-1]["body"].startswith("Done, ")
    assert f"is now on {chosen['title']}" in sim.received(PATIENT)[-1]["body"]
    # The patient chose it: no "moved" notice follows.
    assert not Reminder.objects.filter(kind=ReminderKind.APPOINTMENT_MOVED).exists()


def test_reschedule_in_hindi(doctor, scoped, sim, relay):
    patient = make_patient(scoped, preferred_language="hi")
    appointment, reminder = booked_and_confirmed(doctor, patient)
    sim.reply(PATIENT, button_payload=f"appt_reschedule:{reminder.pk}", button_text="समय बदलें")
    relay()
    offer = last_list(sim)
    assert "अगले खाली समय" in offer["body"]
    assert offer["request"]["interactive"]["action"]["button"] == "समय चुनें"
    rows = offer["list"]["rows"]
    assert rows[-1]["title"] == "मुझे फ़ोन करें"
    sim.choose_from_list(PATIENT, rows[0]["id"])
    relay()
    done = sim.received(PATIENT)[-1]["body"]
    assert "हो गया" in done
    appointment.refresh_from_db()
    with translation.override("hi"):  # the day and time in Hindi, in the list and the answer
        assert slot_title(appointment.starts_at, scoped.tzinfo) == rows[0]["title"]
        assert when_text(appointment.starts_at, scoped.tzinfo) in done
    assert "डॉ. " in done and "AM" not in done and "PM" not in done


def test_a_slot_taken_meanwhile_is_not_double_booked(doctor, scoped, sim, relay):
    patient = make_patient(scoped)
    other = make_patient(scoped, phone="+91 98765 00000")
    appointment, reminder = booked_and_confirmed(doctor, patient)
    sim.reply(PATIENT, button_payload=f"appt_reschedule:{reminder.pk}")
    relay()
    first = last_list(sim)["list"]["rows"][0]
    offered = Reminder.objects.get(pk=reminder.pk).context["offered"][0]
    appointment_book(
        patient=other,
        doctor=doctor,
        actor=doctor.user,
        starts_at=datetime.fromisoformat(offered),
    )
    sim.choose_from_list(PATIENT, first["id"])
    relay()
    again = last_list(sim)
    assert again["body"].startswith("Sorry, that time was just taken.")
    assert first["title"] not in [r["title"] for r in again["list"]["rows"]]
    assert Appointment.objects.get(pk=appointment.pk).starts_at == appointment.starts_at


def test_call_me_instead_asks_the_front_desk(doctor, scoped, sim, relay):
    patient = make_patient(scoped)
    _appointment, reminder = booked_and_confirmed(doctor, patient)
    sim.reply(PATIENT, button_payload=f"appt_reschedule:{reminder.pk}")
    relay()
    sim.choose_from_list(PATIENT, last_list(sim)["list"]["rows"][-1]["id"])
    relay()
    assert "The clinic will call you" in sim.received(PATIENT)[-1]["body"]
    assert Conversation.objects.get(wa_id=PATIENT).needs_reply


def test_book_again_after_the_clinic_cancelled(doctor, scoped, sim, relay):
    patient = make_patient(scoped)
    appointment, _ = booked_and_confirmed(doctor, patient)
    appointment_cancel(appointment=appointment, actor=doctor.user, reason="Doctor away")
    reminders_dispatch()
    notice = Reminder.objects.get(kind=ReminderKind.APPOINTMENT_CANCELLED)
    sim.reply(PATIENT, button_payload=f"appt_rebook:{notice.pk}", button_text="Book again")
    relay()
    row = last_list(sim)["list"]["rows"][0]
    sim.choose_from_list(PATIENT, row["id"])
    relay()
    new = Appointment.objects.get(status=AppointmentStatus.BOOKED, patient=patient)
    assert when_text(new.starts_at, scoped.tzinfo) == row["title"]
    assert "is booked for" in sim.received(PATIENT)[-1]["body"]
    # Answered in the chat: no "booked" confirmation template follows.
    assert not Reminder.objects.filter(
        kind=ReminderKind.APPOINTMENT_CONFIRMATION, source=f"appointment:{new.pk}"
    ).exists()
    # A second tap moves that booking instead of booking twice.
    sim.choose_from_list(PATIENT, last_list(sim)["list"]["rows"][1]["id"])
    relay()
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED, patient=patient).count() == 1


def test_the_follow_up_reminder_gives_the_phone_and_offers_the_slots(doctor, scoped, sim, relay):
    # The clinic's follow-up template is the new default (with the phone and the button).
    MessageTemplate.objects.filter(purpose="follow_up_reminder", language="en").delete()
    default = default_for("follow_up_reminder", "en")
    make_template(
        scoped,
        sim=sim,
        name="vaidya_follow_up_reminder_v2",
        purpose="follow_up_reminder",
        body=default.body,
        buttons=default.button_texts,
    )
    patient = make_patient(scoped)
    follow_up = timezone.localtime(timezone.now(), scoped.tzinfo).date() + timedelta(days=2)
    visit = sign_visit(doctor, patient, follow_up=follow_up)
    reminder = Reminder.objects.get(kind=ReminderKind.FOLLOW_UP, source=f"visit:{visit.pk}")
    reminders_dispatch(now=reminder.due_at)
    message = sim.received(PATIENT)[-1]
    assert "or call the clinic on +91 80 4123 4567" in message["body"]
    button = message["request"]["template"]["components"][-1]
    assert button["parameters"][0]["payload"] == f"fu_book:{reminder.pk}"

    sim.reply(PATIENT, button_payload=f"fu_book:{reminder.pk}", button_text="Choose a time")
    relay()
    rows = last_list(sim)["list"]["rows"]
    offered = Reminder.objects.get(pk=reminder.pk).context["offered"]
    assert len(offered) == len(rows) - 1
    # From the follow-up date on (the horizon ends the day after).
    assert {datetime.fromisoformat(s).astimezone(scoped.tzinfo).date() for s in offered} <= {
        follow_up,
        follow_up + timedelta(days=1),
    }
    sim.choose_from_list(PATIENT, rows[0]["id"])
    relay()
    new = Appointment.objects.get(patient=patient, status=AppointmentStatus.BOOKED)
    assert new.starts_at.astimezone(scoped.tzinfo).date() == follow_up
    assert new.reason == "Follow-up"


def test_an_old_follow_up_template_still_goes_out(doctor, scoped, sim):
    """A clinic whose follow-up template was approved before it had the phone: it still works."""
    patient = make_patient(scoped)
    follow_up = timezone.localtime(timezone.now(), scoped.tzinfo).date() + timedelta(days=2)
    visit = sign_visit(doctor, patient, follow_up=follow_up)
    reminder = Reminder.objects.get(kind=ReminderKind.FOLLOW_UP, source=f"visit:{visit.pk}")
    reminders_dispatch(now=reminder.due_at)
    message = sim.received(PATIENT)[-1]
    assert message["type"] == "template" and message["body"].endswith(f"at {scoped.name}.")
