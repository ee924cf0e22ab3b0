"""The dispatcher sends due reminders to the simulator over real HTTP, once each, and only to
patients who agreed; interrupted sends are settled without sending twice."""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from compliance.models import ConsentMethod, ConsentPurpose
from compliance.services import consent_grant
from messaging.models import (
    Conversation,
    DoseOutcome,
    DoseRecord,
    Message,
    MessageStatus,
    MessagingSettings,
    Reminder,
    ReminderKind,
    ReminderStatus,
)
from messaging.services.dispatch import (
    reminders_claim,
    reminders_dispatch,
    reminders_sweep_claimed,
)
from messaging.services.reminder_content import when_text
from patients.models import Appointment, Prescription
from patients.services.appointments import appointment_book, appointment_cancel
from tests.factories import ClinicFactory, PatientFactory
from tests.messaging.care_setup import (
    AMOXICILLIN,
    PARACETAMOL,
    make_doctor,
    make_reminder_templates,
    sign_visit,
)
from tests.messaging.conftest import PATIENT, make_patient


@pytest.fixture
def setup(scoped, wa_account, sim):
    # No quiet hours: these tests run at the real time of day.
    MessagingSettings.objects.create(
        clinic=scoped, quiet_hours_start=time(0), quiet_hours_end=time(0)
    )
    doctor = make_doctor(scoped)
    templates = make_reminder_templates(scoped, sim=sim)
    return {"doctor": doctor, "templates": templates}


def tomorrow_at(clinic, hour: int, days: int = 1) -> datetime:
    local = timezone.localtime(timezone.now(), clinic.tzinfo) + timedelta(days=days)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


def book(setup, patient, hour=11) -> Appointment:
    return appointment_book(
        patient=patient,
        doctor=setup["doctor"],
        actor=setup["doctor"].user,
        starts_at=tomorrow_at(patient.clinic, hour, days=2),
    )


def test_a_due_confirmation_goes_out_with_its_buttons_and_is_marked_sent(
    scoped, setup, patient, sim
):
    appt = book(setup, patient)
    result = reminders_dispatch()
    assert result.claimed == 1 and result.statuses == {ReminderStatus.SENT: 1}

    reminder = Reminder.objects.get(kind=ReminderKind.APPOINTMENT_CONFIRMATION)
    assert reminder.status == ReminderStatus.SENT
    message = reminder.message
    assert message.status == MessageStatus.SENT and message.wamid
    received = sim.received(PATIENT)
    assert len(received) == 1
    first = patient.full_name.split(" ")[0]
    when = when_text(appt.starts_at, scoped.tzinfo)
    assert received[0]["body"] == (
        f"Hello {first}, your appointment with Dr Anita Rao on {when} at {scoped.name} is booked."
    )
    assert [b["payload"] for b in received[0]["buttons"]] == [
        f"appt_confirm:{reminder.pk}",
        f"appt_reschedule:{reminder.pk}",
        f"appt_cancel:{reminder.pk}",
    ]
    # "Mon 12 Jan, 10:30 AM"
    assert when.endswith(", 11:00 AM") and len(when.split(" ")) == 5

    # Nothing more is due: a second run sends nothing.
    assert reminders_dispatch().claimed == 0
    assert len(sim.received(PATIENT)) == 1


def test_reminders_not_yet_due_wait_for_their_time(scoped, setup, patient, sim):
    appt = book(setup, patient)
    reminders_dispatch()
    two_hours_before = appt.starts_at - timedelta(hours=2)
    assert reminders_dispatch(now=two_hours_before - timedelta(hours=1)).claimed == 1  # 24 h
    assert reminders_dispatch(now=two_hours_before).claimed == 1
    assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == 3
    assert len(sim.received(PATIENT)) == 3


def test_no_message_without_opt_in_and_opting_in_later_gets_later_reminders(scoped, setup, sim):
    patient = make_patient(scoped, consent=False)
    appt = book(setup, patient)
    reminders_dispatch()
    confirmation = Reminder.objects.get(kind=ReminderKind.APPOINTMENT_CONFIRMATION)
    assert confirmation.status == ReminderStatus.SKIPPED
    assert (
        confirmation.outcome == "The patient has not agreed to WhatsApp messages from the clinic."
    )
    assert confirmation.message is None
    assert sim.received(PATIENT) == []

    consent_grant(
        patient=patient,
        purpose=ConsentPurpose.WHATSAPP_CARE,
        method=ConsentMethod.VERBAL,
        actor=setup["doctor"].user,
    )
    reminders_dispatch(now=appt.starts_at - timedelta(hours=23))
    assert len(sim.received(PATIENT)) == 1
    assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == 1


