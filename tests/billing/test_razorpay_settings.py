"""The owner's Razorpay keys: saved encrypted, tested with a real call, owners only; and a
webhook delivery whose task was lost is picked up by the lost-task sweep."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.razorpay.models import LinkStatus, PaymentLink, RazorpayAccount
from clinics.fields import encrypted_fields
from clinics.recovery import waiting_work_requeue
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from devtools.razorpay_simulator.state import Event, sign
from tests.billing.conftest import KEY_ID, KEY_SECRET, WEBHOOK_SECRET, webhook_path
from tests.billing.test_payment_links import make_link

pytestmark = pytest.mark.django_db

KEYS = {"key_id": KEY_ID, "key_secret": KEY_SECRET, "webhook_secret": WEBHOOK_SECRET}


def url(clinic, name: str) -> str:
    return reverse(name, args=[clinic.slug])


def test_the_owner_connects_razorpay_and_the_secrets_are_encrypted_at_rest(
    clinic, owner, client_for, sim
):
    web = client_for(owner)
    assert web.post(url(clinic, "razorpay-save"), KEYS).status_code == 302
    with connection.cursor() as cursor:
        cursor.execute("SELECT key_secret, webhook_secret FROM billing_razorpayaccount")
        raw = cursor.fetchone()
    assert KEY_SECRET not in raw[0] and WEBHOOK_SECRET not in raw[1]
    assert (RazorpayAccount, ["key_secret", "webhook_secret"]) in encrypted_fields()
    page = web.get(url(clinic, "razorpay-settings")).content.decode()
    assert KEY_ID in page and KEY_SECRET not in page and WEBHOOK_SECRET not in page
    with clinic_scope(clinic):
        account = RazorpayAccount.objects.get()
    assert account.key_secret == KEY_SECRET
    assert f"/webhooks/razorpay/{account.webhook_key}/" in page
    # A change may leave the secrets empty to keep them.
    web.post(url(clinic, "razorpay-save"), {"key_id": "rzp_live_asha000002"})
    with clinic_scope(clinic):
        account.refresh_from_db()
    assert account.key_id == "rzp_live_asha000002" and account.key_secret == KEY_SECRET


def test_rotation_reencrypts_the_razorpay_secrets(clinic, owner, client_for, settings):
    from cryptography.fernet import Fernet

    client_for(owner).post(url(clinic, "razorpay-save"), KEYS)
    new = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new, *settings.ENCRYPTION_KEYS]
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    settings.ENCRYPTION_KEYS = [new]
    with clinic_scope(clinic):
        assert RazorpayAccount.objects.get().webhook_secret == WEBHOOK_SECRET


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"key_id": "pk_live_123"}, "A Razorpay key id looks like"),
        ({"key_secret": "short"}, "Paste the secret exactly"),
        ({"webhook_secret": ""}, "This field is required"),
    ],
)
def test_bad_keys_are_refused_with_a_clear_message(clinic, owner, client_for, fields, message):
    answer = client_for(owner).post(url(clinic, "razorpay-save"), KEYS | fields)
    assert answer.status_code == 400 and message in answer.content.decode()
    with clinic_scope(clinic):
        assert not RazorpayAccount.objects.exists()


def test_test_connection_makes_a_real_call(clinic, owner, client_for, sim):
    web = client_for(owner)
    web.post(url(clinic, "razorpay-save"), KEYS)
    sim.add_account(KEY_ID, "a-different-secret")
    answer = web.post(url(clinic, "razorpay-test"), follow=True)
    assert "Razorpay did not accept these keys" in answer.content.decode()
    sim.add_account(KEY_ID, KEY_SECRET)
    answer = web.post(url(clinic, "razorpay-test"), follow=True)
    assert "Connected: Razorpay accepted the keys (test mode)." in answer.content.decode()
    assert ("GET", "/v1/payment_links") in sim.requests
    with clinic_scope(clinic):
        assert RazorpayAccount.objects.get().last_check_ok is True


def test_disconnecting_erases_the_keys(clinic, owner, client_for, sim):
    web = client_for(owner)
    web.post(url(clinic, "razorpay-save"), KEYS)
    assert web.post(url(clinic, "razorpay-disconnect")).status_code == 302
    with clinic_scope(clinic):
        assert not RazorpayAccount.objects.exists()


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.FRONT_DESK, Role.BILLING, Role.ASSISTANT])
def test_only_the_owner_sees_or_changes_the_keys(clinic, member_factory, client_for, role):
    web = client_for(member_factory(clinic, role))
    assert web.get(url(clinic, "razorpay-settings")).status_code == 403
    assert web.post(url(clinic, "razorpay-save"), KEYS).status_code == 403
    with clinic_scope(clinic):
        assert not RazorpayAccount.objects.exists()


def test_another_clinics_members_get_404(clinic, other_clinic, member_factory, client_for):
    web = client_for(member_factory(other_clinic, Role.OWNER))
    assert web.get(url(clinic, "razorpay-settings")).status_code == 404


def test_a_delivery_whose_task_was_lost_is_processed_by_the_sweep(
    clinic, rzp_account, sim, django_capture_on_commit_callbacks
):
    link = make_link(clinic)
    sim.pay_link(link.razorpay_link_id)
    event = Event(
        sim.state.accounts[KEY_ID],
        "payment_link.paid",
        {"payment_link": sim.link(link.razorpay_link_id)},
    )
    body = event.body()
    with django_capture_on_commit_callbacks(execute=False):  # the task never reaches a worker
        answer = Client().post(
            webhook_path(rzp_account),
            body,
            content_type="application/json",
            headers={
                "X-Razorpay-Signature": sign(WEBHOOK_SECRET, body),
                "X-Razorpay-Event-Id": event.event_id,
            },
        )
    assert answer.status_code == 200
    with clinic_scope(clinic):
        assert waiting_work_requeue()["billing.razorpay_webhook_deliveries"] == 0  # fresh
        with (
            time_machine.travel(timezone.now() + timedelta(minutes=30)),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert waiting_work_requeue()["billing.razorpay_webhook_deliveries"] == 1
        assert PaymentLink.objects.get(pk=link.pk).status == LinkStatus.PAID
        with time_machine.travel(timezone.now() + timedelta(minutes=60)):
            assert waiting_work_requeue()["billing.razorpay_webhook_deliveries"] == 0
