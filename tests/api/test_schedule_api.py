"""The clinic's day through the API: doctors, free slots, booking, moving, cancelling and
checking in, at a fixed moment: Tuesday 10 March 2026, 09:00 in India."""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.api.serializers_schedule import AppointmentSerializer, DoctorSerializer
from patients.models import Appointment, AppointmentKind, AppointmentStatus, LeaveKind
from patients.services.appointments import SessionInput, doctor_leave_add, working_hours_set
from tests.api.conftest import assert_error
from tests.factories import (
    ClinicFactory,
    DoctorProfileFactory,
    MembershipFactory,
    PatientFactory,
    make_api_key,
)

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=IST)  # a Tuesday
APPOINTMENTS = "/api/v1/appointments/"
DOCTORS = "/api/v1/doctors/"


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=IST)


def slots_url(doctor_id: int) -> str:
    return f"/api/v1/doctors/{doctor_id}/slots/"


def appointment_url(appointment_id: int, suffix: str = "") -> str:
    return f"{APPOINTMENTS}{appointment_id}/{suffix}"


def every_day(start: int, end: int, minutes: int = 15) -> list[SessionInput]:
    return [
        SessionInput(weekday=d, start=time(start), end=time(end), slot_minutes=minutes)
        for d in range(7)
    ]


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def day(clinic, clock):
    """A doctor seeing patients 10:00-13:00 and 17:00-20:00 every day, in 15-minute slots."""
    owner = MembershipFactory(clinic=clinic, role=Role.OWNER, user__full_name="Asha Rao")
    doctor = DoctorProfileFactory(
        membership__clinic=clinic,
        membership__user__full_name="Meera Nair",
        specialisation="General Medicine",
    ).membership
    with clinic_scope(clinic):
        working_hours_set(
            doctor=doctor, actor=owner.user, sessions=every_day(10, 13) + every_day(17, 20)
        )
        patient = PatientFactory(clinic=clinic, full_name="Lakshmi Iyer")
        other = PatientFactory(clinic=clinic, full_name="Ravi Shankar")
    return {"owner": owner, "doctor": doctor, "patient": patient, "other": other}


@pytest.fixture
def desk(clinic, api_client_for):
    """A front-desk API key: books and runs appointments."""
    return api_client_for(clinic, role=Role.FRONT_DESK)


def book(client, patient, doctor, starts_at: str, **extra):
    payload = {"patient_id": patient.pk, "doctor_id": doctor.pk, "starts_at": starts_at, **extra}
    return client.post(APPOINTMENTS, payload, format="json")


def _count(clinic) -> int:
    with clinic_scope(clinic):
        return Appointment.objects.count()


# --- Doctors ------------------------------------------------------------------------------------


def test_doctors_are_the_active_doctors_and_owners(clinic, other_clinic, day, desk):
    MembershipFactory(clinic=clinic, role=Role.DOCTOR, is_active=False)
    MembershipFactory(clinic=clinic, role=Role.ASSISTANT)
    DoctorProfileFactory(membership__clinic=other_clinic)
    rows = desk.get(DOCTORS).json()
    assert [r["id"] for r in rows] == [day["owner"].pk, day["doctor"].pk]  # by name
    meera = rows[1]
    assert set(meera) == set(DoctorSerializer().fields)
    assert meera["full_name"] == "Meera Nair"
    assert meera["role"] == "doctor"
    assert meera["qualifications"] == "MBBS, MD (General Medicine)"
    assert meera["registration_number"].startswith("KMC-")
    assert meera["specialisation"] == "General Medicine"
    assert rows[0]["registration_number"] == ""  # an owner without a doctor profile


# --- Free slots ---------------------------------------------------------------------------------


def test_slots_default_to_today_in_the_clinics_time_zone(day, desk):
    body = desk.get(slots_url(day["doctor"].pk)).json()
    assert body["doctor_id"] == day["doctor"].pk
    assert body["timezone"] == "Asia/Kolkata"
    [today] = body["days"]
    assert today["date"] == "2026-03-10"
    assert len(today["slots"]) == 24
    assert today["slots"][0] == {
        "starts_at": "2026-03-10T10:00:00+05:30",
        "ends_at": "2026-03-10T10:15:00+05:30",
    }
    assert today["slots"][-1]["ends_at"] == "2026-03-10T20:00:00+05:30"


