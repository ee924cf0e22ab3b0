"""The queue in a real browser: the doctor's "Call next", the waiting-room screen following
it, and the queue on a 390 px wide phone."""

from __future__ import annotations

import re

import pytest

from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.services.appointments import appointment_walk_in
from patients.services.queue import doctor_room_set
from tests.e2e.test_front_desk import sign_in
from tests.factories import ClinicFactory, MembershipFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

# The tests run at whatever hour the machine's clock says: the doctor adds her own queue,
# going outside her hours (she has none) with a reason.
OVERRIDE = "Browser test"


@pytest.fixture
def queue():
    clinic = ClinicFactory(name="Asha Family Clinic", slug="asha")
    desk = MembershipFactory(
        clinic=clinic,
        user=UserFactory(email="desk@asha.example", full_name="Ravi Naik"),
        role=Role.FRONT_DESK,
    )
    doctor = MembershipFactory(
        clinic=clinic,
        user=UserFactory(email="doctor@asha.example", full_name="Meera Rao"),
        role=Role.DOCTOR,
    )
    with clinic_scope(clinic):
        doctor_room_set(doctor=doctor, actor=doctor.user, room="Room 2")
        tokens = [
            appointment_walk_in(
                patient=PatientFactory(clinic=clinic, full_name=name),
                doctor=doctor,
                actor=doctor.user,
                reason=reason,
                override_reason=OVERRIDE,
            )
            for name, reason in (
                ("Lakshmi Venkatasubramanian Iyer", "Fever with body ache for three days"),
                ("Arjun Rao", ""),
            )
        ]
    return {"clinic": clinic, "desk": desk, "doctor": doctor, "tokens": tokens}


def test_call_next_opens_the_visit_and_the_waiting_room_screen_follows(
    browser, page, live_server, queue
):
    # The waiting room's TV, signed in as the front desk.
    tv_context = browser.new_context(viewport={"width": 1280, "height": 720}, locale="en-IN")
    tv = tv_context.new_page()
    tv.set_default_timeout(15_000)
    try:
        sign_in(tv, live_server, "desk@asha.example")
        tv.goto(f"{live_server.url}/c/asha/schedule/display/")
        board = tv.locator(".display-board", has_text="Dr Meera Rao")
        assert "Room 2" in board.inner_text()
        assert board.locator(".display-now .display-token").count() == 0
        assert "1" in board.locator(".display-next").inner_text()
        marker = tv.evaluate("() => (window.vaidyaMarker = 'same page')")

        # The doctor, on her phone: Call next takes token 1 straight into its visit.
        sign_in(page, live_server, "doctor@asha.example")
        page.goto(f"{live_server.url}/c/asha/schedule/queue/")
        page.get_by_role("button", name="Call next (token 1)").click()
        page.wait_for_url(re.compile(r"/c/asha/visits/\d+/$"))
        assert "Lakshmi Venkatasubramanian Iyer" in page.inner_text("body")

        # The screen shows token 1 being seen within a few seconds, without reloading.
        tv.locator('.display-now [data-token="1"]').wait_for()
        assert tv.evaluate("() => window.vaidyaMarker") == marker
        text = tv.inner_text("body")
        assert "Lakshmi" not in text and "Arjun" not in text
        assert board.locator(".display-next").inner_text().split() == ["2"]
    finally:
        tv_context.close()


def test_the_queue_fits_a_390_px_phone_with_cancel_in_reach(page, live_server, queue):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "desk@asha.example")
    page.goto(f"{live_server.url}/c/asha/schedule/queue/")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    # Each waiting patient's Cancel is on the screen, not scrolled off inside a wide table.
    cancels = page.get_by_role("link", name="Cancel…")
    assert cancels.count() == 2
    for cancel in cancels.all():
        assert cancel.is_visible()
        box = cancel.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
