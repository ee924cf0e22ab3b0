"""Payment links through the official SDK against the simulator: creating, the callback
page's signature, and reconciliation repairing a webhook that never came."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from billing.razorpay.links import payment_link_create
from billing.razorpay.models import LinkStatus, PaymentLink
from billing.razorpay.reconcile import payment_links_reconcile
from billing.razorpay.tasks import reconcile_payment_links
from clinics.errors import DomainError, ValidationFailed
from clinics.models import AuditEvent
from clinics.tenancy import clinic_scope

pytestmark = pytest.mark.django_db


def make_link(clinic, **overrides) -> PaymentLink:
    fields = {
        "clinic": clinic,
        "amount_paise": 45_000,
        "reference_id": "BL/25-26/000123",
        "description": "Consultation and dressing",
        "customer_name": "Ravi Kumar",
        "customer_phone": "+919812345678",
        "owner_label": "Bill BL/25-26/000123",
        "on_paid_key": "tests.bill",
    } | overrides
    with clinic_scope(clinic):
        return payment_link_create(**fields)


def callback_url(account, query: dict[str, str]) -> str:
    return reverse("razorpay-callback", kwargs={"webhook_key": account.webhook_key})


def test_a_link_is_created_through_the_sdk_with_the_bill_number_as_reference(
    clinic, rzp_account, sim
):
    link = make_link(clinic)
    remote = sim.link(link.razorpay_link_id)
    assert remote["amount"] == 45_000 and remote["currency"] == "INR"
    assert remote["reference_id"] == "BL/25-26/000123"
    assert remote["notify"] == {"sms": False, "email": False}
    assert remote["callback_url"].endswith(f"/pay/razorpay/{rzp_account.webhook_key}/done/")
    assert remote["notes"] == {"clinic": str(clinic.pk)}  # no personal data in notes
    assert link.status == LinkStatus.CREATED and link.short_url == remote["short_url"]
    with clinic_scope(clinic):
        assert AuditEvent.objects.filter(action="billing.payment_link.created").count() == 1


@pytest.mark.parametrize("amount", [0, 99, -100, 100.5, "450", 10**13])
def test_amounts_razorpay_cannot_take_are_refused_before_calling_it(
    clinic, rzp_account, sim, amount
):
    with pytest.raises(ValidationFailed) as caught:
        make_link(clinic, amount_paise=amount)
    assert "amount_paise" in caught.value.errors
    assert not [r for r in sim.requests if r[1] == "/v1/payment_links"]


def test_without_keys_or_when_razorpay_fails_nothing_is_recorded(clinic, sim):
    with pytest.raises(DomainError, match="Connect the clinic's Razorpay account"):
        make_link(clinic)


def test_a_razorpay_error_is_a_clear_message_and_nothing_is_recorded(clinic, rzp_account, sim):
    sim.fail_next_api_calls(500)
    with pytest.raises(DomainError, match="Razorpay had a problem"):
        make_link(clinic)
    with clinic_scope(clinic):
        assert not PaymentLink.objects.exists()


def test_a_good_callback_marks_the_link_paid_and_tells_its_owner_once(
    clinic, rzp_account, sim, paid_owners
):
    link = make_link(clinic)
    query = sim.pay_link(link.razorpay_link_id)  # no webhook address: nothing arrives
    url = callback_url(rzp_account, query)
    page = Client().get(url, query)
    assert page.status_code == 200
    assert "Payment received" in page.content.decode()
    assert "Rs 450.00" in page.content.decode()
    Client().get(url, query)  # the patient reloads the page
    with clinic_scope(clinic):
        link.refresh_from_db()
    assert link.status == LinkStatus.PAID and link.amount_paid_paise == 45_000
    assert link.razorpay_payment_id == query["razorpay_payment_id"]
    assert paid_owners == [("BL/25-26/000123", 45_000, query["razorpay_payment_id"])]


@pytest.mark.parametrize(
    "change",
    [
        {"razorpay_signature": "0" * 64},
        {"razorpay_payment_link_status": "paid", "razorpay_payment_id": "pay_Forged12345678"},
        {"razorpay_payment_link_reference_id": "BL/25-26/000999"},
        {"razorpay_signature": ""},
    ],
)
def test_a_bad_callback_signature_shows_a_clear_page_and_records_nothing(
    clinic, rzp_account, sim, paid_owners, change
):
    link = make_link(clinic)
    query = sim.pay_link(link.razorpay_link_id) | change
    page = Client().get(callback_url(rzp_account, query), query)
    assert page.status_code == 400
    assert "We could not confirm this payment" in page.content.decode()
    with clinic_scope(clinic):
        link.refresh_from_db()
        assert not AuditEvent.objects.filter(action="billing.payment_link.status_changed").exists()
    assert link.status == LinkStatus.CREATED and paid_owners == []


def test_a_callback_for_an_unknown_address_is_a_clear_404(sim):
    page = Client().get("/pay/razorpay/no-such-key/done/", {"razorpay_signature": "x"})
    assert page.status_code == 404
    assert "We could not confirm this payment" in page.content.decode()


def test_reconciliation_repairs_a_lost_webhook(clinic, rzp_account, sim, paid_owners):
    paid = make_link(clinic)
    partly = make_link(clinic, reference_id="BL/25-26/000124")
    expired = make_link(clinic, reference_id="BL/25-26/000125")
    untouched = make_link(clinic, reference_id="BL/25-26/000126")
    sim.pay_link(paid.razorpay_link_id)  # webhooks lost (no address), no callback either
    sim.pay_link(partly.razorpay_link_id, amount=20_000)
    sim.expire_link(expired.razorpay_link_id)

    assert reconcile_payment_links() == 3
    with clinic_scope(clinic):
        statuses = dict(PaymentLink.objects.values_list("reference_id", "status"))
        assert PaymentLink.objects.get(pk=partly.pk).amount_paid_paise == 20_000
    assert statuses == {
        "BL/25-26/000123": "paid",
        "BL/25-26/000124": "partially_paid",
        "BL/25-26/000125": "expired",
        "BL/25-26/000126": "created",
    }
    assert [t[0] for t in paid_owners] == ["BL/25-26/000123"]
    assert untouched.razorpay_link_id in sim.state.links
    # Run again: nothing is fetched within the interval, nothing changes, nobody told twice.
    fetched = len(sim.requests)
    assert reconcile_payment_links() == 0
    assert len(sim.requests) == fetched
    with clinic_scope(clinic):
        assert payment_links_reconcile(clinic_id=clinic.pk, force=True) == 0
    assert len(paid_owners) == 1


def test_reconciliation_survives_razorpay_being_down(clinic, rzp_account, sim):
    link = make_link(clinic)
    sim.pay_link(link.razorpay_link_id)
    sim.fail_next_api_calls(503)
    assert reconcile_payment_links() == 0  # logged, the clinic's run stops, no failure
    assert reconcile_payment_links() == 1  # the failed fetch is tried again next time
    with clinic_scope(clinic):
        link.refresh_from_db()
    assert link.status == LinkStatus.PAID
