"""A receptionist's first minutes, in a real browser on a phone-sized screen."""

from __future__ import annotations

import re

import pytest

from clinics.roles import Role
from clinics.tenancy import clinic_scope
from tests.factories import ClinicFactory, MembershipFactory, PatientFactory, UserFactory

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's password

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk():
    clinic = ClinicFactory(name="Asha Family Clinic", slug="asha")
    user = UserFactory(email="desk@asha.example", full_name="Ravi Naik")
    MembershipFactory(clinic=clinic, user=user, role=Role.FRONT_DESK)
    with clinic_scope(clinic):
        PatientFactory(clinic=clinic, full_name="Lakshmi Iyer", phone="+919845012345")
        PatientFactory(clinic=clinic, full_name="Arjun Rao", phone="+919900011122")
    return clinic, user


def sign_in(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/c/asha/$"))


def test_live_search_finds_a_patient_by_phone_without_reloading(page, live_server, desk):
    sign_in(page, live_server, "desk@asha.example")
    page.goto(f"{live_server.url}/c/asha/patients/")
    assert page.get_by_text("Arjun Rao").is_visible()
    marker = page.evaluate("() => (window.vaidyaMarker = 'same page')")
    page.fill("input[type=search]", "98450 12345")
    page.get_by_text("Lakshmi Iyer").wait_for()
    page.wait_for_function("() => !document.body.innerText.includes('Arjun Rao')")
    # htmx swapped the results in: the page itself was not reloaded.
    assert page.evaluate("() => window.vaidyaMarker") == marker


def test_register_a_patient_and_land_on_their_page(page, live_server, desk):
    sign_in(page, live_server, "desk@asha.example")
    page.goto(f"{live_server.url}/c/asha/patients/new/")
    page.fill("input[name=full_name]", "Meena Kumari")
    page.check("input[name=sex][value=F]")
    page.fill("input[name=age_years]", "42")
    page.fill("input[name=phone]", "98450 77777")
    page.get_by_role("button", name=re.compile("Register")).click()
    page.wait_for_url(re.compile(r"/c/asha/patients/\d+/$"))
    body = page.inner_text("body")
    assert "Meena Kumari" in body and "P-000003" in body
    assert "about 42 years" in body


def test_an_owners_menu_fits_a_phone_screen(page, live_server, desk):
    clinic, _ = desk
    owner = UserFactory(email="owner@asha.example", full_name="Meera Rao")
    MembershipFactory(clinic=clinic, user=owner, role=Role.OWNER)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "owner@asha.example")
    for path in ("/c/asha/", "/c/asha/settings/"):
        page.goto(f"{live_server.url}{path}")
        # The owner's menu has the most entries: it wraps instead of widening the page.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        assert page.get_by_role("link", name="Audit", exact=True).is_visible()