def test_no_approved_template_skips_the_reminder(scoped, wa_account, patient, sim):
    MessagingSettings.objects.create(
        clinic=scoped, quiet_hours_start=time(0), quiet_hours_end=time(0)
    )
    doctor = make_doctor(scoped)
    make_reminder_templates(scoped, sim=sim, purposes={"appointment_reminder"})
    appointment_book(
        patient=patient, doctor=doctor, actor=doctor.user, starts_at=tomorrow_at(scoped, 11)
    )
    reminders_dispatch()
    reminder = Reminder.objects.get(kind=ReminderKind.APPOINTMENT_CONFIRMATION)
    assert (reminder.status, reminder.outcome) == (ReminderStatus.SKIPPED, "No approved template")
    assert sim.received(PATIENT) == []


def test_a_cancelled_appointment_is_never_reminded(scoped, setup, patient, sim):
    appt = book(setup, patient)
    appointment_cancel(appointment=appt, actor=setup["doctor"].user, reason="Travelling")
    result = reminders_dispatch(now=appt.starts_at - timedelta(minutes=30))
    # Only the notice that the clinic cancelled it was due (skipped: no template for it here).
    assert result.claimed == 1
    assert Reminder.objects.get(status=ReminderStatus.SKIPPED).kind == (
        ReminderKind.APPOINTMENT_CANCELLED
    )
    assert sim.received(PATIENT) == []


def test_a_reminder_whose_appointment_changed_after_planning_is_skipped(
    scoped, setup, patient, sim
):
    appt = book(setup, patient)
    # Changed behind the planner's back (no event): the dispatcher checks the source.
    Appointment.objects.filter(pk=appt.pk).update(status="cancelled")
    reminders_dispatch()
    reminder = Reminder.objects.get(kind=ReminderKind.APPOINTMENT_CONFIRMATION)
    assert (reminder.status, reminder.outcome) == (
        ReminderStatus.SKIPPED,
        "The appointment is cancelled.",
    )
    assert sim.received(PATIENT) == []


def test_hindi_speaking_patients_get_the_hindi_template(scoped, setup, sim):
    make_reminder_templates(scoped, sim=sim, purposes={"appointment_confirmation"}, language="hi")
    patient = make_patient(scoped, preferred_language="hi")
    book(setup, patient)
    reminders_dispatch()
    message = Message.objects.get()
    assert message.template_language == "hi"
    assert sim.received(PATIENT)[0]["template"]["language"] == "hi"


def test_a_medicine_reminder_lists_the_medicines_and_waits_for_an_answer(
    scoped, setup, patient, sim
):
    visit = sign_visit(setup["doctor"], patient, items=[PARACETAMOL, AMOXICILLIN])
    prescription = Prescription.objects.get(visit=visit)
    first = Reminder.objects.filter(kind=ReminderKind.MEDICINE).order_by("due_at")[0]
    reminders_dispatch(now=first.due_at)
    first.refresh_from_db()
    assert first.status == ReminderStatus.SENT
    received = sim.received(PATIENT)
    texts = [i["text"] for i in first.context["items"]]
    assert all(text in received[-1]["body"] for text in texts)
    assert [b["payload"] for b in received[-1]["buttons"]] == [
        f"dose_taken:{first.pk}",
        f"dose_skipped:{first.pk}",
    ]
    dose = DoseRecord.objects.get(reminder=first)
    assert dose.outcome == DoseOutcome.PENDING
    assert set(dose.prescription_items.values_list("pk", flat=True)) == {
        i["id"] for i in first.context["items"]
    }
    assert first.source == f"prescription:{prescription.pk}"


def test_an_undeliverable_number_fails_the_reminder_without_retrying(scoped, setup, patient, sim):
    sim.mark_unreachable(PATIENT)
    book(setup, patient)
    reminders_dispatch()
    reminder = Reminder.objects.get(kind=ReminderKind.APPOINTMENT_CONFIRMATION)
    assert reminder.status == ReminderStatus.FAILED
    assert reminder.message.error_code == 131026
    assert Conversation.objects.get().unreachable_at is not None


