"""The scheduling pages, at a fixed moment: Tuesday 10 March 2026, 09:00 in India."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.template.loader import get_template, render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinics.audit import Actions
from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.services import membership_deactivate
from clinics.tenancy import clinic_scope
from patients.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    DoctorLeave,
    LeaveKind,
    WorkingHours,
)
from patients.selectors.appointments import day_view_appointments
from patients.services.appointments import (
    SessionInput,
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_start,
    appointment_walk_in,
    doctor_leave_add,
    working_hours_set,
)
from patients.views.schedule.cards import _STAND_IN, CARD_TEMPLATE, Cards, action_context
from patients.views.schedule.common import appointment_row
from patients.views.schedule.day import _day_context
from tests.factories import PatientFactory, UserFactory

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=IST)  # a Tuesday
TODAY = "2026-03-10"


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=IST)


def url(clinic, name, *args, **query) -> str:
    path = reverse(name, args=[clinic.slug, *args])
    if query:
        path += "?" + "&".join(f"{k}={quote(str(v), safe='')}" for k, v in query.items())
    return path


def text(response) -> str:
    return response.content.decode()


def flashed(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def reload(clinic, appointment) -> Appointment:
    with clinic_scope(clinic):
        return Appointment.objects.get(pk=appointment.pk)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def day(clinic, member_factory, clock):
    """Two doctors: Dr Asha Rao (10-1 and 5-8, 15 minutes) and Dr Vikram Shah (10-1, 20 min),
    the owner, a front desk and a billing clerk, and two patients."""
    owner = member_factory(clinic, Role.OWNER)
    asha = member_factory(clinic, Role.DOCTOR, user=UserFactory(full_name="Asha Rao"))
    vikram = member_factory(clinic, Role.DOCTOR, user=UserFactory(full_name="Vikram Shah"))
    desk = member_factory(clinic, Role.FRONT_DESK)
    billing = member_factory(clinic, Role.BILLING)
    with clinic_scope(clinic):
        working_hours_set(
            doctor=asha,
            actor=owner.user,
            sessions=[SessionInput(weekday=d, start=time(10), end=time(13)) for d in range(6)]
            + [SessionInput(weekday=d, start=time(17), end=time(20)) for d in range(6)],
        )
        working_hours_set(
            doctor=vikram,
            actor=owner.user,
            sessions=[
                SessionInput(weekday=d, start=time(10), end=time(13), slot_minutes=20)
                for d in range(6)
            ],
        )
        lakshmi = PatientFactory(clinic=clinic, full_name="Lakshmi Iyer")
        ravi = PatientFactory(clinic=clinic, full_name="Ravi Menon")
    return {
        "clinic": clinic,
        "owner": owner,
        "asha": asha,
        "vikram": vikram,
        "desk": desk,
        "billing": billing,
        "lakshmi": lakshmi,
        "ravi": ravi,
    }


def book(d, patient, doctor, when) -> Appointment:
    with clinic_scope(d["clinic"]):
        return appointment_book(
            patient=patient, doctor=doctor, actor=d["desk"].user, starts_at=when
        )


# --- the day ---------------------------------------------------------------------------------


def test_day_view_shows_each_doctor_with_their_appointments_and_free_slots(day, client_for):
    d = day
    book(d, d["lakshmi"], d["asha"], at(10, 15))
    response = client_for(d["desk"]).get(url(d["clinic"], "schedule-day", date=TODAY))
    assert response.status_code == 200
    page = text(response)
    assert "Tuesday, 10 Mar 2026" in page
    assert "Dr Asha Rao" in page and "Dr Vikram Shah" in page
    assert "Lakshmi Iyer" in page and d["lakshmi"].patient_number in page
    assert "10:15 am" in page and "Booked" in page
    # Free slots link to the booking form, prefilled with the doctor, date and time.
    book_link = url(
        d["clinic"],
        "appointment-book",
        doctor=d["vikram"].pk,
        date=TODAY,
        starts_at=at(10, 20).isoformat(),
    )
    assert book_link.replace("&", "&amp;") in page
    # Dr Rao's 10:15 is taken: no booking link for it.
    taken = url(
        d["clinic"], "appointment-book", doctor=d["asha"].pk, date=TODAY, starts_at=at(10, 15)
    )
    assert taken.replace("&", "&amp;") not in page
    # The grid's time rows run from the first session to the last one of the day.
    assert ">10:00 am</th>" in page and ">7:45 pm</th>" in page
    assert "No sessions" in page  # the afternoon break is folded into one row


def test_day_view_defaults_to_today_and_moves_by_a_day(day, client_for):
    d = day
    client = client_for(d["desk"])
    page = text(client.get(url(d["clinic"], "schedule-day")))
    assert "Tuesday, 10 Mar 2026" in page and "Today" in page
    assert "?date=2026-03-09" in page and "?date=2026-03-11" in page
    sunday = text(client.get(url(d["clinic"], "schedule-day", date="2026-03-15")))
    assert "No doctor sees patients on Sundays" in sunday
    # A date that is not a date shows today rather than an error.
    assert client.get(url(d["clinic"], "schedule-day", date="15/13/2026")).status_code == 200


OUT_OF_RANGE = "Give a date between 1 Jan 1900 and 31 Dec 2036."


@pytest.mark.parametrize("asked", ["9999-12-31", "0001-01-01", "1899-12-31", "2037-01-01"])
@pytest.mark.parametrize("name", ["schedule-day", "schedule-doctor-day", "schedule-week"])
def test_a_date_outside_the_clinics_calendar_shows_today_and_says_why(day, client_for, asked, name):
    d = day
    args = [d["asha"].pk] if name == "schedule-doctor-day" else []
    query = {"start": asked} if name == "schedule-week" else {"date": asked}
    response = client_for(d["desk"]).get(url(d["clinic"], name, *args, **query))
    assert response.status_code == 200
    assert flashed(response) == [
        f"That date cannot be shown. {OUT_OF_RANGE} Showing 10 Mar 2026 instead."
    ]
    assert f"That date cannot be shown. {OUT_OF_RANGE}" in text(response)
    assert "10 Mar 2026" in text(response)


@pytest.mark.parametrize("asked", ["1900-01-01", "2036-12-31"])
def test_the_first_and_last_day_of_the_clinics_calendar_can_be_shown(day, client_for, asked):
    d = day
    client = client_for(d["desk"])
    for name, query in [("schedule-day", {"date": asked}), ("schedule-week", {"start": asked})]:
        response = client.get(url(d["clinic"], name, **query))
        assert response.status_code == 200
        assert flashed(response) == []


def test_a_malformed_date_shows_today_and_says_why(day, client_for):
    d = day
    response = client_for(d["desk"]).get(url(d["clinic"], "schedule-day", date="2026-02-30"))
    assert response.status_code == 200
    assert "Tuesday, 10 Mar 2026" in text(response)
    assert flashed(response) == [
        f"That date cannot be shown. {OUT_OF_RANGE} Showing 10 Mar 2026 instead."
    ]


def test_the_slot_picker_names_the_calendar_for_a_date_outside_it(day, client_for):
    d = day
    client = client_for(d["desk"])
    for asked in ["9999-12-31", "0001-01-01"]:
        response = client.get(
            url(d["clinic"], "appointment-slots", doctor=d["asha"].pk, date=asked)
        )
        assert response.status_code == 200
        assert OUT_OF_RANGE in text(response)


@pytest.mark.parametrize("asked", ["9999-12-31", "0001-01-01"])
def test_forms_refuse_a_date_outside_the_clinics_calendar(day, client_for, asked):
    d = day
    client = client_for(d["owner"])
    leave = client.post(
        url(d["clinic"], "doctor-leave-add", d["asha"].pk), {"kind": "leave", "first_day": asked}
    )
    assert leave.status_code == 200 and OUT_OF_RANGE in text(leave)
    booking = client.post(
        url(d["clinic"], "appointment-book"),
        {"patient_id": d["lakshmi"].pk, "doctor": d["asha"].pk, "date": asked, "reason": "x"},
    )
    assert booking.status_code == 200 and OUT_OF_RANGE in text(booking)
    with clinic_scope(d["clinic"]):
        assert not DoctorLeave.objects.exists() and not Appointment.objects.exists()


def _appointments(d, count: int) -> None:
    """`count` appointments across both doctors today, in every status, created directly."""
    statuses = list(AppointmentStatus)
    with clinic_scope(d["clinic"]):
        patients = [PatientFactory(clinic=d["clinic"]) for _ in range(count)]
        slots = [(d["asha"], at(10) + timedelta(minutes=15 * i), 15) for i in range(12)]
        slots += [(d["asha"], at(17) + timedelta(minutes=15 * i), 15) for i in range(12)]
        slots += [(d["vikram"], at(10) + timedelta(minutes=20 * i), 20) for i in range(9)]
        for i, patient in enumerate(patients):
            doctor, starts_at, minutes = slots[i]
            Appointment.objects.create(
                clinic=d["clinic"],
                patient=patient,
                doctor=doctor,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=minutes),
                status=statuses[i % len(statuses)],
                token_number=i + 1,
                reason="Fever",
            )


@pytest.mark.parametrize("name", ["schedule-day", "schedule-queue", "schedule-week"])
def test_day_week_and_queue_cost_the_same_queries_for_3_or_30_appointments(day, client_for, name):
    d = day
    client = client_for(d["desk"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url(d["clinic"], name, date=TODAY))
            assert response.status_code == 200
        return len(captured)

    _appointments(d, 3)
    queries()  # the first page view also remembers the clinic in the session
    few = queries()
    with clinic_scope(d["clinic"]):
        Appointment.objects.all().delete()
    _appointments(d, 30)
    page = text(client.get(url(d["clinic"], name, date=TODAY)))
    assert queries() == few
    if name == "schedule-day":
        assert page.count('class="appt st-') >= 2 * 30  # the grid and the phone lists


def test_doctor_day_shows_one_doctor_as_a_list(day, client_for):
    d = day
    book(d, d["ravi"], d["vikram"], at(10, 40))
    book(d, d["lakshmi"], d["asha"], at(10))
    page = text(
        client_for(d["desk"]).get(
            url(d["clinic"], "schedule-doctor-day", d["vikram"].pk, date=TODAY)
        )
    )
    assert "Dr Vikram Shah" in page and "Ravi Menon" in page
    assert "Lakshmi Iyer" not in page
    assert "10:00 am to 1:00 pm" in page


def test_week_view_counts_booked_and_free_per_day(day, client_for):
    d = day
    book(d, d["lakshmi"], d["vikram"], at(10, 20))
    book(d, d["ravi"], d["vikram"], at(11, day=11))
    response = client_for(d["desk"]).get(
        url(d["clinic"], "schedule-week", start=TODAY, doctor=d["vikram"].pk)
    )
    assert response.status_code == 200
    page = text(response)
    assert "Dr Vikram Shah's week" in page
    week = response.context["week"]
    assert [w["booked"] for w in week] == [1, 1, 0, 0, 0, 0, 0]
    # 9 slots of 20 minutes a day, Monday to Saturday; Sunday is a day off.
    assert [w["free"] for w in week] == [8, 8, 9, 9, 9, 0, 9]
    assert "Lakshmi Iyer" in page and "Ravi Menon" in page
    assert url(d["clinic"], "schedule-doctor-day", d["vikram"].pk, date="2026-03-11") in page
    assert "Not working" in page


# --- booking ---------------------------------------------------------------------------------


def test_slot_partial_lists_the_free_slots_of_the_doctor_and_date(day, client_for):
    d = day
    book(d, d["lakshmi"], d["asha"], at(10, 15))
    client = client_for(d["desk"])
    response = client.get(
        url(d["clinic"], "appointment-slots", doctor=d["asha"].pk, date=TODAY),
        headers={"HX-Request": "true", "HX-Target": "slots"},
    )
    assert response.status_code == 200
    page = text(response)
    assert "<html" not in page and 'id="slots"' in page
    assert f'value="{at(10).isoformat()}"' in page
    assert f'value="{at(10, 15).isoformat()}"' not in page
    assert page.count('name="starts_at"') == 24 - 1
    sunday = text(
        client.get(url(d["clinic"], "appointment-slots", doctor=d["asha"].pk, date="2026-03-15"))
    )
    assert "Dr Asha Rao does not see patients on Sundays." in sunday
    assert "Choose a doctor" in text(client.get(url(d["clinic"], "appointment-slots")))


def test_booking_form_prefilled_from_a_free_slot(day, client_for):
    d = day
    response = client_for(d["desk"]).get(
        url(
            d["clinic"],
            "appointment-book",
            doctor=d["vikram"].pk,
            date=TODAY,
            starts_at=at(10, 20).isoformat(),
        )
    )
    assert response.status_code == 200
    page = text(response)
    assert f'value="{at(10, 20).isoformat()}" checked' in page
    assert f'<option value="{d["vikram"].pk}" selected>Dr Vikram Shah</option>' in page


def test_front_desk_books_through_the_form(day, client_for):
    d = day
    client = client_for(d["desk"])
    response = client.post(
        url(d["clinic"], "appointment-book"),
        {
            "patient_id": d["lakshmi"].pk,
            "doctor": d["asha"].pk,
            "date": TODAY,
            "starts_at": at(10, 15).isoformat(),
            "reason": "Follow-up",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url(d["clinic"], "schedule-day", date=TODAY)
    assert "Booked Lakshmi Iyer with Dr Asha Rao at 10:15 am on 10 Mar 2026." in flashed(response)
    with clinic_scope(d["clinic"]):
        appointment = Appointment.objects.get()
        assert AuditEvent.objects.filter(action=Actions.APPOINTMENT_BOOKED).count() == 1
    assert appointment.starts_at == at(10, 15) and appointment.reason == "Follow-up"
    assert appointment.patient_id == d["lakshmi"].pk and appointment.booked_by == d["desk"].user


def test_booking_finds_the_patient_by_number_or_asks_to_pick(day, client_for):
    d = day
    client = client_for(d["desk"])
    form = {"doctor": d["vikram"].pk, "date": TODAY, "starts_at": at(11).isoformat()}
    response = client.post(
        url(d["clinic"], "appointment-book"), {**form, "patient": d["ravi"].patient_number}
    )
    assert response.status_code == 302
    with clinic_scope(d["clinic"]):
        assert Appointment.objects.get().patient_id == d["ravi"].pk
        PatientFactory(clinic=d["clinic"], full_name="Ravi Kumar")
    form["starts_at"] = at(11, 20).isoformat()
    response = client.post(url(d["clinic"], "appointment-book"), {**form, "patient": "ravi"})
    assert response.status_code == 200
    page = text(response)
    assert "Several patients match" in page and "Ravi Kumar" in page and "Ravi Menon" in page
    # The time chosen is kept while the patient is picked.
    assert f'value="{at(11, 20).isoformat()}" checked' in page
    response = client.post(url(d["clinic"], "appointment-book"), {**form, "patient": "nobody"})
    assert "No patient matches" in text(response)


def test_patient_search_loads_matches_for_htmx(day, client_for):
    d = day
    response = client_for(d["desk"]).get(
        url(d["clinic"], "appointment-book", patient="laksh"),
        headers={"HX-Request": "true", "HX-Target": "patient-matches"},
    )
    assert response.status_code == 200
    page = text(response)
    assert "<html" not in page
    assert f'name="patient_id" value="{d["lakshmi"].pk}"' in page and "Ravi" not in page


def test_a_slot_taken_meanwhile_shows_the_refusal_and_fresh_slots(day, client_for):
    d = day
    book(d, d["ravi"], d["asha"], at(10, 15))  # someone else was faster
    response = client_for(d["desk"]).post(
        url(d["clinic"], "appointment-book"),
        {
            "patient_id": d["lakshmi"].pk,
            "doctor": d["asha"].pk,
            "date": TODAY,
            "starts_at": at(10, 15).isoformat(),
        },
    )
    assert response.status_code == 200
    page = text(response)
    assert "Nothing was booked yet." in page
    assert "10 Mar 2026, 10:15 am is already booked. Please choose a free slot." in page
    assert f'value="{at(10, 15).isoformat()}"' not in page  # the slot list was reloaded
    assert f'value="{at(10, 30).isoformat()}"' in page
    with clinic_scope(d["clinic"]):
        assert Appointment.objects.count() == 1


HORIZON = "Appointments can be booked up to 365 days ahead: the last bookable day is 10 Mar 2027."


def test_the_slot_picker_offers_no_day_past_the_booking_horizon(day, client_for):
    d = day
    client = client_for(d["desk"])
    last = datetime(2027, 3, 10, 10, 0, tzinfo=IST)
    page = text(
        client.get(url(d["clinic"], "appointment-slots", doctor=d["asha"].pk, date=last.date()))
    )
    assert f'value="{last.isoformat()}"' in page and HORIZON not in page
    beyond = last + timedelta(days=1)
    page = text(
        client.get(url(d["clinic"], "appointment-slots", doctor=d["asha"].pk, date=beyond.date()))
    )
    assert HORIZON in page
    assert f'value="{beyond.isoformat()}"' not in page


def test_the_booking_form_refuses_a_time_past_the_horizon(day, client_for):
    d = day
    beyond = datetime(2027, 3, 11, 10, 0, tzinfo=IST)
    response = client_for(d["desk"]).post(
        url(d["clinic"], "appointment-book"),
        {
            "patient_id": d["lakshmi"].pk,
            "doctor": d["asha"].pk,
            "date": beyond.date().isoformat(),
            "starts_at": beyond.isoformat(),
        },
    )
    assert response.status_code == 200
    page = text(response)
    assert "Nothing was booked yet." in page
    assert HORIZON in page
    with clinic_scope(d["clinic"]):
        assert not Appointment.objects.exists()


def test_rescheduling_through_the_page_past_the_horizon_is_refused(day, client_for):
    d = day
    appointment = book(d, d["lakshmi"], d["asha"], at(10))
    beyond = datetime(2027, 3, 11, 10, 0, tzinfo=IST)
    response = client_for(d["desk"]).post(
        url(d["clinic"], "appointment-reschedule", appointment.pk),
        {"date": beyond.date().isoformat(), "starts_at": beyond.isoformat()},
    )
    assert response.status_code == 200
    assert HORIZON in text(response)
    assert reload(d["clinic"], appointment).starts_at == at(10)


def test_booking_needs_a_time(day, client_for):
    d = day
    response = client_for(d["desk"]).post(
        url(d["clinic"], "appointment-book"),
        {"patient_id": d["lakshmi"].pk, "doctor": d["asha"].pk, "date": TODAY},
    )
    assert response.status_code == 200
    assert "Pick one of the free times." in text(response)


def test_billing_sees_the_day_but_cannot_book(day, client_for):
    d = day
    book(d, d["lakshmi"], d["asha"], at(10, 15))
    client = client_for(d["billing"])
    response = client.get(url(d["clinic"], "schedule-day", date=TODAY))
    assert response.status_code == 200
    page = text(response)
    assert "Lakshmi Iyer" in page
    assert reverse("appointment-book", args=[d["clinic"].slug]) not in page
    assert "Check in" not in page and "Free 10:00 am" in page
    assert client.get(url(d["clinic"], "appointment-book")).status_code == 403
    assert (
        client.post(
            url(d["clinic"], "appointment-book"),
            {
                "patient_id": d["ravi"].pk,
                "doctor": d["asha"].pk,
                "date": TODAY,
                "starts_at": at(11).isoformat(),
            },
        ).status_code
        == 403
    )
    assert client.get(url(d["clinic"], "schedule-queue")).status_code == 200
    with clinic_scope(d["clinic"]):
        assert Appointment.objects.count() == 1


# --- the queue and the appointment actions ----------------------------------------------------


def test_check_in_gives_a_token_shown_in_the_queue(day, client_for, clock):
    d = day
    appointment = book(d, d["lakshmi"], d["asha"], at(10))
    client = client_for(d["desk"])
    day_url = url(d["clinic"], "schedule-day", date=TODAY)
    response = client.post(
        url(d["clinic"], "appointment-check-in", appointment.pk), {"next": day_url}, follow=True
    )
    assert response.redirect_chain[-1][0] == day_url
    assert (
        f"Checked in Lakshmi Iyer ({d['lakshmi'].patient_number}). Token 1 for Dr Asha Rao."
        in flashed(response)
    )
    assert reload(d["clinic"], appointment).status == AppointmentStatus.CHECKED_IN
    clock.move_to(at(9, 12))
    page = text(client.get(url(d["clinic"], "schedule-queue")))
    assert "Lakshmi Iyer" in page and "<strong>1</strong>" in page
    assert "waiting 12 min" in page and "since 9:00 am" in page


def test_queue_partial_refreshes_itself(day, client_for):
    d = day
    client = client_for(d["desk"])
    page = text(client.get(url(d["clinic"], "schedule-queue")))
    partial_url = url(d["clinic"], "schedule-queue-partial")
    assert f'hx-get="{partial_url}"' in page and 'hx-trigger="every 15s"' in page
    response = client.get(partial_url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    partial = text(response)
    assert "<html" not in partial and 'hx-trigger="every 15s"' in partial
    assert "No one waiting." in partial


def test_call_in_and_complete_from_the_queue(day, client_for):
    d = day
    appointment = book(d, d["lakshmi"], d["asha"], at(10))
    with clinic_scope(d["clinic"]):
        appointment_check_in(appointment=appointment, actor=d["desk"].user)
    # The front desk calls in without opening a visit (a doctor's "Call in" opens the visit:
    # tests/patients/test_queue_flow.py).
    client = client_for(d["desk"])
    queue_url = url(d["clinic"], "schedule-queue")
    page = text(client.get(queue_url))
    assert url(d["clinic"], "appointment-start", appointment.pk) in page
    response = client.post(
        url(d["clinic"], "appointment-start", appointment.pk), {"next": queue_url}, follow=True
    )
    assert response.redirect_chain[-1][0] == queue_url
    assert "Lakshmi Iyer is with Dr Asha Rao now." in flashed(response)
    assert "With the doctor" in text(response)
    assert url(d["clinic"], "appointment-complete", appointment.pk) in text(response)
    response = client.post(
        url(d["clinic"], "appointment-complete", appointment.pk), {"next": queue_url}, follow=True
    )
    assert "Lakshmi Iyer's consultation with Dr Asha Rao is done." in flashed(response)
    assert reload(d["clinic"], appointment).status == AppointmentStatus.COMPLETED
    # Completing twice is refused, and said so.
    response = client.post(
        url(d["clinic"], "appointment-complete", appointment.pk), {"next": queue_url}, follow=True
    )
    assert "Lakshmi Iyer: Cannot complete: this appointment is done." in flashed(response)


def test_actions_are_post_only_and_go_back_only_inside_the_clinic(day, client_for):
    d = day
    appointment = book(d, d["lakshmi"], d["asha"], at(10))
    client = client_for(d["desk"])
    assert client.get(url(d["clinic"], "appointment-check-in", appointment.pk)).status_code == 405
    response = client.post(
        url(d["clinic"], "appointment-check-in", appointment.pk),
        {"next": "https://evil.example/"},
    )
    assert response["Location"] == url(d["clinic"], "schedule-day", date=TODAY)


def test_cancel_needs_a_reason(day, client_for):
    d = day
    appointment = book(d, d["lakshmi"], d["asha"], at(11))
    client = client_for(d["desk"])
    cancel_url = url(d["clinic"], "appointment-cancel", appointment.pk)
    page = text(client.get(cancel_url))
    assert "Cancel this appointment?" in page and "Lakshmi Iyer" in page
    assert "11:00 am on 10 Mar 2026" in page
    response = client.post(cancel_url, {"reason": "   "})
    assert response.status_code == 200
    assert "Say why the appointment is cancelled." in text(response)
    assert reload(d["clinic"], appointment).status == AppointmentStatus.BOOKED
    queue_url = url(d["clinic"], "schedule-queue")
    response = client.post(cancel_url, {"reason": "Patient called", "next": queue_url}, follow=True)
    assert response.redirect_chain[-1][0] == queue_url
    assert (
        "Cancelled Lakshmi Iyer's appointment with Dr Asha Rao at 11:00 am on 10 Mar 2026."
        in flashed(response)
    )
    cancelled = reload(d["clinic"], appointment)
    assert cancelled.status == AppointmentStatus.CANCELLED
    assert cancelled.cancel_reason == "Patient called"


def test_no_show_only_once_the_time_has_come(day, client_for, clock):
    d = day
    appointment = book(d, d["lakshmi"], d["asha"], at(10))
    client = client_for(d["desk"])
    no_show = url(d["clinic"], "appointment-no-show", appointment.pk)
    response = client.post(no_show, follow=True)
    assert "Lakshmi Iyer: The appointment has not started yet. Cancel it instead." in flashed(
        response
    )
    assert reload(d["clinic"], appointment).status == AppointmentStatus.BOOKED
    clock.move_to(at(10, 30))
    page = text(client.get(url(d["clinic"], "schedule-day")))
    assert no_show in page
    response = client.post(no_show, follow=True)
    assert "Marked Lakshmi Iyer as did not come (10:00 am on 10 Mar 2026)." in flashed(response)
    assert reload(d["clinic"], appointment).status == AppointmentStatus.NO_SHOW


def test_reschedule_through_the_page(day, client_for):
    d = day
    appointment = book(d, d["lakshmi"], d["asha"], at(10))
    book(d, d["ravi"], d["asha"], at(11, day=11))
    client = client_for(d["desk"])
    page_url = url(d["clinic"], "appointment-reschedule", appointment.pk)
    page = text(client.get(page_url))
    assert "Move an appointment" in page and "10:00 am on 10 Mar 2026" in page
    assert f'value="{at(10, 15).isoformat()}"' in page
    # The picker reloads for another date with the same doctor.
    slots = text(
        client.get(url(d["clinic"], "appointment-slots", doctor=d["asha"].pk, date="2026-03-11"))
    )
    assert f'value="{at(11, day=11).isoformat()}"' not in slots
    response = client.post(
        page_url, {"date": "2026-03-11", "starts_at": at(11, day=11).isoformat()}
    )
    assert response.status_code == 200
    assert "is already booked" in text(response)
    response = client.post(
        page_url, {"date": "2026-03-11", "starts_at": at(17, 30, day=11).isoformat()}, follow=True
    )
    assert response.redirect_chain[-1][0] == url(d["clinic"], "schedule-day", date="2026-03-11")
    assert (
        "Moved Lakshmi Iyer's appointment with Dr Asha Rao to 5:30 pm on 11 Mar 2026."
        in flashed(response)
    )
    assert reload(d["clinic"], appointment).starts_at == at(17, 30, day=11)


def test_walk_in_gets_a_token(day, client_for):
    d = day
    book(d, d["lakshmi"], d["asha"], at(10))
    client = client_for(d["desk"])
    assert client.get(url(d["clinic"], "walk-in")).status_code == 200
    response = client.post(
        url(d["clinic"], "walk-in"),
        {"patient": d["ravi"].patient_number, "doctor": d["asha"].pk, "reason": "Cough"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url(d["clinic"], "schedule-queue")
    assert "Token 1: Ravi Menon is in the queue for Dr Asha Rao." in flashed(response)
    with clinic_scope(d["clinic"]):
        walk_in = Appointment.objects.get(kind=AppointmentKind.WALK_IN)
    assert walk_in.token_number == 1 and walk_in.reason == "Cough"
    assert "Ravi Menon" in text(response) and "Walk-in" in text(response)
    response = client.post(url(d["clinic"], "walk-in"), {"doctor": d["asha"].pk})
    assert response.status_code == 200
    assert "Find the patient by their number, name or phone." in text(response)


# --- hours and leave -------------------------------------------------------------------------


def hours_form(rows_by_day: dict[int, list[tuple[str, str, str]]]) -> dict:
    """The hours form as the browser posts it: 7 day blocks of rows (from, to, minutes)."""
    data = {}
    for weekday in range(7):
        rows = [*rows_by_day.get(weekday, []), ("", "", "")]
        prefix = f"d{weekday}"
        data[f"{prefix}-TOTAL_FORMS"] = str(len(rows))
        data[f"{prefix}-INITIAL_FORMS"] = "0"
        for i, (start, end, minutes) in enumerate(rows):
            data[f"{prefix}-{i}-start"] = start
            data[f"{prefix}-{i}-end"] = end
            data[f"{prefix}-{i}-slot_minutes"] = minutes
    return data


def sessions_of(clinic, doctor) -> list[tuple[int, str, str, int]]:
    with clinic_scope(clinic):
        return [
            (h.weekday, f"{h.start_time:%H:%M}", f"{h.end_time:%H:%M}", h.slot_minutes)
            for h in WorkingHours.objects.filter(doctor=doctor).order_by("weekday", "start_time")
        ]


def test_hours_form_shows_and_saves_the_sessions(day, client_for):
    d = day
    client = client_for(d["owner"])
    hours_url = url(d["clinic"], "doctor-hours", d["vikram"].pk)
    page = text(client.get(hours_url))
    assert "Dr Vikram Shah: hours and leave" in page
    assert (
        'name="d0-0-start" value="10:00"' in page and 'name="d0-0-slot_minutes" value="20"' in page
    )
    response = client.post(
        hours_url,
        hours_form(
            {0: [("09:00", "12:00", "10"), ("16:00", "18:00", "")], 2: [("10:00", "13:00", "15")]}
        ),
        follow=True,
    )
    assert "Saved Dr Vikram Shah's hours: 3 sessions a week." in flashed(response)
    assert sessions_of(d["clinic"], d["vikram"]) == [
        (0, "09:00", "12:00", 10),
        (0, "16:00", "18:00", 15),
        (2, "10:00", "13:00", 15),
    ]


def test_clearing_a_row_removes_that_session(day, client_for):
    d = day
    client = client_for(d["asha"])
    hours_url = url(d["clinic"], "doctor-hours", d["asha"].pk)
    response = client.get(hours_url)
    data = {}
    for block in response.context["days"]:
        formset = block["formset"]
        for field in formset.management_form:
            data[field.html_name] = field.value()
        for form in formset:
            for field in form:
                value = field.value()
                data[field.html_name] = "" if value is None else str(value)[:5]
    # Monday evening off.
    data["d0-1-start"] = data["d0-1-end"] = ""
    assert client.post(hours_url, data).status_code == 302
    sessions = sessions_of(d["clinic"], d["asha"])
    assert (0, "17:00", "20:00", 15) not in sessions and (1, "17:00", "20:00", 15) in sessions
    assert len(sessions) == 11


def test_hours_form_rejects_overlaps_and_half_rows_visibly(day, client_for):
    d = day
    client = client_for(d["owner"])
    hours_url = url(d["clinic"], "doctor-hours", d["vikram"].pk)
    before = sessions_of(d["clinic"], d["vikram"])
    response = client.post(
        hours_url, hours_form({1: [("10:00", "13:00", "15"), ("12:00", "14:00", "15")]})
    )
    assert response.status_code == 200
    page = text(response)
    assert "The hours were not saved." in page
    assert "Sessions 10:00-13:00 and 12:00-14:00 on the same day overlap." in page
    assert sessions_of(d["clinic"], d["vikram"]) == before
    response = client.post(hours_url, hours_form({1: [("10:00", "", "15")]}))
    assert "Give both times, or clear both to remove this session." in text(response)
    response = client.post(hours_url, hours_form({1: [("13:00", "10:00", "15")]}))
    assert "Session 1: A session must end after it starts" in text(response)
    assert sessions_of(d["clinic"], d["vikram"]) == before


def test_a_doctor_edits_their_own_hours_but_not_another_doctors(day, client_for):
    d = day
    client = client_for(d["asha"])
    own = url(d["clinic"], "doctor-hours", d["asha"].pk)
    other = url(d["clinic"], "doctor-hours", d["vikram"].pk)
    assert client.get(own).status_code == 200
    assert client.post(own, hours_form({4: [("08:00", "11:00", "30")]})).status_code == 302
    assert sessions_of(d["clinic"], d["asha"]) == [(4, "08:00", "11:00", 30)]
    before = sessions_of(d["clinic"], d["vikram"])
    assert client.get(other).status_code == 403
    assert client.post(other, hours_form({4: [("08:00", "11:00", "30")]})).status_code == 403
    assert sessions_of(d["clinic"], d["vikram"]) == before
    leave = {"kind": "leave", "first_day": "2026-03-20"}
    assert (
        client.post(url(d["clinic"], "doctor-leave-add", d["vikram"].pk), leave).status_code == 403
    )
    # The front desk books, but does not set hours.
    assert client_for(d["desk"]).get(other).status_code == 403


def test_leave_add_and_remove(day, client_for):
    d = day
    client = client_for(d["asha"])
    hours_url = url(d["clinic"], "doctor-hours", d["asha"].pk)
    response = client.post(
        url(d["clinic"], "doctor-leave-add", d["asha"].pk),
        {"kind": "leave", "first_day": "2026-03-12", "last_day": "2026-03-13", "reason": "Family"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == hours_url
    assert (
        "Dr Asha Rao is on leave: 12 Mar 2026 to 13 Mar 2026. Those times cannot be booked."
        in flashed(response)
    )
    response = client.post(
        url(d["clinic"], "doctor-leave-add", d["asha"].pk),
        {"kind": "blocked", "first_day": TODAY, "from_time": "12:00", "to_time": "13:00"},
        follow=True,
    )
    assert "10 Mar 2026, 12:00 pm to 1:00 pm" in text(response)
    with clinic_scope(d["clinic"]):
        leaves = list(DoctorLeave.objects.filter(doctor=d["asha"]).order_by("starts_at"))
    assert [(x.kind, x.starts_at, x.ends_at) for x in leaves] == [
        (LeaveKind.BLOCKED, at(12), at(13)),
        (LeaveKind.LEAVE, at(0, day=12), at(0, day=14)),
    ]
    # The day shows it and offers no slot inside it.
    day_page = client.get(url(d["clinic"], "schedule-doctor-day", d["asha"].pk, date=TODAY))
    assert "Blocked time: 12:00 pm to 1:00 pm" in text(day_page)
    assert f"starts_at={quote(at(12, 15).isoformat(), safe='')}" not in text(day_page)

    response = client.post(
        url(d["clinic"], "doctor-leave-remove", d["asha"].pk, leaves[1].pk), follow=True
    )
    assert "Removed Dr Asha Rao's leave (12 Mar 2026 to 13 Mar 2026): it can be booked again." in (
        flashed(response)
    )
    with clinic_scope(d["clinic"]):
        assert list(DoctorLeave.objects.filter(doctor=d["asha"])) == [leaves[0]]
    # A leave of another doctor is not found through this doctor's page.
    with clinic_scope(d["clinic"]):
        other = doctor_leave_add(
            doctor=d["vikram"],
            actor=d["owner"].user,
            starts_at=at(0, day=20),
            ends_at=at(0, day=21),
        )
    assert (
        client.post(url(d["clinic"], "doctor-leave-remove", d["asha"].pk, other.pk)).status_code
        == 404
    )


def test_leave_over_booked_appointments_is_refused_clearly(day, client_for):
    d = day
    appointment = book(d, d["lakshmi"], d["asha"], at(11, day=12))
    client = client_for(d["owner"])
    response = client.post(
        url(d["clinic"], "doctor-leave-add", d["asha"].pk),
        {"kind": "leave", "first_day": "2026-03-12", "reason": "Conference"},
    )
    assert response.status_code == 200
    page = text(response)
    assert "The leave was not added." in page
    assert "1 booked appointment fall in this period. Reschedule or cancel them first." in page
    assert "Lakshmi Iyer" in page and "12 Mar 2026, 11:00 am" in page
    assert url(d["clinic"], "appointment-reschedule", appointment.pk) in page
    with clinic_scope(d["clinic"]):
        assert not DoctorLeave.objects.exists()


def test_leave_form_explains_bad_periods(day, client_for):
    d = day
    client = client_for(d["owner"])
    add = url(d["clinic"], "doctor-leave-add", d["asha"].pk)
    response = client.post(add, {"kind": "blocked", "first_day": TODAY, "from_time": "12:00"})
    assert "Give both times for part of a day, or neither." in text(response)
    response = client.post(
        add, {"kind": "blocked", "first_day": TODAY, "from_time": "13:00", "to_time": "12:00"}
    )
    assert "The end must be after the start." in text(response)
    with clinic_scope(d["clinic"]):
        assert not DoctorLeave.objects.exists()


def test_another_clinics_appointment_is_not_found(day, client_for, other_clinic, member_factory):
    d = day
    other_doctor = member_factory(other_clinic, Role.DOCTOR)
    with clinic_scope(other_clinic):
        patient = PatientFactory(clinic=other_clinic)
        appointment = Appointment.objects.create(
            clinic=other_clinic,
            patient=patient,
            doctor=other_doctor,
            starts_at=at(10),
            ends_at=at(10, 15),
        )
    client = client_for(d["owner"])
    assert client.post(url(d["clinic"], "appointment-check-in", appointment.pk)).status_code == 404
    assert client.get(url(d["clinic"], "appointment-cancel", appointment.pk)).status_code == 404
    slots = client.get(url(d["clinic"], "appointment-slots", doctor=other_doctor.pk, date=TODAY))
    assert "Choose a doctor" in text(slots)
    assert reload(other_clinic, appointment).status == AppointmentStatus.BOOKED


def _normalised(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "csrf", str(html))
    html = re.sub(r"\s+", " ", html)
    return re.sub(r">\s+<", "><", html).replace("> ", ">").replace(" <", "<").strip()


def _card_from_template(request, cards, row) -> str:
    """The card as its template renders it for the row, with no kind of card reused."""
    context = action_context(request, request.get_full_path())
    with context.push(cards.values(row)):
        return get_template(CARD_TEMPLATE).template.render(context)


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.BILLING])
def test_day_view_cards_are_their_template_for_every_state(day, client_for, clock, role):
    """The day view renders each kind of card once and fills each appointment's values in;
    the cards must say exactly what the template says for the appointment, for every state
    an appointment can be in, escaped the same way."""
    clinic = day["clinic"]
    booked = book(day, day["lakshmi"], day["asha"], at(10))
    waiting = book(day, day["ravi"], day["asha"], at(10, 15))
    cancelled = book(day, day["ravi"], day["vikram"], at(10, 20))
    with clinic_scope(clinic):
        appointment_check_in(appointment=waiting, actor=day["desk"].user)
        appointment_cancel(appointment=cancelled, actor=day["desk"].user, reason="Fever <gone>")
        walk_in = appointment_walk_in(
            patient=day["lakshmi"], doctor=day["vikram"], actor=day["desk"].user, reason="Cut"
        )
        appointment_start(appointment=walk_in, actor=day["vikram"].user)
        member = day["desk"] if role == Role.FRONT_DESK else day["billing"]
        request = RequestFactory().get("/c/asha/schedule/?date=2026-03-10")
        request.clinic, request.membership, request.user = clinic, member, member.user
        can_edit = member.has_perm("appointments.edit")
        cards = Cards(request, can_edit=can_edit, next_url=request.get_full_path())
        clock.move_to(at(10, 30))
        tz = clinic.tzinfo
        # The day view reads its appointments as plain rows, not model instances.
        light = {a.pk: a for a in day_view_appointments(day=NOW.date(), tz=tz)}
        for appointment in (booked, waiting, cancelled, walk_in):
            appointment = Appointment.objects.select_related("patient", "doctor__user").get(
                pk=appointment.pk
            )
            row = appointment_row(appointment, tz=tz, today=NOW.date(), now=at(10, 30))
            expected = _card_from_template(request, cards, row)
            assert _normalised(cards.card(row)) == _normalised(expected), appointment.status
            light_row = appointment_row(
                light[appointment.pk], tz=tz, today=NOW.date(), now=at(10, 30)
            )
            assert _normalised(cards.card(light_row)) == _normalised(expected), appointment.status
        assert "Cancelled: Fever &lt;gone&gt;" in cards.card(
            appointment_row(light[cancelled.pk], tz=tz, today=NOW.date(), now=at(10, 30))
        )
    assert len(cards.cards.kinds) == 4


def test_day_view_cards_stay_right_when_the_page_url_holds_a_number(day, client_for, clock):
    """Cards fill appointment ids into links reversed once; a number in the page's own URL
    (the "next" the actions return to) must stay what it is."""
    booked = book(day, day["lakshmi"], day["asha"], at(10))
    page = url(day["clinic"], "schedule-day", date=TODAY, ref=_STAND_IN)
    response = client_for(day["desk"]).get(page)
    assert response.status_code == 200
    html = text(response)
    assert f"ref={_STAND_IN}" in html and f"/appointments/{booked.pk}/" in html
    assert f'name="next" value="{page.replace("&", "&amp;")}"' in html
    assert f"/appointments/{_STAND_IN}/" not in html


def _same_markup(html: str) -> str:
    """Markup with the template's layout whitespace taken out: whitespace next to a block or
    table tag does not show, any other run of whitespace shows as one space."""
    html = re.sub(r"\s+", " ", str(html))
    block = r"</?(?:table|thead|tbody|tr|th|td|div|p|article|header|details|summary|form)\b[^>]*>"
    return re.sub(rf"\s*({block})\s*", r"\1", html).strip()


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.BILLING])
def test_day_grid_and_lists_show_free_times_leave_breaks_and_cards(day, clock, role):
    """The grid's rows and the doctors' lists, from their templates: free times, leave, a
    folded break and the cards, with what a reason says escaped."""
    d = day
    book(d, d["lakshmi"], d["asha"], at(10, 15))
    with clinic_scope(d["clinic"]):
        appointment_walk_in(
            patient=d["ravi"], doctor=d["vikram"], actor=d["desk"].user, reason="Cut"
        )
        # Asha is away from five to six; Vikram is blocked for five minutes at 10:30, so his
        # 10:40 slot shares the grid's 10:30 row with the "Blocked" label.
        doctor_leave_add(
            doctor=d["asha"],
            actor=d["owner"].user,
            starts_at=at(17),
            ends_at=at(18),
            reason="Camp <Anganwadi> & school",
        )
        doctor_leave_add(
            doctor=d["vikram"],
            actor=d["owner"].user,
            starts_at=at(10, 30),
            ends_at=at(10, 35),
            kind=LeaveKind.BLOCKED,
        )
        member = d["desk"] if role == Role.FRONT_DESK else d["billing"]
        request = RequestFactory().get("/c/asha/schedule/?date=2026-03-10&x=<b>")
        request.clinic, request.membership, request.user = d["clinic"], member, member.user
        context = _day_context(request, NOW.date(), None)
    can_edit = context["can_edit"]
    assert can_edit == (role == Role.FRONT_DESK)
    columns = context["columns"]

    page = _same_markup(
        render_to_string(
            "patients/schedule/partials/_grid_rows.html",
            {"grid": context["grid"], "columns": columns, "can_edit": can_edit},
        )
    )
    assert "No sessions" in page and "On leave" in page
    assert ('Blocked</small> <a class="slot"' in page) == can_edit
    assert page.count('<div class="appt st-') == 2
    assert "x=<b>" not in page

    def agenda(column) -> str:
        return _same_markup(
            render_to_string(
                "patients/schedule/partials/_agenda_entries.html",
                {"column": column, "can_edit": can_edit},
            )
        )

    assert sum(agenda(column).count('<div class="appt st-') for column in columns) == 2
    asha = agenda(columns[0])
    assert "Camp &lt;Anganwadi&gt; &amp; school" in asha
    assert "<Anganwadi>" not in asha
    assert ("Free, tap to book:" in asha) == can_edit


def test_a_former_doctors_day_stays_on_the_day_view_and_the_queue(day, client_for, member_factory):
    """A doctor who has left still has their column and queue while patients are booked."""
    d = day
    leaving = member_factory(d["clinic"], Role.DOCTOR, user=UserFactory(full_name="Meera Nair"))
    with clinic_scope(d["clinic"]):
        working_hours_set(
            doctor=leaving,
            actor=d["owner"].user,
            sessions=[SessionInput(weekday=1, start=time(10), end=time(13))],
        )
    first = book(d, d["lakshmi"], leaving, at(10))
    book(d, d["ravi"], leaving, at(10, 15))
    with clinic_scope(d["clinic"]):
        appointment_check_in(appointment=first, actor=d["desk"].user)
        membership_deactivate(membership=leaving, actor=d["owner"].user)
    client = client_for(d["desk"])

    day_page = text(client.get(url(d["clinic"], "schedule-day", date=TODAY)))
    queue_page = text(client.get(url(d["clinic"], "schedule-queue")))

    assert "Dr Meera Nair" in day_page
    assert "Lakshmi Iyer" in day_page and "Ravi Menon" in day_page
    assert "Dr Meera Nair" in queue_page and "Lakshmi Iyer" in queue_page
    # Template comments never leak onto the pages (Django's {# #} spans one line only).
    doctor_page = text(client.get(url(d["clinic"], "schedule-doctor-day", leaving.pk, date=TODAY)))
    assert "Ravi Menon" in doctor_page
    assert "{#" not in day_page + doctor_page
