"""Billing in a real browser: the front desk bills a patient from the queue, the patient pays
by scanning the UPI QR code, and the bill prints."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Bill, BillingProfile, CatalogueItem
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.models import Appointment, AppointmentStatus, Visit
from tests.e2e.test_front_desk import sign_in
from tests.factories import ClinicFactory, MembershipFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def checkout():
    clinic = ClinicFactory(name="Asha Family Clinic", slug="asha")
    MembershipFactory(
        clinic=clinic,
        user=UserFactory(email="desk@asha.example", full_name="Ravi Naik"),
        role=Role.FRONT_DESK,
    )
    doctor = MembershipFactory(
        clinic=clinic,
        user=UserFactory(email="doctor@asha.example", full_name="Meera Rao"),
        role=Role.DOCTOR,
    )
    now = timezone.now()
    with clinic_scope(clinic):
        BillingProfile.objects.create(
            clinic=clinic, upi_vpa="asha@okbank", upi_payee_name="Asha Family Clinic"
        )
        CatalogueItem.objects.create(
            clinic=clinic,
            kind="consultation",
            name="Consultation",
            price_paise=50000,
            doctor=doctor,
            code="999312",
        )
        patient = PatientFactory(clinic=clinic, full_name="Lakshmi Iyer")
        appointment = Appointment.objects.create(
            clinic=clinic,
            patient=patient,
            doctor=doctor,
            starts_at=now,
            ends_at=now + timedelta(minutes=15),
            status=AppointmentStatus.IN_CONSULTATION,
            token_number=1,
            checked_in_at=now,
            started_at=now,
        )
        Visit.objects.create(clinic=clinic, patient=patient, doctor=doctor, appointment=appointment)
    return clinic


def test_bill_from_the_queue_take_a_upi_payment_and_print(page, live_server, checkout):
    sign_in(page, live_server, "desk@asha.example")
    page.goto(f"{live_server.url}/c/asha/schedule/queue/")
    page.locator(".queue-now").get_by_role("button", name="Bill").click()
    page.wait_for_url(re.compile(r"/c/asha/billing/\d+/$"))
    assert "Consultation (first visit)" in page.inner_text("#bill-lines")
    page.get_by_role("button", name="Issue the bill").click()
    page.wait_for_url(re.compile(r"/c/asha/billing/\d+/$"))
    assert re.search(r"BIL/\d{4}/000001", page.inner_text("h1"))
    qr = page.get_by_role("img", name=re.compile("UPI QR code"))
    assert qr.is_visible()
    assert page.input_value("input[name=amount]") == "500.00"
    page.select_option("select[name=mode]", "upi")
    page.fill("input[name=reference]", "412345678901")
    page.get_by_role("button", name="Record the payment").click()
    page.get_by_text("Received: receipt RCT/").wait_for()
    assert "Paid" in page.inner_text("h1")
    assert page.inner_text("#bill-due") == "Rs 0.00"
    for name in ("Print A4", "Print receipt (80 mm)"):
        href = page.get_by_role("button", name=name).get_attribute("href")
        pdf = page.request.get(f"{live_server.url}{href}")
        assert pdf.ok and pdf.body().startswith(b"%PDF")
    with clinic_scope(checkout):
        assert Bill.objects.get().amount_due_paise == 0


@pytest.fixture
def issued_bill(checkout):
    from billing.services import LineDraft, bill_draft_create, bill_issue

    biller = MembershipFactory(
        clinic=checkout,
        user=UserFactory(email="billing@asha.example", full_name="Anita Shetty"),
        role=Role.BILLING,
    )
    with clinic_scope(checkout):
        patient = PatientFactory(clinic=checkout, full_name="Suresh Gowda")
        bill = bill_draft_create(
            patient=patient,
            actor=biller.user,
            lines=[
                LineDraft(description="Dressing", unit_price_paise=30000),
                LineDraft(description="Crepe bandage", unit_price_paise=12000, quantity=3),
            ],
        )
        return bill_issue(bill=bill, actor=biller.user)


def test_credit_part_of_a_line_on_a_phone(page, live_server, issued_bill):
    sign_in(page, live_server, "billing@asha.example")
    page.goto(f"{live_server.url}/c/asha/billing/{issued_bill.pk}/")
    page.get_by_text("Refund, credit note or cancel").click()
    form = page.locator("#credit-note-form")
    # Both a quantity and an amount on one line: a form error, nothing issued.
    form.locator(".credit-line").nth(1).get_by_label("Quantity").fill("1")
    form.locator(".credit-line").nth(1).get_by_label("or amount (Rs, before GST)").fill("50")
    form.get_by_label("Reason").fill("One bandage returned")
    form.get_by_role("button", name="Issue the credit note").click()
    page.get_by_text("Give a quantity or an amount, not both.").wait_for()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    form = page.locator("#credit-note-form")
    form.locator(".credit-line").nth(1).get_by_label("or amount (Rs, before GST)").fill("")
    form.get_by_role("button", name="Issue the credit note").click()
    page.get_by_text(re.compile(r"Credit note CN/\d{4}/000001 issued")).wait_for()
    assert "Rs 120.00" in page.inner_text("#bill-total")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.goto(f"{live_server.url}/c/asha/billing/{issued_bill.pk}/")
    page.get_by_text("Refund, credit note or cancel").click()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.screenshot(path="/tmp/billapi-credit-390.png", full_page=True)
    with clinic_scope(issued_bill.clinic_id):
        issued_bill.refresh_from_db()
        assert issued_bill.credited_paise == 12000
