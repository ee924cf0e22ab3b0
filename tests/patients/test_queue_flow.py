"""The queue's flow, at Tuesday 10 March 2026, 09:00 in India: signing a visit finishes its
token, one click calls a patient in with their visit open, "Call next", reopening, the
waiting-room display, the token slip, rooms, and joining the queue only in the doctor's hours."""

from __future__ import annotations

import re

import pytest

from clinics.audit import Actions
from clinics.tenancy import clinic_scope
from patients.models import AppointmentStatus, DisplayLink, Visit
from patients.services.queue import appointment_reopen, doctor_room_set, queue_call_next
from patients.services.visits import visit_sign, visit_start, visit_update_notes
from tests.factories import PatientFactory
from tests.patients import test_views_schedule as schedule
from tests.patients.test_queue_hours import actions_of, walk_in
from tests.patients.test_views_schedule import TODAY, flashed, reload, text, url

# The scheduling pages' fixtures: Dr Asha Rao and Dr Vikram Shah, their hours, the owner, the
# front desk, billing and two patients, on Tuesday 10 March 2026 at 09:00.
clock = schedule.clock
day = schedule.day


# --- item 8: signing finishes the token, one click opens the visit, call next, reopen -------


def test_signing_the_visit_finishes_its_token_and_reopen_takes_it_back(day, client_for):
    d = day
    token = walk_in(d, d["lakshmi"], reason="Fever")
    asha = client_for(d["asha"])
    response = asha.post(url(d["clinic"], "appointment-call-in", token.pk))
    with clinic_scope(d["clinic"]):
        visit = Visit.objects.get(appointment=token)
        visit_update_notes(
            visit=visit, actor=d["asha"].user, actor_membership=d["asha"], chief_complaints="Fever"
        )
    assert response["Location"] == url(d["clinic"], "visit-detail", visit.pk)
    response = asha.post(url(d["clinic"], "visit-sign", visit.pk), {"confirm": "on"})
    assert response.status_code == 302
    token = reload(d["clinic"], token)
    # Signed: the token is done, no separate "Complete" press.
    assert token.status == AppointmentStatus.COMPLETED and token.completed_at is not None
    assert [e.target_id for e in actions_of(d["clinic"], Actions.APPOINTMENT_COMPLETED)] == [
        str(token.pk)
    ]
    queue = text(asha.get(url(d["clinic"], "schedule-queue")))
    assert "Lakshmi Iyer" not in queue
    # The front desk cannot reopen it; the doctor can.
    desk = client_for(d["desk"])
    response = desk.post(url(d["clinic"], "appointment-reopen", token.pk), follow=True)
    assert (
        "Lakshmi Iyer: Only the doctor of this appointment or the owner can reopen it."
        in flashed(response)
    )
    assert reload(d["clinic"], token).status == AppointmentStatus.COMPLETED
    day_page = text(asha.get(url(d["clinic"], "schedule-day", date=TODAY)))
    assert url(d["clinic"], "appointment-reopen", token.pk) in day_page
    response = asha.post(url(d["clinic"], "appointment-reopen", token.pk), follow=True)
    assert "Reopened: Lakshmi Iyer is with Dr Asha Rao again." in flashed(response)
    token = reload(d["clinic"], token)
    assert token.status == AppointmentStatus.IN_CONSULTATION and token.completed_at is None
    assert len(actions_of(d["clinic"], Actions.APPOINTMENT_REOPENED)) == 1
    assert "Lakshmi Iyer" in text(asha.get(url(d["clinic"], "schedule-queue")))


def test_signing_a_visit_without_an_appointment_or_an_amendment_touches_no_token(day):
    d = day
    token = walk_in(d, d["lakshmi"])
    with clinic_scope(d["clinic"]):
        visit = visit_start(
            clinic=d["clinic"],
            actor=d["asha"].user,
            actor_membership=d["asha"],
            patient=d["lakshmi"],
            doctor=d["asha"],
        )
        visit_update_notes(
            visit=visit, actor=d["asha"].user, actor_membership=d["asha"], chief_complaints="Cough"
        )
        visit_sign(visit=visit, actor=d["asha"].user, actor_membership=d["asha"])
    assert reload(d["clinic"], token).status == AppointmentStatus.CHECKED_IN


