"""Clinic subscriptions over real HTTP: the owner subscribes through the simulator's checkout,
Razorpay's events reach the live app's platform webhook, and each state decides what the
clinic may do: the grace period, read-only mode, limits, and the installation's invoices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.subscriptions.models import ClinicSubscription, Plan, PlatformInvoice, SubStatus
from billing.subscriptions.modes import clinic_mode
from billing.subscriptions.services import subscription_start
from clinics.errors import Conflict
from clinics.guards import LimitReached
from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.services import invitation_create, membership_change_role
from clinics.tenancy import clinic_scope

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def plan(db) -> Plan:
    return Plan.objects.create(name="Clinic", amount_paise=1_18_000, max_doctors=1)


@pytest.fixture
def live_platform(platform, sim, live_server):
    platform.webhook_url = live_server.url + reverse("razorpay-platform-webhook")
    return sim


def subscribe(clinic, owner, plan) -> ClinicSubscription:
    with clinic_scope(clinic):
        return subscription_start(clinic=clinic, actor=owner.user, plan=plan)


def now_of(clinic, subscription) -> ClinicSubscription:
    with clinic_scope(clinic):
        return ClinicSubscription.objects.get(pk=subscription.pk)


def mode(clinic):
    with clinic_scope(clinic):
        return clinic_mode(clinic.pk)


def test_the_owner_subscribes_through_a_razorpay_checkout_link(
    clinic, owner, plan, live_platform, client_for
):
    answer = client_for(owner).post(
        reverse("subscription-start", args=[clinic.slug]), {"plan": plan.pk}
    )
    with clinic_scope(clinic):
        subscription = ClinicSubscription.objects.get()
    assert answer.status_code == 302 and answer["Location"] == subscription.short_url
    assert subscription.short_url.startswith(live_platform.base_url + "/subscribe/sub_")
    plan.refresh_from_db()
    remote = live_platform.subscription(subscription.razorpay_subscription_id)
    assert remote["plan_id"] == plan.razorpay_plan_id
    assert live_platform.state.plans[plan.razorpay_plan_id]["item"]["amount"] == 1_18_000
    assert remote["notes"] == {"clinic": str(clinic.pk)}
    page = client_for(owner).get(reverse("subscription", args=[clinic.slug])).content.decode()
    assert "Waiting for the owner to authorise" in page
    # A second subscription while this one runs is refused with a clear message.
    with pytest.raises(Conflict, match="already has a subscription"):
        subscribe(clinic, owner, plan)


STEPS = [
    # step in the simulator, status after it, read-only right after it
    ("authenticate", SubStatus.AUTHENTICATED, False),
    ("charge", SubStatus.ACTIVE, False),
    ("fail", SubStatus.PENDING, False),  # within the grace period
    ("halt", SubStatus.HALTED, False),
    ("charge", SubStatus.ACTIVE, False),  # paid: the failure is forgotten
    ("pause", SubStatus.PAUSED, True),
    ("resume", SubStatus.ACTIVE, False),
    ("complete", SubStatus.COMPLETED, True),
]


def test_every_state_from_razorpays_events(clinic, owner, plan, live_platform):
    subscription = subscribe(clinic, owner, plan)
    sub_id = subscription.razorpay_subscription_id
    seen = []
    for step, status, read_only in STEPS:
        sent = live_platform.subscription_step(sub_id, step)
        assert sent and all(d.status == 200 for d in sent), (step, sent)
        now = now_of(clinic, subscription)
        seen.append((step, now.status, mode(clinic).read_only))
        assert (now.status, mode(clinic).read_only) == (status, read_only), step
    final = now_of(clinic, subscription)
    assert final.charges == 2 and final.payment_failed_at is None
    with clinic_scope(clinic):
        changes = AuditEvent.objects.filter(action="billing.subscription.status_changed").count()
    assert changes == len(STEPS)


def test_cancelled_and_expired(clinic, owner, plan, live_platform, client_for):
    first = subscribe(clinic, owner, plan)
    live_platform.subscription_step(first.razorpay_subscription_id, "expire")
    assert now_of(clinic, first).status == SubStatus.EXPIRED
    assert mode(clinic).subscription is None and not mode(clinic).read_only  # as never subscribed

    second = subscribe(clinic, owner, plan)
    live_platform.subscription_step(second.razorpay_subscription_id, "authenticate")
    live_platform.subscription_step(second.razorpay_subscription_id, "charge")
    answer = client_for(owner).post(
        reverse("subscription-cancel", args=[clinic.slug]), {"when": "now"}
    )
    assert answer.status_code == 302
    assert now_of(clinic, second).status == SubStatus.CANCELLED
    assert mode(clinic).read_only
    page = client_for(owner).get(reverse("subscription", args=[clinic.slug])).content.decode()
    assert "Cancelled: the clinic is read-only" in page
    # The webhook that follows the cancellation changes nothing more.
    assert [d.status for d in live_platform.send_api_webhooks()] == [200]
    assert now_of(clinic, second).status == SubStatus.CANCELLED


def test_a_late_event_does_not_move_the_state_back(clinic, owner, plan, live_platform):
    subscription = subscribe(clinic, owner, plan)
    sub_id = subscription.razorpay_subscription_id
    live_platform.subscription_step(sub_id, "authenticate")
    live_platform.subscription_step(sub_id, "charge")
    live_platform.configure_webhooks(hold=True)
    live_platform.subscription_step(sub_id, "fail")  # pending
    live_platform.subscription_step(sub_id, "charge")  # paid again
    live_platform.release_webhooks(reverse=True)  # charged arrives before pending
    now = now_of(clinic, subscription)
    assert now.status == SubStatus.ACTIVE and now.payment_failed_at is None
    with clinic_scope(clinic):
        assert PlatformInvoice.objects.count() == 2  # the late charge still gets its invoice


def test_grace_period_then_read_only_then_back_to_normal(
    clinic, owner, plan, live_platform, client_for, api_client_for, settings
):
    settings.SUBSCRIPTION_GRACE_DAYS = 3
    subscription = subscribe(clinic, owner, plan)
    sub_id = subscription.razorpay_subscription_id
    for step in ("authenticate", "charge", "fail"):
        live_platform.subscription_step(sub_id, step)
    web, api = client_for(owner), api_client_for(clinic)
    settings_url = reverse("clinic-settings", args=[clinic.slug])
    assert not mode(clinic).read_only and mode(clinic).grace_until is not None
    page = web.get(reverse("subscription", args=[clinic.slug])).content.decode()
    assert "The grace period ends on" in page

    # The grace period runs out.
    with clinic_scope(clinic):
        ClinicSubscription.objects.filter(pk=subscription.pk).update(
            payment_failed_at=timezone.now() - timedelta(days=3, minutes=1)
        )
    assert mode(clinic).read_only
    refused = web.post(settings_url, {"name": "Renamed"})
    assert refused.status_code == 403
    assert "changes are paused until it is paid" in refused.content.decode()
    assert web.get(settings_url).status_code == 200  # reading goes on
    assert api.get("/api/v1/patients/").status_code == 200
    api_refused = api.post("/api/v1/patients/", {}, format="json")
    assert api_refused.status_code == 403
    assert "changes are paused" in api_refused.json()["detail"]
    # The owner can still check with Razorpay from the subscription page.
    assert web.post(reverse("subscription-refresh", args=[clinic.slug])).status_code == 302

    live_platform.subscription_step(sub_id, "charge")  # the retry succeeds
    assert not mode(clinic).read_only
    assert web.post(settings_url, {"name": ""}).status_code != 403


def test_a_lost_subscription_webhook_is_repaired_by_reconciliation(
    clinic, owner, plan, live_platform
):
    from billing.subscriptions.tasks import reconcile_subscriptions

    subscription = subscribe(clinic, owner, plan)
    live_platform.configure_webhooks(drop_next=5)
    live_platform.subscription_step(subscription.razorpay_subscription_id, "authenticate")
    live_platform.subscription_step(subscription.razorpay_subscription_id, "charge")
    assert now_of(clinic, subscription).status == SubStatus.CREATED
    assert reconcile_subscriptions() == 1
    assert now_of(clinic, subscription).status == SubStatus.ACTIVE


def test_the_plan_limits_doctors_with_a_clear_message(clinic, owner, plan, live_platform):
    from tests.factories import MembershipFactory

    MembershipFactory(clinic=clinic, role=Role.DOCTOR)
    desk = MembershipFactory(clinic=clinic, role=Role.FRONT_DESK)
    # Without a subscription there is no limit.
    with clinic_scope(clinic):
        invitation_create(clinic=clinic, actor=owner.user, email="dr2@example.in", role="doctor")
    subscribe(clinic, owner, plan)
    with clinic_scope(clinic), pytest.raises(LimitReached, match=r"allows 1 doctors"):
        invitation_create(clinic=clinic, actor=owner.user, email="dr3@example.in", role="doctor")
    with clinic_scope(clinic), pytest.raises(LimitReached):
        membership_change_role(membership=desk, actor=owner.user, role=Role.DOCTOR)
    with clinic_scope(clinic):
        invitation_create(clinic=clinic, actor=owner.user, email="fd@example.in", role="billing")


@pytest.mark.parametrize(
    ("operator_state", "heads"),
    [
        ("29", {"cgst": 9_000, "sgst": 9_000, "igst": 0}),
        ("27", {"cgst": 0, "sgst": 0, "igst": 18_000}),
    ],
)
def test_each_charge_gets_the_installations_tax_invoice(
    clinic, owner, plan, live_platform, settings, operator_state, heads
):
    settings.OPERATOR_GSTIN = "29ABCDE1234F1Z5"
    settings.OPERATOR_STATE_CODE = operator_state
    subscription = subscribe(clinic, owner, plan)
    for step in ("authenticate", "charge", "charge"):
        live_platform.subscription_step(subscription.razorpay_subscription_id, step)
    with clinic_scope(clinic):
        invoices = list(PlatformInvoice.objects.order_by("sequence"))
    assert [i.sequence for i in invoices] == [1, 2]
    first = invoices[0]
    assert len(first.number) <= 16 and first.number.startswith(f"S{clinic.pk:05d}/")
    assert first.taxable_paise == 1_00_000 and first.total_paise == 1_18_000
    assert (first.cgst_paise, first.sgst_paise, first.igst_paise) == (
        heads["cgst"],
        heads["sgst"],
        heads["igst"],
    )
    assert first.operator_gstin == "29ABCDE1234F1Z5" and first.clinic_state_code == "29"


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.FRONT_DESK, Role.BILLING, Role.ASSISTANT])
def test_only_the_owner_manages_the_subscription(clinic, member_factory, client_for, plan, role):
    web = client_for(member_factory(clinic, role))
    assert web.get(reverse("subscription", args=[clinic.slug])).status_code == 403
    answer = web.post(reverse("subscription-start", args=[clinic.slug]), {"plan": plan.pk})
    assert answer.status_code == 403
    with clinic_scope(clinic):
        assert not ClinicSubscription.objects.exists()


def test_without_a_subscription_nothing_changes(clinic, owner, client_for):
    assert not mode(clinic).read_only
    page = client_for(owner).get(reverse("subscription", args=[clinic.slug])).content.decode()
    assert "No subscription: Vaidya works without limits." in page


def test_the_owner_downloads_the_installations_invoice_as_a_pdf(
    clinic, owner, plan, live_platform, client_for, settings
):
    settings.OPERATOR_GSTIN = "29ABCDE1234F1Z5"
    subscription = subscribe(clinic, owner, plan)
    for step in ("authenticate", "charge"):
        live_platform.subscription_step(subscription.razorpay_subscription_id, step)
    with clinic_scope(clinic):
        invoice = PlatformInvoice.objects.get()
    page = client_for(owner).get(reverse("subscription", args=[clinic.slug])).content.decode()
    assert invoice.number in page and "Rs 1,180.00" in page
    answer = client_for(owner).get(reverse("platform-invoice-pdf", args=[clinic.slug, invoice.pk]))
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("clinic_id", "sequence", "number"),
    [
        (12, 1, "S00012/2627/0001"),
        (99_999, 12, "S99999/2627/0012"),
        (100_000, 1, "X0255S/2627/0001"),  # past five decimal digits: base 36
        (36**5 - 1, 9999, "XZZZZZ/2627/9999"),
    ],
)
def test_installation_invoice_numbers_keep_to_sixteen_characters(clinic_id, sequence, number):
    import re

    from billing.subscriptions.invoices import invoice_number

    made = invoice_number(clinic_id, "2026-27", sequence)
    assert made == number
    assert len(made) <= 16 and re.fullmatch(r"[A-Z0-9/-]+", made)


def test_an_invoice_number_that_cannot_fit_is_refused_not_cut():
    from billing.subscriptions.invoices import invoice_number

    with pytest.raises(ValueError, match="does not fit"):
        invoice_number(36**5, "2026-27", 1)
    with pytest.raises(ValueError, match="does not fit"):
        invoice_number(12, "2026-27", 10_000)
