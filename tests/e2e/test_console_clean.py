"""The main pages load without a browser console error, a page error or a failed request: a
clinic's staff never see a broken icon, a dead preview or a swallowed script error."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command

from clinics.demo import DEMO_PASSWORD, DEMO_SLUG
from clinics.models import Clinic, Membership
from clinics.tenancy import clinic_scope
from patients.models import Patient, Visit, VisitStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo():
    call_command("seed_demo", "--patients", "6", "--verbosity", "0")
    clinic = Clinic.objects.get(slug=DEMO_SLUG)
    with clinic_scope(clinic):
        patient = Patient.objects.order_by("pk").first()
        draft = Visit.objects.filter(status=VisitStatus.DRAFT).order_by("pk").first()
        if draft is None:
            draft = Visit.objects.create(
                clinic=clinic,
                patient=patient,
                doctor=Membership.objects.get(user__email="owner@sanjeevani.example"),
            )
    return clinic, patient, draft


def watch(page) -> list[str]:
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}"))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return problems


def test_the_main_pages_load_without_a_console_error(page, live_server, demo):
    clinic, patient, draft = demo
    problems = watch(page)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "owner@sanjeevani.example")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(rf"/c/{DEMO_SLUG}/$"))
    base = f"{live_server.url}/c/{clinic.slug}"
    paths = [
        "/",
        "/patients/",
        f"/patients/{patient.pk}/",
        "/schedule/",
        "/schedule/queue/",
        "/messages/",
        "/settings/",
        "/staff/",
        "/audit/",
    ]
    paths.append(f"/visits/{draft.pk}/")
    for path in paths:
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
    # The doctor picks a drug, types its frequency (the live dose preview answers) and adds it.
    page.goto(f"{base}/visits/{draft.pk}/")
    page.fill("#rx-drug-query", "PARA")
    page.locator("#drug-results button, #drug-results a").first.click()
    page.locator("#rx-add-form input[name=frequency]").wait_for()
    page.fill("#rx-add-form input[name=dose_amount]", "1")
    page.fill("#rx-add-form input[name=frequency]", "1-0-1")
    page.fill("#rx-add-form input[name=duration_days]", "5")
    # The preview answers each change (its words depend on the drug and the staff's language).
    changed = "([before]) => { const t = document.querySelector('#rx-preview-add').textContent;"
    changed += " return t.trim() !== '' && t !== before; }"
    before = page.text_content("#rx-preview-add")
    page.fill("#rx-add-form input[name=frequency]", "1-1-1")
    page.wait_for_function(changed, arg=[before], timeout=20_000, polling=100)
    before = page.text_content("#rx-preview-add")
    page.fill("#rx-add-form input[name=frequency]", "0-0-1")
    page.wait_for_function(changed, arg=[before], timeout=20_000, polling=100)
    page.get_by_role("button", name="Add medicine").click()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(800)
    assert problems == []