def test_one_click_from_the_queue_row_opens_the_visit(day, client_for):
    d = day
    token = walk_in(d, d["lakshmi"])
    asha = client_for(d["asha"])
    queue_url = url(d["clinic"], "schedule-queue")
    page = text(asha.get(queue_url))
    call_in = url(d["clinic"], "appointment-call-in", token.pk)
    assert f'action="{call_in}"' in page
    response = asha.post(call_in, {"next": queue_url})
    with clinic_scope(d["clinic"]):
        visit = Visit.objects.get(appointment=token)
    # Straight to the visit: no "Start a visit" page in between.
    assert response["Location"] == url(d["clinic"], "visit-detail", visit.pk)
    assert visit.doctor_id == d["asha"].pk and visit.patient_id == d["lakshmi"].pk
    assert reload(d["clinic"], token).status == AppointmentStatus.IN_CONSULTATION
    # "Open the visit" on the patient with the doctor opens the same visit again.
    page = text(asha.get(queue_url))
    assert "Open the visit" in page and url(d["clinic"], "visit-start", d["lakshmi"].pk) not in page
    again = asha.post(call_in, {"next": queue_url})
    assert again["Location"] == url(d["clinic"], "visit-detail", visit.pk)
    with clinic_scope(d["clinic"]):
        assert Visit.objects.filter(appointment=token).count() == 1
    # The day view's "Call in" is the same one click for the doctor.
    other = walk_in(d, d["ravi"])
    day_page = text(asha.get(url(d["clinic"], "schedule-day", date=TODAY)))
    assert url(d["clinic"], "appointment-call-in", other.pk) in day_page


def test_call_next_takes_the_lowest_waiting_token_and_opens_its_visit(day, client_for):
    d = day
    first = walk_in(d, d["lakshmi"])
    second = walk_in(d, d["ravi"])
    vikrams = walk_in(d, PatientFactory(clinic=d["clinic"]), doctor=d["vikram"])
    asha = client_for(d["asha"])
    page = text(asha.get(url(d["clinic"], "schedule-queue")))
    call_next = url(d["clinic"], "queue-call-next", d["asha"].pk)
    assert f'action="{call_next}"' in page and "Call next (token 1)" in page
    response = asha.post(call_next, {"expected": first.pk})
    with clinic_scope(d["clinic"]):
        visit = Visit.objects.get(appointment=first)
    assert response["Location"] == url(d["clinic"], "visit-detail", visit.pk)
    assert reload(d["clinic"], first).status == AppointmentStatus.IN_CONSULTATION
    assert reload(d["clinic"], second).status == AppointmentStatus.CHECKED_IN
    # A second press of the same button (it still said token 1) opens the same patient.
    again = asha.post(call_next, {"expected": first.pk})
    assert again["Location"] == url(d["clinic"], "visit-detail", visit.pk)
    assert reload(d["clinic"], second).status == AppointmentStatus.CHECKED_IN
    # The next press, from a fresh page, calls token 2; Dr Vikram Shah's queue is untouched.
    asha.post(call_next, {"expected": second.pk})
    assert reload(d["clinic"], second).status == AppointmentStatus.IN_CONSULTATION
    assert reload(d["clinic"], vikrams).status == AppointmentStatus.CHECKED_IN
    response = asha.post(call_next, follow=True)
    assert "No one is waiting for Dr Asha Rao." in flashed(response)


