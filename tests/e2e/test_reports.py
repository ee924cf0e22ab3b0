"""An owner reads the reports on a phone: the menu leads there, the page and its charts fit the
screen, a period can be chosen and a section downloaded as CSV."""

from __future__ import annotations

import pytest

from clinics.roles import Role
from tests.e2e.test_front_desk import sign_in
from tests.factories import ClinicFactory, MembershipFactory, UserFactory
from tests.patients.report_data import seed_history

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_owner_reads_the_reports_on_a_phone(page, live_server):
    clinic = ClinicFactory(name="Asha Family Clinic", slug="asha")
    seed_history(clinic)
    owner = UserFactory(email="owner@asha.example", full_name="Meera Rao")
    MembershipFactory(clinic=clinic, user=owner, role=Role.OWNER)
    sign_in(page, live_server, "owner@asha.example")

    page.get_by_role("link", name="Reports", exact=True).click()
    page.wait_for_url("**/c/asha/reports/")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390

    page.select_option("select[name=period]", "custom")
    page.fill("input[name=date_from]", "2026-03-01")
    page.fill("input[name=date_to]", "2026-03-03")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**date_from=2026-03-01**")
    section = page.locator("#report-patients-seen")
    chart = section.get_by_role("img")
    assert chart.is_visible()
    assert chart.get_attribute("aria-labelledby") == (
        "chart-patients-seen-title chart-patients-seen-desc"
    )
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390

    with page.expect_download() as download:
        section.get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename == "patients-seen-2026-03-01-2026-03-03.csv"
    with open(download.value.path(), encoding="utf-8-sig") as csv_file:
        assert csv_file.read().splitlines()[1] == "2026-03-01,3"