def test_document_ready_sends_the_secure_link(scoped, setup, patient, sim, monkeypatch):
    from messaging import links
    from patients.models import Document

    monkeypatch.setattr(links, "document_link", lambda document: f"https://x.test/d/{document.pk}")
    document = Document.objects.create(
        clinic=scoped,
        patient=patient,
        kind="certificate",
        title="Medical certificate",
        status="ready",
        file="clinics/documents/certificate.pdf",
    )
    Reminder.objects.create(
        clinic=scoped,
        patient=patient,
        kind=ReminderKind.DOCUMENT_READY,
        source=f"document:{document.pk}",
        due_at=timezone.now(),
    )
    reminders_dispatch()
    body = sim.received(PATIENT)[0]["body"]
    assert f"your Medical certificate is ready: https://x.test/d/{document.pk}" in body


# --- claims and the uncertain window --------------------------------------------------------
def _due(clinic, patient, count: int) -> list[Reminder]:
    now = timezone.now()
    return Reminder.objects.bulk_create(
        Reminder(
            clinic=clinic,
            patient=patient,
            kind=ReminderKind.FOLLOW_UP,
            source=f"visit:{n}",
            due_at=now - timedelta(seconds=n),
        )
        for n in range(count)
    )


def test_claims_never_overlap(scoped):
    patient = PatientFactory(clinic=scoped)
    _due(scoped, patient, 30)
    first = reminders_claim(batch=20)
    second = reminders_claim(batch=20)
    assert len(first) == 20 and len(second) == 10
    assert not set(first) & set(second)
    assert reminders_claim(batch=20) == []
    assert Reminder.objects.filter(status=ReminderStatus.CLAIMED).count() == 30


def test_the_sweep_settles_stale_claims_without_sending_twice(scoped, setup, patient, sim):
    appt = book(setup, patient)
    [claimed_id] = reminders_claim()  # the confirmation; the worker "dies" here
    later = timezone.now() + timedelta(minutes=11)
    assert reminders_sweep_claimed(now=later) == {ReminderStatus.PLANNED: 1}
    assert Reminder.objects.get(pk=claimed_id).status == ReminderStatus.PLANNED

    # The worker dies after queueing and calling Meta, before recording the answer.
    reminders_dispatch()
    reminder = Reminder.objects.get(pk=claimed_id)
    Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.CLAIMED)
    Message.objects.filter(pk=reminder.message_id).update(status=MessageStatus.SENDING, wamid=None)
    assert reminders_sweep_claimed(now=later) == {ReminderStatus.UNCERTAIN: 1}
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.UNCERTAIN
    assert "check with the patient" in reminder.outcome
    # Never sent again by the dispatcher.
    reminders_dispatch(now=appt.starts_at - timedelta(hours=23))
    assert len([m for m in sim.received(PATIENT) if f":{reminder.pk}" in str(m["buttons"])]) == 1


def test_a_reminder_whose_claim_was_released_is_not_sent_by_the_old_worker(
    scoped, setup, patient, sim, monkeypatch
):
    from messaging.services import reminder_content

    book(setup, patient)
    load = reminder_content.Sources.load

    def sweep_meanwhile(reminders):
        # The worker is slow: while it reads its batch, the sweep releases its claim.
        reminders_sweep_claimed(now=timezone.now() + timedelta(minutes=11))
        return load(reminders)

    monkeypatch.setattr(reminder_content.Sources, "load", staticmethod(sweep_meanwhile))
    result = reminders_dispatch()
    assert result.statuses == {"lost": 1}
    assert sim.received(PATIENT) == []
    [lost] = Reminder.objects.filter(status=ReminderStatus.PLANNED, due_at__lte=timezone.now())
    assert lost.message_id is None  # released, planned again, and nothing was written
    assert not Message.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_on_postgresql_never_take_the_same_reminder():
    from clinics.tenancy import clinic_scope

    clinic = ClinicFactory()
    with clinic_scope(clinic):
        patient = PatientFactory(clinic=clinic)
        _due(clinic, patient, 600)
    claimed: list[list[int]] = [[] for _ in range(6)]
    errors: list[Exception] = []
    start = threading.Barrier(6)

    def work(n: int) -> None:
        try:
            start.wait()
            while True:
                ids = reminders_claim(batch=25)
                if not ids:
                    return
                claimed[n].extend(ids)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    everything = [i for ids in claimed for i in ids]
    assert len(everything) == 600 and len(set(everything)) == 600
    assert sum(1 for ids in claimed if ids) > 1  # they really ran side by side