def test_the_front_desk_calls_next_without_opening_a_visit(day, client_for):
    d = day
    token = walk_in(d, d["lakshmi"])
    desk = client_for(d["desk"])
    queue_url = url(d["clinic"], "schedule-queue")
    response = desk.post(
        url(d["clinic"], "queue-call-next", d["asha"].pk), {"next": queue_url}, follow=True
    )
    assert response.redirect_chain[-1][0] == queue_url
    assert "Token 1: Lakshmi Iyer is called in to Dr Asha Rao." in flashed(response)
    assert reload(d["clinic"], token).status == AppointmentStatus.IN_CONSULTATION
    with clinic_scope(d["clinic"]):
        assert not Visit.objects.exists()
    # Billing may not call anyone.
    billing = client_for(d["billing"])
    assert billing.post(url(d["clinic"], "queue-call-next", d["asha"].pk)).status_code == 403


def test_call_next_on_the_day_view_for_the_doctor(day, client_for):
    d = day
    token = walk_in(d, d["lakshmi"])
    asha = client_for(d["asha"])
    page = text(asha.get(url(d["clinic"], "schedule-doctor-day", d["asha"].pk, date=TODAY)))
    assert url(d["clinic"], "queue-call-next", d["asha"].pk) in page
    assert f'name="expected" value="{token.pk}"' in page
    tomorrow = text(
        asha.get(url(d["clinic"], "schedule-doctor-day", d["asha"].pk, date="2026-03-11"))
    )
    assert url(d["clinic"], "queue-call-next", d["asha"].pk) not in tomorrow


def test_service_call_next_without_expectation_calls_each_token_once(day):
    d = day
    first, second = walk_in(d, d["lakshmi"]), walk_in(d, d["ravi"])
    with clinic_scope(d["clinic"]):
        a = queue_call_next(
            doctor=d["asha"], actor=d["desk"].user, actor_membership=d["desk"], open_visit=False
        )
        b = queue_call_next(
            doctor=d["asha"], actor=d["desk"].user, actor_membership=d["desk"], open_visit=False
        )
    assert (a.appointment.pk, b.appointment.pk) == (first.pk, second.pk)
    assert a.visit is None and b.visit is None


def test_reopen_needs_a_finished_consultation(day):
    d = day
    token = walk_in(d, d["lakshmi"])
    with clinic_scope(d["clinic"]), pytest.raises(Exception, match="Cannot reopen: this"):
        appointment_reopen(appointment=token, actor=d["owner"].user)


# --- item 9: the waiting-room display, the token slip and rooms --------------------------


def test_waiting_display_shows_tokens_and_rooms_but_nothing_about_patients(day, client_for):
    d = day
    with clinic_scope(d["clinic"]):
        doctor_room_set(doctor=d["asha"], actor=d["owner"].user, room="Room 2")
    first = walk_in(d, d["lakshmi"])
    walk_in(d, d["ravi"])
    client = client_for(d["desk"])
    client.post(url(d["clinic"], "appointment-start", first.pk))
    page = text(client.get(url(d["clinic"], "waiting-display")))
    assert "Dr Asha Rao" in page and "Room 2" in page
    assert 'data-token="1"' in page  # token 1 is being seen
    partial_url = url(d["clinic"], "waiting-display-partial")
    assert f'hx-get="{partial_url}"' in page and 'hx-trigger="every 5s"' in page
    for private in ("Lakshmi", "Ravi", d["lakshmi"].patient_number, str(d["lakshmi"].phone)):
        assert private not in page
    # No menus to the rest of Vaidya on a screen patients look at.
    assert url(d["clinic"], "patient-list") not in page
    partial = client.get(partial_url)
    assert partial["Cache-Control"] == "no-store" and "<html" not in text(partial)
    assert client_for(d["billing"]).get(url(d["clinic"], "waiting-display")).status_code == 200


