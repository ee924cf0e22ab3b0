"""A nurse records a patient's consent on a tablet: reads the form, signs with a finger (the
mouse here) on the pad, and lands on the signed consent. In a real browser, under the site's
Content-Security-Policy, so a blocked script would show."""

from __future__ import annotations

import re

import pytest

from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients import services
from patients.models import SignedConsent
from tests.factories import ClinicFactory, MembershipFactory, PatientFactory, UserFactory

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's password

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ward():
    clinic = ClinicFactory(name="Asha Family Clinic", slug="asha")
    user = UserFactory(email="nurse@asha.example", full_name="Sunita Pillai")
    nurse = MembershipFactory(clinic=clinic, user=user, role=Role.ASSISTANT)
    doctor = MembershipFactory(clinic=clinic, role=Role.DOCTOR)
    with clinic_scope(clinic):
        patient = PatientFactory(clinic=clinic, full_name="Lakshmi Iyer", phone="+919845012345")
        form = services.consent_template_save(
            clinic=clinic,
            actor=doctor.user,
            actor_membership=doctor,
            name="Minor surgery",
            kind="procedure",
            title="Consent for minor surgery",
            body="The doctor has explained the procedure and its risks.\n\nI agree to it.",
        )
    return clinic, nurse, patient, form


def sign_in(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/c/asha/$"))


def draw_signature(page):
    box = page.locator("canvas[data-signature-pad]").bounding_box()
    x, y = box["x"], box["y"]
    page.mouse.move(x + 30, y + box["height"] * 0.7)
    page.mouse.down()
    for dx, dy in ((80, -60), (150, 20), (220, -50), (300, 10)):
        page.mouse.move(x + 30 + dx, y + box["height"] * 0.7 + dy, steps=12)
    page.mouse.up()


def test_a_nurse_signs_a_consent_with_the_pad_and_sees_it_signed(page, live_server, ward):
    clinic, nurse, patient, _ = ward
    problems: list[str] = []

    def console(message):
        # Browsers ask for /favicon.ico on their own; Vaidya has none.
        if message.type == "error" and "favicon" not in message.location.get("url", ""):
            problems.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    sign_in(page, live_server, "nurse@asha.example")

    page.goto(f"{live_server.url}/c/asha/patients/{patient.pk}/")
    page.get_by_role("link", name="Consent forms").click()
    page.get_by_role("button", name="Sign a consent form").click()
    page.get_by_role("button", name="Minor surgery").click()
    page.get_by_text("I agree to it.").wait_for()
    page.fill("textarea[name=details]", "Excision of a cyst, left forearm")

    # An empty pad is refused in the browser: nothing is sent.
    page.get_by_role("button", name="Save signed consent").click()
    page.get_by_text("Ask the signer to sign in the box before saving.").wait_for()
    assert "/sign/" in page.url
    with clinic_scope(clinic):
        assert not SignedConsent.objects.exists()

    draw_signature(page)
    assert page.evaluate("() => !document.querySelector('[data-signature-empty]').hidden") is False
    page.get_by_role("button", name="Save signed consent").click()
    page.wait_for_url(re.compile(r"/c/asha/consent/\d+/$"))
    body = page.inner_text("body")
    assert "Consent signed by Lakshmi Iyer (the patient)" in body
    assert "Excision of a cyst, left forearm" in body
    assert "Sunita Pillai" in body
    page.get_by_role("img", name="Signature of Lakshmi Iyer").wait_for()

    with clinic_scope(clinic):
        consent = SignedConsent.objects.get()
        assert consent.witness == nurse and consent.signature_sha256
    # No script blocked by the Content-Security-Policy, no script error.
    assert not problems, problems
