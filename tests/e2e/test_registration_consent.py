"""Registering a patient with their WhatsApp consent, in a real browser: the notice changes to
the language the desk picks, and the ledger keeps exactly what the patient was shown."""

from __future__ import annotations

import re

import pytest

from clinics.roles import Role
from clinics.tenancy import clinic_scope
from compliance.models import ConsentEvent
from tests.factories import ClinicFactory, MembershipFactory, PatientFactory, UserFactory

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's password

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clinic():
    clinic = ClinicFactory(name="Asha Family Clinic", slug="asha")
    user = UserFactory(email="desk@asha.example", full_name="Ravi Naik")
    MembershipFactory(clinic=clinic, user=user, role=Role.FRONT_DESK)
    return clinic


def sign_in(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "desk@asha.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/c/asha/$"))


def test_register_with_whatsapp_consent_shown_in_hindi(page, live_server, clinic):
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/c/asha/patients/new/")
    notice = page.get_by_test_id("consent-notice")
    assert notice.inner_text().startswith("Asha Family Clinic will send you WhatsApp messages")
    page.fill("input[name=full_name]", "Sunita Devi")
    page.check("input[name=sex][value=F]")
    page.fill("input[name=age_years]", "48")
    page.fill("input[name=phone]", "98450 77777")
    page.select_option("select[name=preferred_language]", "hi")
    # htmx fetched the notice again, in Hindi, with the number just typed.
    page.wait_for_function(
        "() => document.querySelector('[data-testid=consent-notice]').lang === 'hi'"
    )
    shown = page.get_by_test_id("consent-notice").inner_text()
    assert shown.startswith("Asha Family Clinic आपको +91 98450 77777 पर")
    page.check("input[name=whatsapp_consent-agrees]")
    page.check("input[name=whatsapp_consent-notice_shown]")
    page.get_by_role("button", name="Register patient").click()
    page.wait_for_url(re.compile(r"/c/asha/patients/\d+/$"))
    assert "Sunita Devi" in page.inner_text("body")

    with clinic_scope(clinic):
        event = ConsentEvent.objects.select_related("patient").get()
    assert event.patient.full_name == "Sunita Devi"
    assert event.notice_text == shown
    assert event.method == "verbal"


def test_a_tick_given_for_the_english_notice_does_not_survive_a_language_change(
    page, live_server, clinic
):
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/c/asha/patients/new/")
    page.check("input[name=whatsapp_consent-notice_shown]")
    page.select_option("select[name=preferred_language]", "hi")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=consent-notice]').lang === 'hi'"
    )
    assert not page.is_checked("input[name=whatsapp_consent-notice_shown]")


def test_the_desk_switches_its_pages_to_hindi_from_the_footer(page, live_server, clinic):
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/c/asha/patients/new/")
    page.select_option(".language-switch select", "hi")
    page.get_by_role("button", name="Change language").click()
    page.wait_for_url(re.compile(r"/c/asha/patients/new/$"))
    assert page.get_attribute("html", "lang") == "hi"
    assert page.get_by_role("heading", name="मरीज़ का पंजीकरण करें").is_visible()
    # The switch fits a phone screen.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    # The patient's notice still follows the patient's language, not the desk's.
    notice = page.get_by_test_id("consent-notice")
    assert notice.inner_text().startswith("Asha Family Clinic will send you WhatsApp messages")


def test_a_likely_duplicate_in_another_script_is_shown_and_opened_instead(
    page, live_server, clinic
):
    """ "Sunita Devi" with the phone of an existing "सुनीता देवी": the desk opens that record."""
    with clinic_scope(clinic):
        existing = PatientFactory(clinic=clinic, full_name="सुनीता देवी", phone="+919845077777")
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/c/asha/patients/new/")
    page.fill("input[name=full_name]", "Sunita Devi")
    page.check("input[name=sex][value=F]")
    page.fill("input[name=age_years]", "48")
    page.fill("input[name=phone]", "98450 77777")
    page.get_by_role("button", name="Register patient").click()
    warning = page.get_by_role("alert").filter(has_text="may already be registered")
    warning.wait_for()
    link = warning.get_by_role("link", name="सुनीता देवी")
    assert link.get_attribute("href") == f"/c/asha/patients/{existing.pk}/"
    with clinic_scope(clinic):
        assert clinic.patients.count() == 1  # nothing registered twice
