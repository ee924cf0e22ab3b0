"""The billing admin: the operator defines plans; subscriptions show what Vaidya does in their
state; Razorpay secrets never appear."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.subscriptions.models import ClinicSubscription, Plan, SubStatus
from clinics.models import User
from clinics.tenancy import clinic_scope
from tests.billing.conftest import KEY_SECRET, WEBHOOK_SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture
def root_client(db):
    root = User.objects.create_superuser("root@example.in", "correct horse battery")
    client = Client()
    client.force_login(root)
    return client


def test_the_operator_defines_a_plan_and_its_limits(root_client):
    answer = root_client.post(
        reverse("admin:billing_plan_add"),
        {
            "name": "Small clinic",
            "amount_paise": "118000",
            "period": "monthly",
            "total_count": "12",
            "max_doctors": "2",
            "max_whatsapp_messages_per_month": "",
            "max_storage_mb": "",
            "is_active": "on",
        },
    )
    assert answer.status_code == 302
    plan = Plan.objects.get()
    assert plan.max_doctors == 2 and plan.max_whatsapp_messages_per_month is None


def test_a_subscription_shows_what_vaidya_does_in_its_state(clinic, root_client, settings):
    settings.SUBSCRIPTION_GRACE_DAYS = 7
    plan = Plan.objects.create(name="Clinic", amount_paise=50_000)
    with clinic_scope(clinic):
        subscription = ClinicSubscription.objects.create(
            clinic=clinic,
            plan=plan,
            status=SubStatus.HALTED,
            razorpay_subscription_id="sub_Admin0000001",
            short_url="http://127.0.0.1/subscribe/sub_Admin0000001",
            payment_failed_at=timezone.now() - timedelta(days=8),
        )
    html = root_client.get(
        reverse("admin:billing_clinicsubscription_change", args=[subscription.pk])
    ).content.decode()
    assert "Razorpay stopped retrying" in html and "The grace period ended on" in html
    listing = root_client.get(reverse("admin:billing_clinicsubscription_changelist"))
    assert listing.status_code == 200


def test_the_razorpay_account_page_never_shows_its_secrets(root_client, rzp_account):
    for url in (
        reverse("admin:billing_razorpayaccount_changelist"),
        reverse("admin:billing_razorpayaccount_change", args=[rzp_account.pk]),
    ):
        html = root_client.get(url).content.decode()
        assert rzp_account.key_id in html
        assert KEY_SECRET not in html and WEBHOOK_SECRET not in html