def test_slots_over_several_days_leave_out_bookings_leave_and_the_past(day, desk, clock):
    doctor = day["doctor"]
    assert book(desk, day["patient"], doctor, "2026-03-11T10:15:00+05:30").status_code == 201
    with clinic_scope(doctor.clinic):
        doctor_leave_add(
            doctor=doctor,
            actor=day["owner"].user,
            starts_at=at(0, day=12),
            ends_at=at(0, day=13),
            kind=LeaveKind.LEAVE,
        )
    clock.move_to(at(12, 5))
    body = desk.get(slots_url(doctor.pk), {"date": "2026-03-10", "days": 3}).json()
    assert [d["date"] for d in body["days"]] == ["2026-03-10", "2026-03-11", "2026-03-12"]
    today, tomorrow, on_leave = (d["slots"] for d in body["days"])
    assert today[0]["starts_at"] == "2026-03-10T12:15:00+05:30"  # 12:00 has begun
    assert len(tomorrow) == 23
    assert "2026-03-11T10:15:00+05:30" not in [s["starts_at"] for s in tomorrow]
    assert on_leave == []


def test_slots_carry_the_offset_of_each_day_across_a_clock_change(clinic, day, desk):
    clinic.timezone = "Europe/London"  # clocks go forward on Sunday 29 March 2026
    clinic.save()
    body = desk.get(slots_url(day["doctor"].pk), {"date": "2026-03-28", "days": 3}).json()
    assert body["timezone"] == "Europe/London"
    firsts = [d["slots"][0]["starts_at"] for d in body["days"]]
    assert firsts == [
        "2026-03-28T10:00:00+00:00",
        "2026-03-29T10:00:00+01:00",
        "2026-03-30T10:00:00+01:00",
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"days": 0}, "days"),
        ({"days": 15}, "days"),
        ({"days": "two"}, "days"),
        ({"date": "10/03/2026"}, "date"),
        ({"from": "2026-03-10"}, "from"),
    ],
)
def test_bad_slot_queries_are_400_by_field(day, desk, query, field):
    body = assert_error(desk.get(slots_url(day["doctor"].pk), query), 400)
    assert field in body["fields"], body


OUT_OF_RANGE = "Give a date between 1 Jan 1900 and 31 Dec 2036."


@pytest.mark.parametrize("asked", ["9999-12-31", "0001-01-01", "1899-12-31", "2037-01-01"])
def test_slots_for_a_date_outside_the_clinics_calendar_are_400(day, desk, asked):
    for days in (1, 14):
        response = desk.get(slots_url(day["doctor"].pk), {"date": asked, "days": days})
        body = assert_error(response, 400)
        assert body["fields"] == {"date": [OUT_OF_RANGE]}


def test_slots_at_the_edges_of_the_clinics_calendar_are_answered(day, desk):
    doctor = day["doctor"].pk
    last = desk.get(slots_url(doctor), {"date": "2036-12-31", "days": 14})
    assert last.status_code == 200
    assert last.json()["days"][-1]["date"] == "2037-01-13"
    first = desk.get(slots_url(doctor), {"date": "1900-01-01"})
    assert first.json()["days"] == [{"date": "1900-01-01", "slots": []}]


# --- The booking horizon: 365 days by default, so 10 Mar 2027 is the last bookable day ----------

HORIZON = "Appointments can be booked up to 365 days ahead: the last bookable day is 10 Mar 2027."


def test_slots_past_the_booking_horizon_are_not_offered(day, desk):
    doctor = day["doctor"].pk
    body = desk.get(slots_url(doctor), {"date": "2027-03-09", "days": 3}).json()
    assert body["bookable_until"] == "2027-03-10"
    assert [(d["date"], bool(d["slots"])) for d in body["days"]] == [
        ("2027-03-09", True),
        ("2027-03-10", True),
        ("2027-03-11", False),
    ]
    assert body["note"] == HORIZON
    beyond = desk.get(slots_url(doctor), {"date": "2036-12-31"}).json()
    assert beyond["days"] == [{"date": "2036-12-31", "slots": []}]
    assert beyond["note"] == HORIZON
    assert desk.get(slots_url(doctor)).json()["note"] == ""


