"""Booking and the day's queue, at a fixed moment: Tuesday 10 March 2026, 09:00 in India."""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from clinics.audit import Actions
from clinics.errors import Conflict, DomainError, ValidationFailed
from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.models import Appointment, AppointmentStatus, LeaveKind
from patients.selectors.appointments import doctor_free_slots, queue
from patients.services.appointments import (
    SessionInput,
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_mark_no_show,
    appointment_reschedule,
    appointment_start,
    appointment_walk_in,
    doctor_leave_add,
    working_hours_set,
)
from tests.factories import ClinicFactory, MembershipFactory, PatientFactory

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=IST)  # a Tuesday


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=IST)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def setup(clinic, member_factory, clock):
    owner = member_factory(clinic, Role.OWNER)
    doctor = member_factory(clinic, Role.DOCTOR)
    desk = member_factory(clinic, Role.FRONT_DESK)
    with clinic_scope(clinic):
        working_hours_set(
            doctor=doctor,
            actor=owner.user,
            sessions=[
                SessionInput(weekday=d, start=time(10), end=time(13), slot_minutes=15)
                for d in range(7)
            ]
            + [SessionInput(weekday=d, start=time(17), end=time(20)) for d in range(7)],
        )
        patient = PatientFactory(clinic=clinic)
        other = PatientFactory(clinic=clinic)
        yield {"doctor": doctor, "desk": desk, "owner": owner, "patient": patient, "other": other}


def test_free_slots_follow_the_sessions(setup):
    slots = doctor_free_slots(setup["doctor"], NOW.date())
    assert len(slots) == 12 + 12
    assert slots[0].start == at(10) and slots[-1].end == at(20)


def test_book_takes_the_slot_and_audits(setup):
    s = setup
    appt = appointment_book(
        patient=s["patient"], doctor=s["doctor"], actor=s["desk"].user, starts_at=at(10, 15)
    )
    assert (appt.starts_at, appt.ends_at) == (at(10, 15), at(10, 30))
    assert at(10, 15) not in [x.start for x in doctor_free_slots(s["doctor"], NOW.date())]
    event = AuditEvent.objects.get(action=Actions.APPOINTMENT_BOOKED)
    assert event.patient_id == s["patient"].pk


def test_the_same_slot_cannot_be_booked_twice(setup):
    s = setup
    appointment_book(
        patient=s["patient"], doctor=s["doctor"], actor=s["desk"].user, starts_at=at(11)
    )
    with pytest.raises(Conflict) as exc:
        appointment_book(
            patient=s["other"], doctor=s["doctor"], actor=s["desk"].user, starts_at=at(11)
        )
    assert "already booked" in exc.value.message
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("when", "words"),
    [
        (at(8), "in the past"),
        (at(14), "working hours"),
        (at(10, 7), "slot"),
    ],
)
def test_unbookable_times_are_explained(setup, when, words):
    s = setup
    with pytest.raises(DomainError) as exc:
        appointment_book(
            patient=s["patient"], doctor=s["doctor"], actor=s["desk"].user, starts_at=when
        )
    assert words in exc.value.message.lower()
    assert Appointment.objects.count() == 0


def test_leave_blocks_booking_with_a_clear_message(setup):
    s = setup
    doctor_leave_add(
        doctor=s["doctor"],
        actor=s["owner"].user,
        starts_at=at(0, day=11),
        ends_at=at(0, day=12),
        kind=LeaveKind.LEAVE,
        reason="Conference",
    )
    with pytest.raises(Conflict) as exc:
        appointment_book(
            patient=s["patient"],
            doctor=s["doctor"],
            actor=s["desk"].user,
            starts_at=at(10, day=11),
        )
    assert "leave" in exc.value.message.lower()
    assert doctor_free_slots(s["doctor"], at(0, day=11).date()) == []


def test_leave_over_booked_appointments_is_refused(setup):
    s = setup
    appointment_book(
        patient=s["patient"], doctor=s["doctor"], actor=s["desk"].user, starts_at=at(10, day=11)
    )
    with pytest.raises(Conflict) as exc:
        doctor_leave_add(
            doctor=s["doctor"],
            actor=s["owner"].user,
            starts_at=at(0, day=11),
            ends_at=at(0, day=12),
        )
    assert "1 booked appointment" in exc.value.message


def test_reschedule_moves_and_frees_the_old_slot(setup):
    s = setup
    appt = appointment_book(
        patient=s["patient"], doctor=s["doctor"], actor=s["desk"].user, starts_at=at(10)
    )
    appointment_reschedule(appointment=appt, actor=s["desk"].user, starts_at=at(17, 30))
    appt.refresh_from_db()
    assert appt.starts_at == at(17, 30)
    starts = [x.start for x in doctor_free_slots(s["doctor"], NOW.date())]
    assert at(10) in starts and at(17, 30) not in starts
    # Moving onto its own current slot's neighbour works; onto a taken one does not.
    other = appointment_book(
        patient=s["other"], doctor=s["doctor"], actor=s["desk"].user, starts_at=at(18)
    )
    with pytest.raises(Conflict):
        appointment_reschedule(appointment=other, actor=s["desk"].user, starts_at=at(17, 30))


def test_cancel_needs_a_reason_and_frees_the_slot(setup):
    s = setup
    appt = appointment_book(
        patient=s["patient"], doctor=s["doctor"], actor=s["desk"].user, starts_at=at(12)
    )
    with pytest.raises(DomainError):
        appointment_cancel(appointment=appt, actor=s["desk"].user, reason="  ")
    appointment_cancel(appointment=appt, actor=s["desk"].user, reason="Patient called")
    appt.refresh_from_db()
    assert appt.status == AppointmentStatus.CANCELLED and appt.cancel_reason == "Patient called"
    again = appointment_book(
        patient=s["other"], doctor=s["doctor"], actor=s["desk"].user, starts_at=at(12)
    )
    assert again.pk != appt.pk


