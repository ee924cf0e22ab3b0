"""The doctor's follow-up board: open alerts, adherence by patient, upcoming follow-ups."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clinics.audit import Actions
from clinics.models import AuditEvent
from clinics.roles import Role
from messaging.models import (
    DoseOutcome,
    DoseRecord,
    Escalation,
    EscalationState,
    Reminder,
    ReminderKind,
)
from messaging.services.escalations import escalation_open
from patients.models import Visit
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def board_url(clinic, suffix=""):
    return f"/c/{clinic.slug}/messages/follow-ups/{suffix}"


@pytest.fixture
def doctor(scoped, member_factory, client_for):
    membership = member_factory(scoped, role=Role.DOCTOR)
    return membership, client_for(membership)


def dose(patient, outcome, hours_ago):
    due = timezone.now() - timedelta(hours=hours_ago)
    reminder = Reminder.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        kind=ReminderKind.MEDICINE,
        source=f"prescription_item:{patient.pk}",
        due_at=due,
        status="sent",
    )
    return DoseRecord.objects.create(
        clinic_id=patient.clinic_id, patient=patient, reminder=reminder, due_at=due, outcome=outcome
    )


def test_doctor_sees_own_alerts_first_and_can_switch_to_all(scoped, doctor, member_factory):
    me, web = doctor
    colleague = member_factory(scoped, role=Role.DOCTOR)
    mine = PatientFactory(clinic=scoped, full_name="Arjun Menon")
    theirs = PatientFactory(clinic=scoped, full_name="Leela Das")
    escalation_open(
        patient=mine, reason="missed_doses", detail="3 doses missed", subject="x:1", doctor=me
    )
    escalation_open(
        patient=theirs, reason="low_rating", detail="Rated 1/5", subject="x:2", doctor=colleague
    )
    page = web.get(board_url(scoped)).content.decode()
    assert "Arjun Menon" in page and "3 doses missed" in page and "Missed doses" in page
    assert "Leela Das" not in page
    everyone = web.get(board_url(scoped), {"show": "all"}).content.decode()
    assert "Leela Das" in everyone and "Rated 1/5" in everyone


def test_resolving_an_alert_needs_a_note(scoped, doctor):
    me, web = doctor
    patient = PatientFactory(clinic=scoped, full_name="Arjun Menon")
    escalation = escalation_open(
        patient=patient, reason="trouble_words", detail="chest pain", subject="m:1", doctor=me
    )
    target = board_url(scoped, f"alerts/{escalation.pk}/resolve/")
    empty = web.post(target, {"resolution": "  ", "show": "mine"})
    assert empty.status_code == 200 and "This field is required" in empty.content.decode()
    done = web.post(target, {"resolution": "Called; sent to the ER", "show": "mine"})
    assert done.status_code == 302
    escalation.refresh_from_db()
    assert escalation.state == EscalationState.RESOLVED
    assert escalation.resolution == "Called; sent to the ER"
    assert AuditEvent.objects.filter(action=Actions.ESCALATION_RESOLVED).exists()
    assert "chest pain" not in web.get(board_url(scoped)).content.decode()
    again = web.post(target, {"resolution": "again"})
    assert "already resolved" in again.content.decode()


def test_adherence_counts_and_chart(scoped, doctor):
    me, web = doctor
    patient = PatientFactory(clinic=scoped, full_name="Sunita Rao")
    Visit.objects.create(clinic=scoped, patient=patient, doctor=me)
    for outcome, hours in [
        (DoseOutcome.TAKEN, 2),
        (DoseOutcome.TAKEN, 26),
        (DoseOutcome.SKIPPED, 50),
        (DoseOutcome.UNANSWERED, 74),
        (DoseOutcome.TAKEN, 24 * 20),  # older than 14 days: not counted
    ]:
        dose(patient, outcome, hours)
    response = web.get(board_url(scoped))
    rows = response.context["adherence"]
    assert len(rows) == 1
    row = rows[0]
    assert (row.taken, row.skipped, row.unanswered) == (2, 1, 1)
    assert row.taken_percent == 50
    assert len(row.days) == 14
    body = response.content.decode()
    assert "<svg" in body and "Sunita Rao" in body and "(50%)" in body


def test_upcoming_follow_ups(scoped, doctor):
    me, web = doctor
    today = timezone.localdate()
    soon = PatientFactory(clinic=scoped, full_name="Farah Khan")
    later = PatientFactory(clinic=scoped, full_name="Gopal Iyer")
    Visit.objects.create(
        clinic=scoped,
        patient=soon,
        doctor=me,
        status="signed",
        follow_up_date=today + timedelta(days=3),
    )
    Visit.objects.create(
        clinic=scoped,
        patient=later,
        doctor=me,
        status="signed",
        follow_up_date=today + timedelta(days=30),
    )
    body = web.get(board_url(scoped)).content.decode()
    assert "Farah Khan" in body and "Gopal Iyer" not in body


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.BILLING])
def test_non_clinical_roles_get_403(scoped, member_factory, client_for, role):
    web = client_for(member_factory(scoped, role=role))
    assert web.get(board_url(scoped)).status_code == 403


def test_another_clinics_alert_is_404(scoped, other_clinic, doctor):
    _, web = doctor
    from clinics.tenancy import clinic_scope

    with clinic_scope(other_clinic):
        patient = PatientFactory(clinic=other_clinic)
        escalation = Escalation.objects.create(
            clinic=other_clinic, patient=patient, reason="low_rating", detail="x", subject="s"
        )
    response = web.post(board_url(scoped, f"alerts/{escalation.pk}/resolve/"), {"resolution": "x"})
    assert response.status_code == 404