@pytest.mark.parametrize("starts_at", ["2027-03-11T10:00:00+05:30", "2036-12-31T10:00:00+05:30"])
def test_booking_past_the_horizon_is_400_naming_the_last_bookable_day(clinic, day, desk, starts_at):
    body = assert_error(book(desk, day["patient"], day["doctor"], starts_at), 400, "beyond_horizon")
    assert body["fields"] == {"starts_at": [HORIZON]}
    assert _count(clinic) == 0


def test_the_last_day_of_the_horizon_can_be_booked(clinic, day, desk):
    response = book(desk, day["patient"], day["doctor"], "2027-03-10T19:45:00+05:30")
    assert response.status_code == 201, response.content
    assert response.json()["date"] == "2027-03-10"


def test_a_shorter_horizon_refuses_sooner(clinic, day, desk):
    clinic.booking_horizon_days = 30
    clinic.save(update_fields=["booking_horizon_days"])
    body = assert_error(book(desk, day["patient"], day["doctor"], "2026-04-10T10:00:00+05:30"), 400)
    assert body["fields"] == {
        "starts_at": [
            "Appointments can be booked up to 30 days ahead: the last bookable day is 9 Apr 2026."
        ]
    }
    assert book(desk, day["patient"], day["doctor"], "2026-04-09T10:00:00+05:30").status_code == 201


def test_slots_of_someone_who_is_not_a_doctor_here_are_404(clinic, other_clinic, day, desk):
    assistant = MembershipFactory(clinic=clinic, role=Role.ASSISTANT)
    elsewhere = DoctorProfileFactory(membership__clinic=other_clinic).membership
    for membership_id in (assistant.pk, elsewhere.pk):
        body = assert_error(desk.get(slots_url(membership_id)), 404, "not_found")
        assert "doctor" in body["detail"]


# --- Booking ------------------------------------------------------------------------------------


def test_book_a_slot(clinic, day, desk):
    response = book(
        desk, day["patient"], day["doctor"], "2026-03-10T10:15:00+05:30", reason="Fever"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == set(AppointmentSerializer().fields)
    assert body["patient"] == {
        "id": day["patient"].pk,
        "number": "P-000001",
        "full_name": "Lakshmi Iyer",
    }
    assert body["doctor"] == {"id": day["doctor"].pk, "full_name": "Meera Nair"}
    assert (body["starts_at"], body["ends_at"]) == (
        "2026-03-10T10:15:00+05:30",
        "2026-03-10T10:30:00+05:30",
    )
    assert (body["status"], body["kind"], body["date"]) == ("booked", "booked", "2026-03-10")
    assert body["token_number"] is None and body["reason"] == "Fever"
    with clinic_scope(clinic):
        appointment = Appointment.objects.get(pk=body["id"])
        event = AuditEvent.objects.get(action="patients.appointment.booked")
    assert appointment.booked_by is None  # a key is not a person; the audit names the key
    assert (event.api_key_id, event.via, event.patient_id) == (
        desk.api_key.pk,
        "api",
        day["patient"].pk,
    )


def test_a_time_in_utc_books_the_same_slot_and_answers_in_clinic_time(day, desk):
    body = book(desk, day["patient"], day["doctor"], "2026-03-10T04:45:00Z").json()
    assert body["starts_at"] == "2026-03-10T10:15:00+05:30"


def test_double_booking_is_409_with_code_booked(clinic, day, desk, api_client_for):
    assert book(desk, day["patient"], day["doctor"], "2026-03-10T11:00:00+05:30").status_code == 201
    # Another desk took the slot after this one listed it as free.
    colleague = api_client_for(clinic, role=Role.FRONT_DESK)
    body = assert_error(
        book(colleague, day["other"], day["doctor"], "2026-03-10T11:00:00+05:30"), 409, "booked"
    )
    assert body["type"] == "conflict"
    assert "already booked" in body["fields"]["starts_at"][0]
    assert _count(clinic) == 1


@pytest.mark.parametrize(
    ("starts_at", "code", "words"),
    [
        ("2026-03-10T08:00:00+05:30", "past", "in the past"),
        ("2026-03-10T14:00:00+05:30", "outside_hours", "working hours"),
        ("2026-03-10T10:07:00+05:30", "off_grid", "slots"),
    ],
)
def test_unbookable_times_are_409_with_the_reason(clinic, day, desk, starts_at, code, words):
    body = assert_error(book(desk, day["patient"], day["doctor"], starts_at), 409, code)
    assert words in body["detail"]
    assert _count(clinic) == 0


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"starts_at": "2026-03-10T10:15:00"}, "starts_at", "offset"),
        ({"starts_at": "2026-03-10"}, "starts_at", "offset"),
        ({"starts_at": "tomorrow"}, "starts_at", "format"),
        ({"room": "2"}, "room", "Unknown field."),
        ({"patient_id": None}, "patient_id", "null"),
        ({"reason": "x" * 201}, "reason", "200"),
    ],
)
def test_bad_booking_input_is_400_by_field(clinic, day, desk, change, field, message):
    payload = {
        "patient_id": day["patient"].pk,
        "doctor_id": day["doctor"].pk,
        "starts_at": "2026-03-10T10:15:00+05:30",
        **change,
    }
    body = assert_error(desk.post(APPOINTMENTS, payload, format="json"), 400)
    assert any(message in m for m in body["fields"][field]), body
    assert _count(clinic) == 0