def test_day_flow_with_tokens(setup, clock):
    s = setup
    first = appointment_book(
        patient=s["patient"], doctor=s["doctor"], actor=s["desk"].user, starts_at=at(10)
    )
    walk_in = appointment_walk_in(patient=s["other"], doctor=s["doctor"], actor=s["desk"].user)
    assert walk_in.token_number == 1 and walk_in.status == AppointmentStatus.CHECKED_IN
    clock.move_to(at(9, 55))
    appointment_check_in(appointment=first, actor=s["desk"].user)
    first.refresh_from_db()
    assert first.token_number == 2
    assert [a.token_number for a in queue(day=NOW.date(), tz=IST)] == [1, 2]
    appointment_start(appointment=first, actor=s["doctor"].user)
    with pytest.raises(Conflict):
        appointment_check_in(appointment=first, actor=s["desk"].user)
    appointment_complete(appointment=first, actor=s["doctor"].user)
    first.refresh_from_db()
    assert first.status == AppointmentStatus.COMPLETED and first.completed_at
    assert [a.pk for a in queue(day=NOW.date(), tz=IST)] == [walk_in.pk]
    # Tokens start again the next day.
    clock.move_to(at(9, day=11))
    tomorrow = appointment_walk_in(patient=s["patient"], doctor=s["doctor"], actor=s["desk"].user)
    assert tomorrow.token_number == 1


def test_no_show_only_after_the_start(setup, clock):
    s = setup
    appt = appointment_book(
        patient=s["patient"], doctor=s["doctor"], actor=s["desk"].user, starts_at=at(10)
    )
    with pytest.raises(DomainError):
        appointment_mark_no_show(appointment=appt, actor=s["desk"].user)
    clock.move_to(at(10, 20))
    appointment_mark_no_show(appointment=appt, actor=s["desk"].user)
    appt.refresh_from_db()
    assert appt.status == AppointmentStatus.NO_SHOW


def test_only_todays_appointments_check_in(setup):
    s = setup
    appt = appointment_book(
        patient=s["patient"], doctor=s["doctor"], actor=s["desk"].user, starts_at=at(10, day=12)
    )
    with pytest.raises(DomainError):
        appointment_check_in(appointment=appt, actor=s["desk"].user)


def test_overlapping_sessions_and_bad_hours_are_refused(setup):
    s = setup
    with pytest.raises(ValidationFailed) as exc:
        working_hours_set(
            doctor=s["doctor"],
            actor=s["owner"].user,
            sessions=[
                SessionInput(weekday=1, start=time(10), end=time(13)),
                SessionInput(weekday=1, start=time(12), end=time(14)),
                SessionInput(weekday=2, start=time(15), end=time(14)),
            ],
        )
    assert len(exc.value.errors["sessions"]) == 2
    # Nothing changed: the old hours still give slots.
    assert doctor_free_slots(s["doctor"], NOW.date())


def test_a_non_doctor_cannot_be_booked(setup):
    s = setup
    with pytest.raises(DomainError):
        appointment_book(
            patient=s["patient"], doctor=s["desk"], actor=s["desk"].user, starts_at=at(10)
        )


def test_other_timezone_clinic(db):
    clinic = ClinicFactory(timezone="America/New_York", slug="ny")
    doctor = MembershipFactory(clinic=clinic, role=Role.DOCTOR)
    ny = ZoneInfo("America/New_York")
    with (
        time_machine.travel(datetime(2026, 3, 6, 8, 0, tzinfo=ny), tick=False),
        clinic_scope(clinic),
    ):
        working_hours_set(
            doctor=doctor,
            actor=doctor.user,
            sessions=[SessionInput(weekday=0, start=time(9), end=time(10), slot_minutes=30)],
        )
        # Monday 9 March 2026 is the first day of daylight saving time in New York.
        slots = doctor_free_slots(doctor, datetime(2026, 3, 9).date())
        assert [s.start.astimezone(ny).hour for s in slots] == [9, 9]
        assert slots[0].start.utcoffset() == timedelta(hours=-4)
        patient = PatientFactory(clinic=clinic)
        appt = appointment_book(
            patient=patient, doctor=doctor, actor=doctor.user, starts_at=slots[1].start
        )
        assert appt.ends_at - appt.starts_at == timedelta(minutes=30)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_desks_booking_the_same_slot_at_once_one_wins():
    clinic = ClinicFactory(slug="race")
    doctor = MembershipFactory(clinic=clinic, role=Role.DOCTOR)
    desks = [MembershipFactory(clinic=clinic, role=Role.FRONT_DESK) for _ in range(2)]
    with time_machine.travel(NOW, tick=False), clinic_scope(clinic):
        working_hours_set(
            doctor=doctor,
            actor=doctor.user,
            sessions=[SessionInput(weekday=1, start=time(10), end=time(13))],
        )
        patients = [PatientFactory(clinic=clinic) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def book(i: int) -> None:
        try:
            with time_machine.travel(NOW, tick=False), clinic_scope(clinic):
                barrier.wait()
                appointment_book(
                    patient=patients[i], doctor=doctor, actor=desks[i].user, starts_at=at(11)
                )
            outcomes.append("booked")
        except Conflict as exc:
            outcomes.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("booked") == 1, outcomes
    refusal = next(o for o in outcomes if o != "booked")
    assert "already booked" in refusal or "just taken" in refusal
    with clinic_scope(clinic):
        assert Appointment.objects.filter(doctor=doctor).count() == 1
