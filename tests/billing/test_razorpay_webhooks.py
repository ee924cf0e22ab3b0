"""Razorpay's webhooks over real HTTP: the simulator posts signed events to the live app,
which verifies, stores, deduplicates and processes them; and bad bodies get JSON answers."""

from __future__ import annotations

import json

import pytest
import requests

from billing.razorpay.models import LinkStatus, PaymentLink, RazorpayWebhookDelivery
from clinics.tenancy import clinic_scope
from devtools.razorpay_simulator.state import Account, Event, sign
from tests.billing.conftest import WEBHOOK_SECRET, webhook_path
from tests.billing.test_payment_links import make_link

pytestmark = pytest.mark.django_db(transaction=True)


def deliveries(clinic) -> list[RazorpayWebhookDelivery]:
    with clinic_scope(clinic):
        return list(RazorpayWebhookDelivery.objects.order_by("id"))


def link_now(clinic, link) -> PaymentLink:
    with clinic_scope(clinic):
        return PaymentLink.objects.get(pk=link.pk)


def test_a_valid_webhook_marks_the_link_paid(clinic, live_webhooks, paid_owners):
    link = make_link(clinic)
    sent = live_webhooks.pay_link(link.razorpay_link_id)
    answers = [(d.event, d.status) for d in live_webhooks.deliveries]
    assert answers == [("payment.captured", 200), ("payment_link.paid", 200)]
    paid = link_now(clinic, link)
    assert paid.status == LinkStatus.PAID and paid.amount_paid_paise == 45_000
    assert paid_owners == [("BL/25-26/000123", 45_000, sent["razorpay_payment_id"])]
    stored = deliveries(clinic)
    assert [(d.event, d.outcome) for d in stored] == [
        ("payment.captured", "ignored (unknown event)"),
        ("payment_link.paid", "link paid"),
    ]
    assert all(d.processed_at for d in stored)


def test_a_tampered_webhook_is_refused_and_nothing_is_stored(clinic, live_webhooks, paid_owners):
    link = make_link(clinic)
    live_webhooks.configure_webhooks(tamper_next=2)
    live_webhooks.pay_link(link.razorpay_link_id)
    assert [d.status for d in live_webhooks.deliveries] == [403, 403]
    answer = json.loads(live_webhooks.deliveries[0].answer)
    assert answer["code"] == "bad_signature" and set(answer) == {"type", "code", "detail", "fields"}
    assert deliveries(clinic) == []
    assert link_now(clinic, link).status == LinkStatus.CREATED and paid_owners == []


def test_a_duplicate_webhook_is_stored_and_processed_once(clinic, live_webhooks, paid_owners):
    link = make_link(clinic)
    live_webhooks.configure_webhooks(duplicate=True)
    live_webhooks.pay_link(link.razorpay_link_id)
    answers = [json.loads(d.answer)["status"] for d in live_webhooks.deliveries]
    assert answers == ["stored", "duplicate", "stored", "duplicate"]
    assert len(deliveries(clinic)) == 2
    assert len(paid_owners) == 1


def test_out_of_order_events_only_move_the_link_forward(clinic, live_webhooks, paid_owners):
    link = make_link(clinic)
    live_webhooks.configure_webhooks(hold=True)
    live_webhooks.pay_link(link.razorpay_link_id, amount=20_000)  # partially_paid
    live_webhooks.pay_link(link.razorpay_link_id)  # then the rest: paid
    sent = live_webhooks.release_webhooks(reverse=True)  # paid arrives before partially_paid
    assert [d.event for d in sent if d.event.startswith("payment_link")] == [
        "payment_link.paid",
        "payment_link.partially_paid",
    ]
    assert all(d.status == 200 for d in sent)
    final = link_now(clinic, link)
    assert final.status == LinkStatus.PAID and final.amount_paid_paise == 45_000
    outcomes = [d.outcome for d in deliveries(clinic) if d.event.startswith("payment_link")]
    assert outcomes == ["link paid", "link already further along"]
    assert len(paid_owners) == 1


def _post(url: str, body: bytes, *, secret: str = WEBHOOK_SECRET, event_id="evt_Test0001"):
    headers = {"Content-Type": "application/json", "X-Razorpay-Signature": sign(secret, body)}
    if event_id:
        headers["X-Razorpay-Event-Id"] = event_id
    return requests.post(url, data=body, headers=headers, timeout=10)


def test_an_unknown_event_is_stored_and_ignored(clinic, live_webhooks, live_server, rzp_account):
    account = Account("rzp_test_x", "s", WEBHOOK_SECRET)
    body = Event(account, "order.notification_delivered", {"order": {"id": "order_1"}}).body()
    answer = _post(live_server.url + webhook_path(rzp_account), body)
    assert answer.status_code == 200 and answer.json() == {"status": "stored"}
    (stored,) = deliveries(clinic)
    assert stored.event == "order.notification_delivered"
    assert stored.outcome == "ignored (unknown event)" and stored.processed_at


@pytest.mark.parametrize(
    ("body", "event_id", "status", "code"),
    [
        (b"x" * (300 * 1024), "evt_1", 413, "too_large"),
        (b"[" * 40 + b"]" * 40, "evt_1", 400, "too_deep"),
        (b"not json", "evt_1", 400, "not_json"),
        (b'{"event": 12}', "evt_1", 400, "no_event"),
        (b'{"event": "payment_link.paid"}', "", 400, "no_event_id"),
        (b'{"event": "payment_link.paid"}', "evt 1; drop", 400, "no_event_id"),
    ],
)
def test_bad_bodies_get_json_errors_and_are_not_stored(
    clinic, live_webhooks, live_server, rzp_account, body, event_id, status, code
):
    answer = _post(live_server.url + webhook_path(rzp_account), body, event_id=event_id)
    assert answer.status_code == status
    assert answer.json()["code"] == code
    assert deliveries(clinic) == []


def test_an_unknown_webhook_address_is_a_json_404(live_server, sim):
    answer = _post(live_server.url + "/webhooks/razorpay/nobody/", b"{}")
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    wrong_method = requests.get(live_server.url + "/webhooks/razorpay/nobody/", timeout=5)
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "method_not_allowed"