def test_booking_another_clinics_patient_or_doctor_is_refused(clinic, other_clinic, day, desk):
    with clinic_scope(other_clinic):
        stranger = PatientFactory(clinic=other_clinic)
    their_doctor = DoctorProfileFactory(membership__clinic=other_clinic).membership
    body = assert_error(book(desk, stranger, their_doctor, "2026-03-10T10:15:00+05:30"), 400)
    assert body["fields"] == {
        "patient_id": ["No such patient at this clinic."],
        "doctor_id": ["No such doctor at this clinic."],
    }
    front_desk = MembershipFactory(clinic=clinic, role=Role.FRONT_DESK)
    body = assert_error(book(desk, day["patient"], front_desk, "2026-03-10T10:15:00+05:30"), 400)
    assert "doctor_id" in body["fields"]
    assert _count(clinic) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_desks_racing_for_one_slot_get_201_and_409():
    with time_machine.travel(NOW, tick=False):
        clinic = ClinicFactory()
        owner = MembershipFactory(clinic=clinic, role=Role.OWNER)
        doctor = DoctorProfileFactory(membership__clinic=clinic).membership
        with clinic_scope(clinic):
            working_hours_set(doctor=doctor, actor=owner.user, sessions=every_day(10, 13))
            patients = [PatientFactory(clinic=clinic) for _ in range(2)]
        tokens = [make_api_key(clinic, role=Role.FRONT_DESK)[1] for _ in range(2)]
        start = threading.Barrier(2)
        answers, errors = [], []

        def send(token, patient) -> None:
            try:
                client = APIClient()
                client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
                start.wait()
                answers.append(book(client, patient, doctor, "2026-03-10T11:00:00+05:30"))
            except Exception as exc:  # surfaced below
                errors.append(exc)
            finally:
                connection.close()

        threads = [
            threading.Thread(target=send, args=pair) for pair in zip(tokens, patients, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    answers.sort(key=lambda a: a.status_code)
    assert [a.status_code for a in answers] == [201, 409]
    assert answers[1].json()["code"] == "booked"
    assert _count(clinic) == 1


def test_booking_replays_with_the_same_idempotency_key(clinic, day, desk):
    payload = {
        "patient_id": day["patient"].pk,
        "doctor_id": day["doctor"].pk,
        "starts_at": "2026-03-10T10:30:00+05:30",
    }
    first = desk.post(APPOINTMENTS, payload, format="json", HTTP_IDEMPOTENCY_KEY="book-1")
    again = desk.post(APPOINTMENTS, payload, format="json", HTTP_IDEMPOTENCY_KEY="book-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert _count(clinic) == 1
    other = {**payload, "starts_at": "2026-03-10T10:45:00+05:30"}
    assert_error(desk.post(APPOINTMENTS, other, format="json", HTTP_IDEMPOTENCY_KEY="book-1"), 422)
    # Without the key, the same booking again is a double booking.
    assert_error(desk.post(APPOINTMENTS, payload, format="json"), 409, "booked")
    assert _count(clinic) == 1


def test_a_signed_in_receptionist_books_as_themselves(clinic, day):
    member = MembershipFactory(clinic=clinic, role=Role.FRONT_DESK)
    client = APIClient()
    client.force_login(member.user)
    client.credentials(HTTP_X_CLINIC=clinic.slug)
    body = book(client, day["patient"], day["doctor"], "2026-03-10T12:00:00+05:30").json()
    with clinic_scope(clinic):
        assert Appointment.objects.get(pk=body["id"]).booked_by == member.user


def test_reading_roles_cannot_book(clinic, day, api_client_for):
    for client in (
        api_client_for(clinic, role=Role.BILLING),
        api_client_for(clinic, role=Role.FRONT_DESK, read_only=True),
    ):
        assert client.get(APPOINTMENTS, {"date": "2026-03-10"}).status_code == 200
        assert_error(book(client, day["patient"], day["doctor"], "2026-03-10T10:15:00+05:30"), 403)
    assert _count(clinic) == 0


# --- Moving, cancelling, checking in ------------------------------------------------------------


@pytest.fixture
def booked(day, desk):
    body = book(desk, day["patient"], day["doctor"], "2026-03-10T10:00:00+05:30").json()
    return body["id"]


def test_reschedule_past_the_horizon_is_refused_and_the_appointment_stays(day, desk, booked):
    url = appointment_url(booked, "reschedule/")
    response = desk.post(url, {"starts_at": "2027-03-11T10:00:00+05:30"}, format="json")
    body = assert_error(response, 400, "beyond_horizon")
    assert body["fields"] == {"starts_at": [HORIZON]}
    assert desk.get(appointment_url(booked)).json()["starts_at"] == "2026-03-10T10:00:00+05:30"


def test_one_appointment(day, desk, booked):
    body = desk.get(appointment_url(booked)).json()
    assert body["id"] == booked
    assert body["patient"]["full_name"] == "Lakshmi Iyer"


def test_reschedule_to_a_free_slot(clinic, day, desk, booked):
    url = appointment_url(booked, "reschedule/")
    response = desk.post(url, {"starts_at": "2026-03-11T17:30:00+05:30"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["starts_at"], body["date"]) == ("2026-03-11T17:30:00+05:30", "2026-03-11")
    today = desk.get(slots_url(day["doctor"].pk)).json()["days"][0]["slots"]
    assert today[0]["starts_at"] == "2026-03-10T10:00:00+05:30"  # the old slot is free again
    taken = book(desk, day["other"], day["doctor"], "2026-03-11T18:00:00+05:30").json()
    assert_error(desk.post(url, {"starts_at": taken["starts_at"]}, format="json"), 409, "booked")
    assert (
        "offset"
        in assert_error(desk.post(url, {"starts_at": "2026-03-11T18:15:00"}, format="json"), 400)[
            "fields"
        ]["starts_at"][0]
    )
    assert_error(
        desk.post(url, {"starts_at": "2026-03-11T18:15:00+05:30", "why": "x"}, format="json"), 400
    )
    assert len(_events(clinic, "patients.appointment.rescheduled")) == 1


def _events(clinic, action: str) -> list[AuditEvent]:
    with clinic_scope(clinic):
        return list(AuditEvent.objects.filter(action=action))


def test_cancel_needs_a_reason_and_frees_the_slot(clinic, day, desk, booked):
    url = appointment_url(booked, "cancel/")
    body = assert_error(desk.post(url, {}, format="json"), 400)
    assert body["fields"] == {"reason": ["Say why the appointment is cancelled."]}
    assert_error(desk.post(url, {"reason": " "}, format="json"), 400)
    response = desk.post(url, {"reason": "Patient is travelling"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["cancel_reason"]) == ("cancelled", "Patient is travelling")
    assert body["cancelled_at"] == "2026-03-10T09:00:00+05:30"
    assert book(desk, day["other"], day["doctor"], "2026-03-10T10:00:00+05:30").status_code == 201
    # Cancelled is final: no second cancel, no move.
    assert_error(desk.post(url, {"reason": "Again"}, format="json"), 409, "conflict")
    moved = desk.post(
        appointment_url(booked, "reschedule/"),
        {"starts_at": "2026-03-10T11:00:00+05:30"},
        format="json",
    )
    assert "cancelled" in assert_error(moved, 409, "conflict")["detail"]


def test_check_in_gives_the_next_token(clinic, day, desk, booked, clock):
    clock.move_to(at(9, 50))
    url = appointment_url(booked, "check-in/")
    assert_error(desk.post(url, {"token": 1}, format="json"), 400)
    response = desk.post(url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["token_number"]) == ("checked_in", 1)
    assert body["checked_in_at"] == "2026-03-10T09:50:00+05:30"
    again = assert_error(desk.post(url), 409, "conflict")
    assert "waiting" in again["detail"]
    later = book(desk, day["other"], day["doctor"], "2026-03-11T10:00:00+05:30").json()
    body = assert_error(desk.post(appointment_url(later["id"], "check-in/")), 400)
    assert "today" in body["detail"]
    assert len(_events(clinic, "patients.appointment.checked_in")) == 1


def test_another_clinics_appointment_is_404_everywhere(other_clinic, day, desk):
    with clinic_scope(other_clinic):
        doctor = MembershipFactory(clinic=other_clinic, role=Role.DOCTOR)
        theirs = Appointment.objects.create(
            clinic=other_clinic,
            patient=PatientFactory(clinic=other_clinic),
            doctor=doctor,
            starts_at=at(10),
            ends_at=at(10, 15),
        )
    assert_error(desk.get(appointment_url(theirs.pk)), 404, "not_found")
    for suffix, payload in (
        ("reschedule/", {"starts_at": "2026-03-10T11:00:00+05:30"}),
        ("cancel/", {"reason": "Gone"}),
        ("check-in/", {}),
    ):
        body = assert_error(
            desk.post(appointment_url(theirs.pk, suffix), payload, format="json"), 404
        )
        assert "appointment" in body["detail"]
    with clinic_scope(other_clinic):
        theirs.refresh_from_db()
    assert (theirs.status, theirs.starts_at) == (AppointmentStatus.BOOKED, at(10))


# --- The day's list -----------------------------------------------------------------------------


def _fill_day(clinic, doctors, numbers: range) -> None:
    """Appointments `numbers` of the 10th, one after another over the doctors, each with its
    own patient; number 0 is a walk-in."""
    with clinic_scope(clinic):
        for i in numbers:
            starts = at(10) + timedelta(minutes=15 * (i // len(doctors)))
            Appointment.objects.create(
                clinic=clinic,
                patient=PatientFactory(clinic=clinic),
                doctor=doctors[i % len(doctors)],
                starts_at=starts,
                ends_at=starts + timedelta(minutes=15),
                kind=AppointmentKind.WALK_IN if i == 0 else AppointmentKind.BOOKED,
                token_number=1 if i == 0 else None,
            )


def test_the_days_list_by_date_doctor_and_status(clinic, day, desk):
    doctor = day["doctor"]
    second = DoctorProfileFactory(membership__clinic=clinic).membership
    with clinic_scope(clinic):
        working_hours_set(doctor=second, actor=day["owner"].user, sessions=every_day(10, 13))
    mine = book(desk, day["patient"], doctor, "2026-03-10T11:00:00+05:30").json()
    theirs = book(desk, day["other"], second, "2026-03-10T10:30:00+05:30").json()
    book(desk, day["other"], doctor, "2026-03-11T11:00:00+05:30")
    cancelled = book(desk, day["other"], doctor, "2026-03-10T12:00:00+05:30").json()
    desk.post(appointment_url(cancelled["id"], "cancel/"), {"reason": "Called"}, format="json")
    rows = desk.get(APPOINTMENTS, {"date": "2026-03-10"}).json()
    assert [r["id"] for r in rows] == [theirs["id"], mine["id"], cancelled["id"]]  # time order
    assert set(rows[0]) == set(AppointmentSerializer().fields)
    only_mine = desk.get(APPOINTMENTS, {"date": "2026-03-10", "doctor": doctor.pk}).json()
    assert [r["id"] for r in only_mine] == [mine["id"], cancelled["id"]]
    booked_only = desk.get(APPOINTMENTS, {"date": "2026-03-10", "status": "booked"}).json()
    assert [r["id"] for r in booked_only] == [theirs["id"], mine["id"]]
    assert len(desk.get(APPOINTMENTS, {"date": "2026-03-11"}).json()) == 1
    assert desk.get(APPOINTMENTS, {"date": "2026-03-12"}).json() == []


def test_the_day_is_the_clinics_local_day(clinic, day, desk):
    with clinic_scope(clinic):
        # 00:15 on the 11th in India is still the 10th in UTC.
        Appointment.objects.create(
            clinic=clinic,
            patient=day["patient"],
            doctor=day["doctor"],
            starts_at=at(0, 15, day=11),
            ends_at=at(0, 30, day=11),
        )
    assert desk.get(APPOINTMENTS, {"date": "2026-03-10"}).json() == []
    [row] = desk.get(APPOINTMENTS, {"date": "2026-03-11"}).json()
    assert row["starts_at"] == "2026-03-11T00:15:00+05:30"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "date"),
        ({"date": "tomorrow"}, "date"),
        ({"date": "2026-03-10", "status": "late"}, "status"),
        ({"date": "2026-03-10", "doctor": "me"}, "doctor"),
        ({"date": "2026-03-10", "page": "2"}, "page"),
    ],
)
def test_bad_list_queries_are_400(day, desk, query, field):
    assert field in assert_error(desk.get(APPOINTMENTS, query), 400)["fields"]


@pytest.mark.parametrize("asked", ["9999-12-31", "0001-01-01", "2026-02-30"])
def test_the_days_list_for_a_date_outside_the_calendar_is_400(day, desk, asked):
    body = assert_error(desk.get(APPOINTMENTS, {"date": asked}), 400)
    assert list(body["fields"]) == ["date"]


def test_filtering_by_another_clinics_doctor_is_refused(other_clinic, day, desk):
    theirs = DoctorProfileFactory(membership__clinic=other_clinic).membership
    body = assert_error(desk.get(APPOINTMENTS, {"date": "2026-03-10", "doctor": theirs.pk}), 400)
    assert body["fields"] == {"doctor": ["No such doctor at this clinic."]}


def test_the_days_list_costs_the_same_for_3_or_30_appointments(clinic, day, desk):
    doctors = [day["doctor"], DoctorProfileFactory(membership__clinic=clinic).membership]
    _fill_day(clinic, doctors, range(3))
    assert desk.get(DOCTORS).status_code == 200  # the key's last-used time is written once
    with CaptureQueriesContext(connection) as few:
        assert len(desk.get(APPOINTMENTS, {"date": "2026-03-10"}).json()) == 3
    _fill_day(clinic, doctors, range(3, 30))
    with CaptureQueriesContext(connection) as many:
        rows = desk.get(APPOINTMENTS, {"date": "2026-03-10"}).json()
    assert len(rows) == 30
    assert len(many.captured_queries) == len(few.captured_queries) <= 2
    with CaptureQueriesContext(connection) as filtered:
        desk.get(APPOINTMENTS, {"date": "2026-03-10", "doctor": doctors[0].pk})
    assert len(filtered.captured_queries) == len(few.captured_queries) + 1  # the doctor


def test_schema_describes_the_days_endpoints(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    paths = schema["paths"]
    assert {
        "/api/v1/doctors/",
        "/api/v1/doctors/{doctor_id}/slots/",
        "/api/v1/appointments/",
        "/api/v1/appointments/{appointment_id}/",
        "/api/v1/appointments/{appointment_id}/reschedule/",
        "/api/v1/appointments/{appointment_id}/cancel/",
        "/api/v1/appointments/{appointment_id}/check-in/",
    } <= set(paths)
    create = paths["/api/v1/appointments/"]["post"]
    assert {"201", "400", "401", "403", "409", "422"} <= set(create["responses"])
    assert "booked" in create["responses"]["409"]["description"]
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"]}
    listing = paths["/api/v1/appointments/"]["get"]
    date = next(p for p in listing["parameters"] if p["name"] == "date")
    assert date["required"] is True


# --- The day's queue through the API ----------------------------------------------------------


def test_walk_in_call_in_and_complete(clinic, day, desk, clock):
    walk_in = desk.post(
        "/api/v1/appointments/walk-in/",
        {"patient_id": day["patient"].pk, "doctor_id": day["doctor"].pk, "reason": "Cough"},
        format="json",
    )
    assert walk_in.status_code == 201, walk_in.json()
    body = walk_in.json()
    assert (body["kind"], body["status"], body["token_number"]) == ("walk_in", "checked_in", 1)
    second = desk.post(
        "/api/v1/appointments/walk-in/",
        {"patient_id": day["other"].pk, "doctor_id": day["doctor"].pk},
        format="json",
    )
    assert second.json()["token_number"] == 2

    started = desk.post(appointment_url(body["id"], "start/"), {}, format="json")
    assert started.status_code == 200 and started.json()["status"] == "in_consultation"
    # Calling in twice is refused: the status says why.
    again = desk.post(appointment_url(body["id"], "start/"), {}, format="json")
    assert again.status_code == 409 and again.json()["type"] == "conflict"
    done = desk.post(appointment_url(body["id"], "complete/"), {}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "completed"


def test_no_show_only_once_the_time_has_come(clinic, day, desk, clock):
    booked = book(desk, day["patient"], day["doctor"], at(10).isoformat()).json()
    early = desk.post(appointment_url(booked["id"], "no-show/"), {}, format="json")
    assert early.status_code == 400
    assert "Cancel it instead" in early.json()["detail"]
    clock.move_to(at(10, 20))
    late = desk.post(appointment_url(booked["id"], "no-show/"), {}, format="json")
    assert late.status_code == 200 and late.json()["status"] == "no_show"


def test_walk_in_bad_input_is_400_and_nothing_saved(clinic, other_clinic, day, desk):
    stranger = PatientFactory(clinic=other_clinic)
    for payload, field in (
        ({"patient_id": stranger.pk, "doctor_id": day["doctor"].pk}, "patient_id"),
        ({"patient_id": day["patient"].pk, "doctor_id": 999999}, "doctor_id"),
        (
            {"patient_id": day["patient"].pk, "doctor_id": day["doctor"].pk, "colour": "red"},
            "colour",
        ),
    ):
        response = desk.post("/api/v1/appointments/walk-in/", payload, format="json")
        assert response.status_code == 400 and field in response.json()["fields"], payload
    assert _count(clinic) == 0


def test_walk_in_replays_with_the_same_idempotency_key(clinic, day, desk):
    payload = {"patient_id": day["patient"].pk, "doctor_id": day["doctor"].pk}
    first = desk.post(
        "/api/v1/appointments/walk-in/", payload, format="json", HTTP_IDEMPOTENCY_KEY="w-1"
    )
    again = desk.post(
        "/api/v1/appointments/walk-in/", payload, format="json", HTTP_IDEMPOTENCY_KEY="w-1"
    )
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert _count(clinic) == 1


def test_walk_in_and_booking_outside_the_doctors_hours_are_refused_for_an_api_key(
    clinic, day, desk, clock
):
    clock.move_to(at(20, 30))  # the doctor's last session ended at 8:00 pm
    payload = {"patient_id": day["patient"].pk, "doctor_id": day["doctor"].pk}
    refused = desk.post("/api/v1/appointments/walk-in/", payload, format="json")
    body = assert_error(refused, 409, "outside_hours")
    assert body["detail"].startswith("Dr Meera Nair's last session today ended at 8:00 pm.")
    assert "The owner or the doctor may go ahead anyway" in body["detail"]
    assert body["fields"] == {"doctor_id": [body["detail"]]}
    # An API key is not the owner or the doctor: it cannot override.
    refused = desk.post(
        "/api/v1/appointments/walk-in/",
        {**payload, "override_reason": "Emergency"},
        format="json",
    )
    assert_error(refused, 403)
    booked = book(
        desk, day["patient"], day["doctor"], at(14, day=11).isoformat(), override_reason="Review"
    )
    assert_error(booked, 403)
    assert _count(clinic) == 0
