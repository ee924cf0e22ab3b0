"""Joining the queue and booking only in the doctor's hours, at Tuesday 10 March 2026,
09:00 in India: refused with a clear message on a day off, after the last session or on
leave; the owner or that doctor may go ahead with a reason, which is kept and audited."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from clinics.audit import Actions
from clinics.models import AuditEvent
from clinics.tenancy import clinic_scope
from patients.models import Appointment, AppointmentStatus
from patients.services.appointments import (
    SessionInput,
    appointment_book,
    appointment_walk_in,
    doctor_leave_add,
    working_hours_set,
)
from tests.patients import test_views_schedule as schedule
from tests.patients.test_views_schedule import IST, at, flashed, reload, text, url

clock = schedule.clock
day = schedule.day


def walk_in(d, patient, doctor=None, **extra) -> Appointment:
    with clinic_scope(d["clinic"]):
        return appointment_walk_in(
            patient=patient, doctor=doctor or d["asha"], actor=d["desk"].user, **extra
        )


def actions_of(clinic, action: str) -> list[AuditEvent]:
    with clinic_scope(clinic):
        return list(AuditEvent.objects.filter(action=action))


@pytest.fixture
def sunday(clock):
    clock.move_to(datetime(2026, 3, 15, 11, 0, tzinfo=IST))  # Dr Asha Rao does not work Sundays


def test_walk_in_on_a_day_the_doctor_does_not_work_is_refused(day, client_for, sunday):
    d = day
    form = {"patient": d["ravi"].patient_number, "doctor": d["asha"].pk, "reason": "Cough"}
    response = client_for(d["desk"]).post(url(d["clinic"], "walk-in"), form)
    assert response.status_code == 200
    assert "Dr Asha Rao does not see patients on Sundays." in text(response)
    assert "Add outside the doctor's hours" not in text(response)  # not for the desk
    with clinic_scope(d["clinic"]):
        assert not Appointment.objects.exists()
    # The desk cannot override; the owner can, and the reason is kept and audited.
    refused = client_for(d["desk"]).post(
        url(d["clinic"], "walk-in"), {**form, "override_reason": "Doctor said yes"}
    )
    assert "Only the owner or the doctor can go outside the doctor&#x27;s hours." in text(refused)
    owner = client_for(d["owner"])
    assert "Add outside the doctor's hours" in text(owner.get(url(d["clinic"], "walk-in")))
    response = owner.post(
        url(d["clinic"], "walk-in"), {**form, "override_reason": "Emergency review"}, follow=True
    )
    assert "Token 1: Ravi Menon is in the queue for Dr Asha Rao." in flashed(response)
    with clinic_scope(d["clinic"]):
        token = Appointment.objects.get()
    assert token.override_reason == "Emergency review"
    (event,) = actions_of(d["clinic"], Actions.APPOINTMENT_WALK_IN)
    assert event.data["override"] is True


def test_walk_in_after_the_last_session_or_on_leave_is_refused(day, clock):
    d = day
    clock.move_to(at(20, 30))
    with clinic_scope(d["clinic"]), pytest.raises(Exception) as refused:
        appointment_walk_in(patient=d["ravi"], doctor=d["asha"], actor=d["desk"].user)
    assert "Dr Asha Rao's last session today ended at 8:00 pm." in str(refused.value)
    assert refused.value.code == "outside_hours"
    clock.move_to(at(9))
    with clinic_scope(d["clinic"]):
        doctor_leave_add(
            doctor=d["vikram"], actor=d["owner"].user, starts_at=at(0), ends_at=at(0, day=11)
        )
        with pytest.raises(Exception) as refused:
            appointment_walk_in(patient=d["ravi"], doctor=d["vikram"], actor=d["desk"].user)
    assert "Dr Vikram Shah is on leave for the rest of today." in str(refused.value)
    # Before the day's first session is fine: the patient waits for it.
    assert walk_in(d, d["ravi"]).token_number == 1


def test_check_in_refused_once_the_doctor_no_longer_works_that_day(day, client_for):
    d = day
    with clinic_scope(d["clinic"]):
        booked = appointment_book(
            patient=d["lakshmi"], doctor=d["asha"], actor=d["desk"].user, starts_at=at(10)
        )
        # The doctor stops seeing patients on Tuesdays after the booking was made.
        working_hours_set(
            doctor=d["asha"],
            actor=d["owner"].user,
            sessions=[SessionInput(weekday=0, start=time(10), end=time(13))],
        )
    response = client_for(d["desk"]).post(
        url(d["clinic"], "appointment-check-in", booked.pk), follow=True
    )
    assert any("Dr Asha Rao does not see patients on Tuesdays." in m for m in flashed(response))
    assert reload(d["clinic"], booked).status == AppointmentStatus.BOOKED
    # The doctor is asked for a reason, and checks the patient in with it.
    asha = client_for(d["asha"])
    check_in = url(d["clinic"], "appointment-check-in", booked.pk)
    asked = asha.post(check_in, {"next": url(d["clinic"], "schedule-queue")})
    assert asked.status_code == 409
    assert "Check in outside the doctor's hours?" in text(asked)
    assert "Dr Asha Rao does not see patients on Tuesdays." in text(asked)
    assert 'name="override_reason"' in text(asked)
    response = asha.post(check_in, {"override_reason": "Seeing her anyway"}, follow=True)
    assert any(m.startswith("Checked in Lakshmi Iyer") for m in flashed(response))
    done = reload(d["clinic"], booked)
    assert done.status == AppointmentStatus.CHECKED_IN
    assert done.override_reason == "Seeing her anyway"
    (event,) = actions_of(d["clinic"], Actions.APPOINTMENT_CHECKED_IN)
    assert event.data["override"] is True


def test_the_owner_books_outside_the_hours_with_a_reason(day, client_for):
    d = day
    form = {
        "patient": d["lakshmi"].patient_number,
        "doctor": d["asha"].pk,
        "date": "2026-03-11",
        "override_time": "14:30",
        "reason": "Review",
    }
    desk = client_for(d["desk"])
    assert "Book outside the doctor" not in text(desk.get(url(d["clinic"], "appointment-book")))
    owner = client_for(d["owner"])
    response = owner.post(url(d["clinic"], "appointment-book"), form)
    assert "Say why the appointment is outside the doctor&#x27;s hours." in text(response)
    response = owner.post(
        url(d["clinic"], "appointment-book"),
        {**form, "override_reason": "Post-operative review"},
        follow=True,
    )
    with clinic_scope(d["clinic"]):
        booked = Appointment.objects.get()
    assert booked.starts_at == at(14, 30, day=11)
    assert booked.override_reason == "Post-operative review"
    (event,) = actions_of(d["clinic"], Actions.APPOINTMENT_BOOKED)
    assert event.data["override"] is True
    # Without a reason the same time is refused, saying who may go ahead.
    response = desk.post(
        url(d["clinic"], "appointment-book"),
        {**form, "override_time": "", "starts_at": at(14, 45, day=11).isoformat()},
    )
    assert "outside Dr Asha Rao&#x27;s working hours" in text(response)
    assert "The owner or the doctor may go ahead anyway, giving a reason." in text(response)
    # An override never double-books.
    with clinic_scope(d["clinic"]), pytest.raises(Exception, match="overlaps another booking"):
        appointment_book(
            patient=d["ravi"],
            doctor=d["asha"],
            actor=d["owner"].user,
            starts_at=at(14, 30, day=11) + timedelta(minutes=5),
            override_reason="Squeeze in",
        )


def test_a_doctor_other_than_the_appointments_cannot_override(day, sunday):
    d = day
    with clinic_scope(d["clinic"]), pytest.raises(Exception, match="Only the owner or the doctor"):
        appointment_walk_in(
            patient=d["ravi"],
            doctor=d["asha"],
            actor=d["vikram"].user,
            override_reason="Covering",
        )
