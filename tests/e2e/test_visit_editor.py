"""The visit editor never loses what the doctor typed: one save keeps every edited part, and
leaving with unsaved input asks first."""

from __future__ import annotations

import re

import pytest

from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.models import Visit
from tests.factories import (
    ClinicFactory,
    DoctorProfileFactory,
    MembershipFactory,
    PatientFactory,
    UserFactory,
)

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's password

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def draft():
    clinic = ClinicFactory(name="Asha Family Clinic", slug="asha")
    user = UserFactory(email="doctor@asha.example", full_name="Anita Rao")
    doctor = MembershipFactory(clinic=clinic, user=user, role=Role.DOCTOR)
    DoctorProfileFactory(membership=doctor)
    with clinic_scope(clinic):
        patient = PatientFactory(clinic=clinic, full_name="Lakshmi Iyer")
        visit = Visit.objects.create(clinic=clinic, patient=patient, doctor=doctor)
    return visit


def open_editor(page, live_server, visit):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "doctor@asha.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/c/asha/"))
    page.goto(f"{live_server.url}/c/asha/visits/{visit.pk}/")


def test_vitals_typed_before_saving_the_notes_survive_a_reload(page, live_server, draft):
    open_editor(page, live_server, draft)
    page.fill("#visit-vitals input[name=bp_systolic]", "124")
    page.fill("#visit-vitals input[name=bp_diastolic]", "82")
    page.fill("#visit-vitals input[name=pulse]", "88")
    page.fill("#visit-notes textarea[name=chief_complaints]", "Fever for 3 days")
    page.fill("#visit-notes textarea[name=advice]", "Plenty of fluids")
    assert page.locator("#visit-notes .unsaved-note").is_visible()
    assert page.locator("#visit-vitals .unsaved-note").is_visible()
    # One press of the notes' button saves the vitals too.
    page.locator("#visit-notes").get_by_role("button", name="Save notes and vitals").click()
    page.locator("#visit-notes .section-saved").wait_for()
    assert not page.locator(".unsaved-note:visible").count()
    page.reload()
    vitals = page.inner_text("#visit-vitals")
    assert "124/82" in vitals and "88" in vitals
    assert page.input_value("#visit-notes textarea[name=chief_complaints]") == "Fever for 3 days"
    assert page.input_value("#visit-notes textarea[name=advice]") == "Plenty of fluids"


def test_leaving_with_unsaved_input_asks_first(page, live_server, draft):
    open_editor(page, live_server, draft)
    page.fill("#visit-notes textarea[name=chief_complaints]", "Headache")
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.close(run_before_unload=True)
    page.wait_for_timeout(500)
    assert asked == ["beforeunload"]
