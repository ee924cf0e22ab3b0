"""Billing in Hindi: a staff member who picked हिन्दी reads the bill pages in Hindi, and the page
a patient returns to after paying a bill's link is in the patient's language."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from billing.razorpay.bill_links import bill_payment_link_create
from patients.models import Patient

pytestmark = pytest.mark.django_db

# English sentences of the pages that must not be left once the page is in Hindi.
BILL_PAGE_ENGLISH = (
    "Take a payment",
    "Record the payment",
    "Print receipt (80 mm)",
    "Refund, credit note or cancel",
    "Scan with any UPI app",
    "Amount (Rs)",
    "Issue a credit note",
)


def hindi(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "hi"
    return client


def test_a_biller_who_picked_hindi_reads_the_bill_and_its_lists_in_hindi(
    client_for, biller, issued
):
    client = client_for(biller)
    english = client.get(f"/c/{issued.clinic.slug}/billing/{issued.pk}/").content.decode()
    assert "Take a payment" in english  # English stays the default

    client = hindi(client)
    page = client.get(f"/c/{issued.clinic.slug}/billing/{issued.pk}/").content.decode()
    assert '<html lang="hi">' in page
    assert "भुगतान लें" in page and "भुगतान दर्ज करें" in page and "राशि (₹)" in page
    assert "बिल" in page and "UPI" in page and "GST" in page
    assert [s for s in BILL_PAGE_ENGLISH if s in page] == []

    bills = client.get(f"/c/{issued.clinic.slug}/billing/").content.decode()
    assert "ड्राफ़्ट" in bills and "मरीज़" in bills
    assert "Outstanding" not in bills and "Day book" not in bills and "Drafts" not in bills
    day = client.get(f"/c/{issued.clinic.slug}/billing/day-book/").content.decode()
    assert "दिन का हिसाब बंद करें" in day or "अभी बंद नहीं हुआ।" in day
    assert "Cash expected" not in day and "By mode" not in day


def _paid_callback(clinic, link, sim, rzp_account, **headers) -> str:
    query = sim.pay_link(link.razorpay_link_id)
    url = f"/pay/razorpay/{rzp_account.webhook_key}/done/"
    page = Client(**headers).get(url, query)
    assert page.status_code == 200
    return page.content.decode()


def test_the_patient_s_pay_page_is_in_the_patient_s_language(
    clinic, issued, biller, rzp_account, sim
):
    Patient.objects.filter(pk=issued.patient_id).update(preferred_language="hi")
    link = bill_payment_link_create(bill=issued, actor=biller.user)
    page = _paid_callback(clinic, link, sim, rzp_account)
    assert '<html lang="hi">' in page
    assert "भुगतान मिल गया" in page and "Rs 542.00 मिल गए हैं। धन्यवाद।" in page
    assert "Payment received" not in page and "Thank you" not in page


def test_a_patient_who_reads_english_gets_the_pay_page_in_english_on_a_hindi_browser(
    clinic, issued, biller, rzp_account, sim
):
    Patient.objects.filter(pk=issued.patient_id).update(preferred_language="en")
    link = bill_payment_link_create(bill=issued, actor=biller.user)
    page = _paid_callback(clinic, link, sim, rzp_account, HTTP_ACCEPT_LANGUAGE="hi")
    assert "Payment received" in page and "भुगतान मिल गया" not in page
