"""WhatsApp appointment reminders on the reports page: sent, and what patients answered."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinics.reports import ReportPeriod, ReportQuery, report_sections, section_csv
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from messaging.models import Reminder, ReminderKind, ReminderStatus
from messaging.reports import reminders_section
from messaging.services.care_replies import ASKED_TO_MOVE, CANCELLED_BY_PATIENT, CONFIRMED
from tests.patients.report_data import END, PERIOD, START, at, seed_history

pytestmark = pytest.mark.django_db


def reminder(appointment, due, status=ReminderStatus.SENT, outcome="", kind=None):
    return Reminder.objects.create(
        clinic_id=appointment.clinic_id,
        patient_id=appointment.patient_id,
        kind=kind or ReminderKind.APPOINTMENT_REMINDER,
        source=f"appointment:{appointment.pk}",
        due_at=due,
        status=status,
        outcome=outcome,
    )


@pytest.fixture
def history(clinic, other_clinic):
    other = seed_history(other_clinic)
    with clinic_scope(other_clinic):
        reminder(other.appointments["a1"], at(1, 8), outcome=CONFIRMED)
    history = seed_history(clinic)
    a = history.appointments
    with clinic_scope(clinic):
        reminder(a["a1"], at(1, 8), outcome=CONFIRMED)
        reminder(a["a1"], at(1, 7), kind=ReminderKind.APPOINTMENT_CONFIRMATION)
        reminder(a["a2"], at(1, 8), outcome=ASKED_TO_MOVE)
        reminder(a["a3"], at(1, 9), status=ReminderStatus.FAILED)
        reminder(a["a5"], at(2, 8), outcome=CANCELLED_BY_PATIENT)
        reminder(a["a7"], at(3, 8), outcome=CONFIRMED)
        reminder(a["a7"], at(4, 8), status=ReminderStatus.PLANNED)  # after the period
        # A medicine reminder is not an appointment reminder.
        Reminder.objects.create(
            clinic=clinic,
            patient=history.patients[0],
            kind=ReminderKind.MEDICINE,
            source="prescription_item:1",
            due_at=at(2, 9),
            status=ReminderStatus.SENT,
        )
    return history


def load(history, doctor_id=None):
    query = ReportQuery(clinic=history.clinic, period=ReportPeriod(START, END), doctor_id=doctor_id)
    with clinic_scope(history.clinic):
        (section,) = reminders_section(query=query)
    return section


def test_reminders_sent_and_confirmed(history):
    section = load(history)
    assert {f.label: f.value for f in section.figures} == {
        "Sent": "5",
        "Confirmed": "2 (40.0 %)",
        "Asked for another time": "1",
        "Cancelled by the patient": "1",
        "Could not be sent": "1",
    }
    assert section.headers == [
        "Day",
        "Sent",
        "Could not be sent",
        "Confirmed",
        "Asked for another time",
        "Cancelled by the patient",
    ]
    assert section.rows == [
        ["1 Mar", 3, 1, 1, 1, 0],
        ["2 Mar", 1, 0, 0, 0, 1],
        ["3 Mar", 1, 0, 1, 0, 0],
    ]
    assert [s.name for s in section.chart.series] == ["Sent", "Confirmed"]
    assert section_csv(section).splitlines() == [
        "date,sent,not_sent,confirmed,asked_to_move,cancelled",
        "2026-03-01,3,1,1,1,0",
        "2026-03-02,1,0,0,0,1",
        "2026-03-03,1,0,1,0,0",
    ]


def test_narrowed_to_one_doctors_appointments(history):
    section = load(history, doctor_id=history.doctor_b.pk)
    figures = {f.label: f.value for f in section.figures}
    assert figures["Sent"] == "2" and figures["Confirmed"] == "1 (50.0 %)"
    assert figures["Could not be sent"] == "1"


def test_the_section_needs_the_messaging_permission(history):
    query = ReportQuery(clinic=history.clinic, period=ReportPeriod(START, END))
    with clinic_scope(history.clinic):
        slugs = [s.slug for s in report_sections(query, history.doctor_a)]
    assert "messaging-reminders" in slugs
    history.doctor_a.role = Role.BILLING  # no messaging.view
    with clinic_scope(history.clinic):
        slugs = [s.slug for s in report_sections(query, history.doctor_a)]
    assert "messaging-reminders" not in slugs


def test_the_page_shows_the_reminders(history, client_for, member_factory):
    client = client_for(member_factory(history.clinic, Role.OWNER))
    page = client.get(reverse("reports", args=["asha"]), PERIOD).content.decode()
    assert "WhatsApp appointment reminders" in page
    assert 'id="chart-messaging-reminders-title"' in page
