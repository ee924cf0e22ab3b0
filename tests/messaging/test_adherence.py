"""Adherence: doses become unanswered, missed doses alert the doctor, and the board's numbers."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone

from messaging.models import (
    DoseOutcome,
    DoseRecord,
    Escalation,
    EscalationReason,
    MessagingSettings,
    Reminder,
    ReminderStatus,
)
from messaging.selectors_care import adherence_for_patient
from messaging.services.adherence import dose_answer, dose_reminded, doses_mark_unanswered
from messaging.services.dispatch import reminders_dispatch
from patients.models import Prescription
from tests.messaging.care_setup import PARACETAMOL, make_doctor, make_reminder_templates, sign_visit
from tests.messaging.conftest import PATIENT


@pytest.fixture
def doctor(scoped):
    return make_doctor(scoped)


@pytest.fixture
def prescription(doctor, patient):
    visit = sign_visit(doctor, patient, items=[{**PARACETAMOL, "duration_days": 5}])
    return Prescription.objects.get(visit=visit)


def doses(prescription):
    return list(
        Reminder.objects.filter(source=f"prescription:{prescription.pk}").order_by("due_at")
    )


def remind(reminder: Reminder) -> DoseRecord:
    Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.SENT)
    return dose_reminded(reminder=reminder)


def test_the_next_dose_reminded_makes_the_last_one_unanswered(prescription):
    first, second = doses(prescription)[:2]
    dose1 = remind(first)
    assert dose1.outcome == DoseOutcome.PENDING
    remind(second)
    dose1.refresh_from_db()
    assert dose1.outcome == DoseOutcome.UNANSWERED
    # Reminding the same dose twice records it once.
    assert remind(second).pk == DoseRecord.objects.get(reminder=second).pk


def test_pending_doses_become_unanswered_after_12_hours(prescription):
    first = doses(prescription)[0]
    dose = remind(first)
    assert doses_mark_unanswered(now=first.due_at + timedelta(hours=11)) == 0
    assert doses_mark_unanswered(now=first.due_at + timedelta(hours=12, minutes=1)) == 1
    dose.refresh_from_db()
    assert dose.outcome == DoseOutcome.UNANSWERED


def test_missed_doses_in_a_row_alert_the_prescribing_doctor_once(doctor, prescription):
    rows = doses(prescription)
    for reminder in rows[:3]:
        dose_answer(dose=remind(reminder), taken=False)
    escalation = Escalation.objects.get()
    assert escalation.reason == EscalationReason.MISSED_DOSES
    assert escalation.subject == f"prescription:{prescription.pk}"
    assert escalation.doctor == doctor
    # More misses do not open a second alert while the first is open.
    dose_answer(dose=remind(rows[3]), taken=False)
    assert Escalation.objects.count() == 1


def test_a_taken_dose_breaks_the_run(scoped, prescription):
    MessagingSettings.objects.update_or_create(
        clinic=scoped, defaults={"missed_doses_threshold": 2}
    )
    rows = doses(prescription)
    dose_answer(dose=remind(rows[0]), taken=False)
    dose_answer(dose=remind(rows[1]), taken=True)
    dose_answer(dose=remind(rows[2]), taken=False)
    assert Escalation.objects.count() == 0
    remind(rows[3])  # rows[3] reminded: nothing answered for it yet
    remind(rows[4])  # ... and now rows[3] is unanswered: two misses in a row
    assert Escalation.objects.get().reason == EscalationReason.MISSED_DOSES


def test_unanswered_reminders_sent_by_the_dispatcher_alert_the_doctor(
    scoped, doctor, patient, wa_account, sim
):
    MessagingSettings.objects.create(
        clinic=scoped, quiet_hours_start=time(0), quiet_hours_end=time(0)
    )
    make_reminder_templates(scoped, sim=sim, purposes={"medicine_reminder"})
    visit = sign_visit(doctor, patient, items=[{**PARACETAMOL, "duration_days": 5}])
    prescription = Prescription.objects.get(visit=visit)
    rows = doses(prescription)
    for reminder in rows[:4]:  # four sent, none answered: three are now unanswered
        reminders_dispatch(now=reminder.due_at)
    assert len(sim.received(PATIENT)) == 4
    outcomes = list(DoseRecord.objects.order_by("due_at").values_list("outcome", flat=True))
    assert outcomes == [DoseOutcome.UNANSWERED] * 3 + [DoseOutcome.PENDING]
    escalation = Escalation.objects.get()
    assert (escalation.reason, escalation.doctor) == (EscalationReason.MISSED_DOSES, doctor)


def test_adherence_for_patient_counts_and_draws_a_daily_series(scoped, patient, prescription):
    rows = doses(prescription)
    dose_answer(dose=remind(rows[0]), taken=True)
    dose_answer(dose=remind(rows[1]), taken=False)
    remind(rows[2])
    remind(rows[3])  # rows[2] becomes unanswered; rows[3] pending
    [entry] = adherence_for_patient(patient, now=rows[3].due_at + timedelta(hours=1))
    assert entry.prescription == prescription
    assert (entry.taken, entry.skipped, entry.unanswered, entry.pending) == (1, 1, 1, 1)
    assert entry.rate == 33
    tz = scoped.tzinfo
    days = [timezone.localtime(r.due_at, tz).date() for r in rows[:4]]
    assert entry.series[0].date == days[0]
    assert [d.date for d in entry.series] == [
        days[0] + timedelta(days=n) for n in range((days[-1] - days[0]).days + 1)
    ]
    assert sum(d.total for d in entry.series) == 4
    # Another patient sees none of it.
    from tests.messaging.conftest import make_patient

    assert adherence_for_patient(make_patient(scoped, phone="+91 98450 22222")) == []