def test_token_slip_prints_token_doctor_room_and_time_but_no_phone(day, client_for):
    d = day
    with clinic_scope(d["clinic"]):
        doctor_room_set(doctor=d["asha"], actor=d["asha"].user, room="Room 2")
    token = walk_in(d, d["lakshmi"])
    client = client_for(d["desk"])
    queue = text(client.get(url(d["clinic"], "schedule-queue")))
    slip_url = url(d["clinic"], "appointment-slip", token.pk)
    assert slip_url in queue
    slip = text(client.get(slip_url))
    assert "@page { size: 80mm auto;" in slip
    assert d["clinic"].name in slip and '<p class="token">1</p>' in slip
    assert "Dr Asha Rao" in slip and "Room 2" in slip and "10 Mar 2026, 9:00 am" in slip
    for private in ("Lakshmi", str(d["lakshmi"].phone), d["clinic"].address or "\x00"):
        assert private not in slip


def test_room_is_set_by_the_owner_or_the_doctor_on_the_hours_page(day, client_for):
    d = day
    room_url = url(d["clinic"], "doctor-room", d["asha"].pk)
    response = client_for(d["owner"]).post(room_url, {"room": "  Room   3 "}, follow=True)
    assert "Dr Asha Rao sees patients in Room 3." in flashed(response)
    assert 'value="Room 3"' in text(response)
    assert client_for(d["vikram"]).post(room_url, {"room": "Mine"}).status_code == 403
    assert client_for(d["desk"]).post(room_url, {"room": "Mine"}).status_code == 403
    response = client_for(d["asha"]).post(room_url, {"room": "x" * 41})
    assert response.status_code == 400 and "at most 40 characters" in text(response)
    assert len(actions_of(d["clinic"], Actions.DOCTOR_ROOM_SET)) == 1


# --- item 11: "Walk-in" once ------------------------------------------------------------------


def test_a_walk_in_without_a_reason_says_walk_in_once(day, client_for):
    d = day
    walk_in(d, d["lakshmi"], reason="Walk-in")
    walk_in(d, d["ravi"])
    client = client_for(d["desk"])
    queue = text(client.get(url(d["clinic"], "schedule-queue")))
    assert "Walk-in · Walk-in" not in queue and "Walk-in · " not in queue
    assert queue.count('<small class="muted">Walk-in</small>') == 2
    day_page = text(client.get(url(d["clinic"], "schedule-day", date=TODAY)))
    assert '<small class="appt-reason">Walk-in</small>' not in day_page


def test_a_screen_link_shows_the_queue_without_signing_in_until_revoked(day, client_for, client):
    d = day
    walk_in(d, d["lakshmi"])
    owner = client_for(d["owner"])
    links_url = url(d["clinic"], "display-links")
    assert client_for(d["desk"]).get(links_url).status_code == 403
    assert "Make a link" in text(owner.get(links_url))
    response = owner.post(links_url, {"name": "  Waiting   room TV "})
    address = re.search(r'value="(http://testserver/display/[^"]+/)"', text(response)).group(1)
    path = address.removeprefix("http://testserver")
    # The address is shown once: only a digest of its secret is stored.
    with clinic_scope(d["clinic"]):
        link = DisplayLink.objects.get()
    assert link.name == "Waiting room TV" and path.split("/")[2] not in link.token_digest
    assert path.split("/")[2] not in text(owner.get(links_url))
    # A screen with no session sees token numbers, doctors and rooms, and nothing else.
    screen = client.get(path)
    assert screen.status_code == 200 and "no-store" in screen["Cache-Control"]
    page = text(screen)
    assert "Dr Asha Rao" in page and ">1<" in page and "Lakshmi" not in page
    assert f'hx-get="{path}live/"' in page
    assert client.get(f"{path}live/").status_code == 200
    assert client.get(path.replace(path.split("/")[2], "x" * 43)).status_code == 404
    # Revoked: the screen's next refresh finds nothing.
    owner.post(url(d["clinic"], "display-link-revoke", link.pk))
    assert client.get(f"{path}live/").status_code == 404
    assert client.get(path).status_code == 404
    assert [
        len(actions_of(d["clinic"], a))
        for a in (Actions.DISPLAY_LINK_CREATED, Actions.DISPLAY_LINK_REVOKED)
    ] == [1, 1]
