"""A doctor prescribes for a patient allergic to NSAIDs, in a real browser: the allergy stops
IBUPROFEN found by its brand name, and only a reason lets it through, shown on the visit."""

from __future__ import annotations

import re

import pytest

from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.services import formulary_starter_load, patient_allergy_add, visit_start
from tests.factories import ClinicFactory, DoctorProfileFactory, PatientFactory, UserFactory

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's password
REASON = "Took ibuprofen twice this year without any reaction"
ADD_URL = re.compile(r"/visits/\d+/items/add/$")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def visit():
    clinic = ClinicFactory(name="Asha Family Clinic", slug="asha")
    user = UserFactory(email="doctor@asha.example", full_name="Meera Nair")
    doctor = DoctorProfileFactory(
        membership__clinic=clinic, membership__user=user, membership__role=Role.DOCTOR
    ).membership
    with clinic_scope(clinic):
        formulary_starter_load(clinic=clinic)
        patient = PatientFactory(clinic=clinic, full_name="Lakshmi Iyer")
        patient_allergy_add(
            patient=patient,
            actor=user,
            drug_class="nsaids",
            reaction="Swelling of lips",
            severity="severe",
        )
        return visit_start(
            clinic=clinic, actor=user, actor_membership=doctor, patient=patient, doctor=doctor
        )


def settled(page):
    """Wait until htmx has swapped in the answer (a form typed into before that is replaced)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


def sign_in(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/c/asha/$"))


def test_an_allergy_stops_the_medicine_until_the_doctor_gives_a_reason(page, live_server, visit):
    sign_in(page, live_server, "doctor@asha.example")
    page.goto(f"{live_server.url}/c/asha/visits/{visit.pk}/")
    section = page.locator("#visit-prescription")
    assert "not every interaction" in section.inner_text()

    page.fill("#rx-drug-query", "brufen 400")
    page.get_by_role("button", name=re.compile(r"IBUPROFEN 400 mg \(Brufen 400\)")).click()
    page.locator(".rx-chosen").wait_for()
    page.fill("#id_rx_frequency", "1-0-1")
    page.fill("#id_rx_duration_days", "3")
    with page.expect_response(ADD_URL):
        page.get_by_role("button", name="Add medicine").click()
    settled(page)

    alert = page.locator(".rx-findings")
    alert.wait_for()
    assert "allergic to NSAIDs" in alert.inner_text()
    assert "IBUPROFEN is one of them" in alert.inner_text()
    assert page.locator("ol.rx-items").count() == 0  # nothing was added

    # Without a reason the doctor is stopped again.
    with page.expect_response(ADD_URL):
        page.get_by_role("button", name="Add anyway, with my reason").click()
    settled(page)
    page.locator(".rx-findings").wait_for()
    assert page.locator("ol.rx-items").count() == 0

    page.fill("#id_rx_override_reason", REASON)
    with page.expect_response(ADD_URL):
        page.get_by_role("button", name="Add anyway, with my reason").click()
    item = page.locator("ol.rx-items li").first
    item.wait_for()
    text = item.inner_text()
    assert "IBUPROFEN" in text and "(Brufen 400)" in text
    assert "Prescribed despite" in text and "Allergy: NSAIDs" in text
    assert REASON in text

    # The reason stays on the record after a reload.
    page.reload()
    assert REASON in page.locator("ol.rx-items").inner_text()
