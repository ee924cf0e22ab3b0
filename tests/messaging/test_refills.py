"""Refill reminders: a long-term medicine's patient is reminded a few days before it runs out,
and asks for a repeat prescription (an item on the doctor's board) or books a visit with a
tap. Over the WhatsApp simulator, in English and Hindi."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from messaging.models import (
    Escalation,
    EscalationReason,
    MessagingSettings,
    Reminder,
    ReminderKind,
    ReminderStatus,
)
from messaging.services.dispatch import reminders_dispatch
from messaging.services.refills import plan_refill
from messaging.services.reminder_content import date_text
from patients import services
from patients.models import Appointment, AppointmentStatus, PrescriptionItem
from tests.messaging.care_setup import AMOXICILLIN, make_doctor, sign_visit
from tests.messaging.conftest import PATIENT, make_patient
from tests.messaging.test_appointment_notices import default_templates
from tests.messaging.test_inbound import make_relay

METFORMIN = {
    "generic_name": "metformin",
    "strength": "500 mg",
    "form": "tablet",
    "frequency": "1-0-1",
    "duration_days": 30,
    "long_term": True,
}


@pytest.fixture
def relay(wa_account, receiver, django_capture_on_commit_callbacks):
    return make_relay(Client(), wa_account, receiver, django_capture_on_commit_callbacks)


@pytest.fixture
def doctor(scoped, wa_account, sim):
    MessagingSettings.objects.create(
        clinic=scoped, quiet_hours_start=time(0), quiet_hours_end=time(0)
    )
    scoped.booking_horizon_days = 3
    scoped.save(update_fields=["booking_horizon_days"])
    default_templates(scoped, sim, ("refill_reminder",))
    return make_doctor(scoped)


def today(clinic):
    return timezone.localtime(timezone.now(), clinic.tzinfo).date()


def refill_of(visit) -> Reminder:
    return Reminder.objects.get(
        kind=ReminderKind.REFILL, source=f"prescription:{visit.prescription.pk}"
    )


def test_a_long_term_medicine_is_reminded_three_days_before_it_runs_out(doctor, scoped):
    patient = make_patient(scoped)
    visit = sign_visit(doctor, patient, items=[METFORMIN, AMOXICILLIN])
    reminder = refill_of(visit)
    runs_out = today(scoped) + timedelta(days=30)
    expected = datetime.combine(runs_out - timedelta(days=3), time(9, 30), tzinfo=scoped.tzinfo)
    assert reminder.due_at == expected
    assert [e["runs_out"] for e in reminder.context["items"]] == [runs_out.isoformat()]
    # A course that is not long-term gets none.
    other = sign_visit(doctor, make_patient(scoped, phone="+91 98765 00001"), items=[AMOXICILLIN])
    assert not Reminder.objects.filter(
        kind=ReminderKind.REFILL, source=f"prescription:{other.prescription.pk}"
    ).exists()


def test_the_clinic_chooses_how_many_days_before(doctor, scoped):
    MessagingSettings.objects.filter(clinic=scoped).update(refill_reminder_days=7)
    visit = sign_visit(doctor, make_patient(scoped), items=[METFORMIN])
    runs_out = today(scoped) + timedelta(days=30)
    assert refill_of(visit).due_at.astimezone(scoped.tzinfo).date() == runs_out - timedelta(7)


def test_repeat_prescription_lands_on_the_doctors_board(doctor, scoped, sim, relay, client_for):
    patient = make_patient(scoped, full_name="Meera Iyer")
    visit = sign_visit(doctor, patient, items=[METFORMIN])
    reminder = refill_of(visit)
    reminders_dispatch(now=reminder.due_at)
    message = sim.received(PATIENT)[-1]
    runs_out = date_text(today(scoped) + timedelta(days=30))
    assert message["type"] == "template"
    assert f"Dr Anita Rao prescribed will run out around {runs_out}" in message["body"]
    assert "metformin" not in message["body"].lower()  # no medicine names
    buttons = [c for c in message["request"]["template"]["components"] if c["type"] == "button"]
    assert [b["parameters"][0]["payload"] for b in buttons] == [
        f"refill_request:{reminder.pk}",
        f"refill_book:{reminder.pk}",
    ]

    for _ in range(2):  # a second tap opens no second item
        sim.reply(
            PATIENT,
            button_payload=f"refill_request:{reminder.pk}",
            button_text="Repeat prescription",
        )
        relay()
    answer = sim.received(PATIENT)[-1]["body"]
    assert answer.startswith("Thank you, Meera. We have asked Dr Anita Rao for a repeat")
    escalation = Escalation.objects.get(reason=EscalationReason.REPEAT_PRESCRIPTION)
    assert escalation.doctor == doctor and escalation.patient == patient
    page = client_for(doctor).get(f"/c/{scoped.slug}/messages/follow-ups/").content.decode()
    assert "Meera Iyer" in page and "Asks for a repeat prescription" in page
    assert f"run out around {runs_out}" in page


def test_book_a_visit_in_hindi(doctor, scoped, sim, relay):
    patient = make_patient(scoped, preferred_language="hi")
    visit = sign_visit(doctor, patient, items=[METFORMIN])
    reminder = refill_of(visit)
    reminders_dispatch(now=reminder.due_at)
    message = sim.received(PATIENT)[-1]
    assert "की लिखी आपकी नियमित दवाएं" in message["body"]

    sim.reply(PATIENT, button_payload=f"refill_book:{reminder.pk}", button_text="समय बुक करें")
    relay()
    offer = [m for m in sim.received(PATIENT) if m["type"] == "interactive"][-1]
    assert "अगले खाली समय" in offer["body"]
    sim.choose_from_list(PATIENT, offer["list"]["rows"][0]["id"])
    relay()
    booked = Appointment.objects.get(patient=patient, status=AppointmentStatus.BOOKED)
    assert booked.doctor == doctor and booked.reason == "Repeat prescription"
    assert sim.received(PATIENT)[-1]["body"].startswith("हो गया")

    sim.reply(PATIENT, button_payload=f"refill_request:{reminder.pk}", button_text="दवा")
    relay()
    assert "दवा फिर से लिखने का अनुरोध" in sim.received(PATIENT)[-1]["body"]


def test_no_reminder_without_opt_in_or_once_the_medicine_is_stopped(doctor, scoped, sim):
    no_opt_in = sign_visit(doctor, make_patient(scoped, consent=False), items=[METFORMIN])
    reminder = refill_of(no_opt_in)
    reminders_dispatch(now=reminder.due_at)
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SKIPPED

    visit = sign_visit(doctor, make_patient(scoped, phone="+91 98765 00002"), items=[METFORMIN])
    item = PrescriptionItem.objects.get(prescription=visit.prescription)
    services.prescription_item_stop(item=item, actor=doctor.user, reason="side_effect")
    reminder = refill_of(visit)
    reminders_dispatch(now=reminder.due_at)
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SKIPPED
    assert reminder.outcome == "The long-term medicines were stopped."
    assert sim.received(PATIENT) == []


def test_the_doctor_sees_the_refill_plan_before_signing(doctor, scoped, client_for):
    visit = services.visit_start(
        clinic=scoped,
        actor=doctor.user,
        actor_membership=doctor,
        patient=make_patient(scoped),
        doctor=doctor,
        appointment=None,
    )
    salbutamol = {"generic_name": "salbutamol", "form": "inhaler", "frequency": "SOS"}
    for item in (METFORMIN, {**salbutamol, "long_term": True}):
        services.prescription_item_add(
            visit=visit, actor=doctor.user, actor_membership=doctor, **item
        )
    page = client_for(doctor).get(f"/c/{scoped.slug}/visits/{visit.pk}/sign/").content.decode()
    assert "Refill reminder on WhatsApp 3 days before the 30 days run out" in page
    assert "No refill reminder: without a course length it never runs out." in page


def _repeat_and_sign(doctor, patient):
    """A new visit where the doctor repeats the last prescription, signed."""
    visit = services.visit_start(
        clinic=doctor.clinic,
        actor=doctor.user,
        actor_membership=doctor,
        patient=patient,
        doctor=doctor,
    )
    visit = services.visit_update_notes(
        visit=visit, actor=doctor.user, actor_membership=doctor, chief_complaints="Review"
    )
    services.prescription_repeat_last(visit=visit, actor=doctor.user, actor_membership=doctor)
    return services.visit_sign(visit=visit, actor=doctor.user, actor_membership=doctor)


def test_refill_reminders_recur_with_each_new_supply_and_go_once_per_supply(doctor, scoped, sim):
    patient = make_patient(scoped)
    first = sign_visit(doctor, patient, items=[METFORMIN])
    reminder = refill_of(first)
    reminders_dispatch(now=reminder.due_at)
    reminders_dispatch(now=reminder.due_at + timedelta(hours=1))
    assert len(sim.received(PATIENT)) == 1
    # The doctor repeats the prescription: a new supply of 30 days, reminded again.
    with time_machine.travel(reminder.due_at + timedelta(days=1)):
        second = _repeat_and_sign(doctor, patient)
        again = refill_of(second)
        renewed = today(scoped) + timedelta(days=30)
    assert PrescriptionItem.objects.get(prescription=second.prescription).long_term
    assert [e["runs_out"] for e in again.context["items"]] == [renewed.isoformat()]
    assert again.due_at > reminder.due_at + timedelta(days=20)
    reminders_dispatch(now=again.due_at)
    reminders_dispatch(now=again.due_at + timedelta(hours=1))
    assert len(sim.received(PATIENT)) == 2
    assert (
        Reminder.objects.filter(kind=ReminderKind.REFILL, status=ReminderStatus.SENT).count() == 2
    )


def test_an_early_repeat_replaces_the_planned_refill_reminder(doctor, scoped, sim):
    MessagingSettings.objects.filter(clinic=scoped).update(send_medicine_reminders=False)
    patient = make_patient(scoped)
    first = sign_visit(doctor, patient, items=[METFORMIN])
    second = _repeat_and_sign(doctor, patient)  # the patient came back before it ran out
    old = refill_of(first)
    assert old.status == ReminderStatus.CANCELLED
    new = refill_of(second)
    assert new.status == ReminderStatus.PLANNED
    # Signing cannot plan a second reminder for the same supply.
    assert plan_refill(prescription=second.prescription) == 0
    reminders_dispatch(now=new.due_at)
    assert len(sim.received(PATIENT)) == 1
