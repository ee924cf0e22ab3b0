"""Billing fixtures: a clinic's GST profile, catalogue and bills; and Razorpay over real HTTP
(the simulator on a free port, the SDK pointed at it, and for the webhook tests the app on a
live server that the simulator posts to)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.urls import reverse

from billing.models import BillingProfile, CatalogueItem, GstTreatment, ItemKind
from billing.razorpay.accounts import razorpay_account_save
from billing.razorpay.handlers import PaymentLinkHandler, payment_link_handlers
from billing.services import LineDraft, bill_draft_create, bill_issue
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from devtools.razorpay_simulator import Simulator, running_simulator
from tests.factories import DoctorProfileFactory, MembershipFactory, PatientFactory

GSTIN_KA = "29AAPFU0939F1ZR"  # the test clinic is in Karnataka (29)
GSTIN_MH = "27AAPFU0939F1ZV"


@pytest.fixture
def biller(scoped):
    return MembershipFactory(clinic=scoped, role=Role.BILLING)


@pytest.fixture
def front_desk(scoped):
    return MembershipFactory(clinic=scoped, role=Role.FRONT_DESK)


@pytest.fixture
def doctor(scoped):
    return DoctorProfileFactory(membership__clinic=scoped).membership


@pytest.fixture
def patient(scoped):
    return PatientFactory(clinic=scoped, full_name="Kavya Reddy", state_code="29")


@pytest.fixture
def registered(scoped):
    return BillingProfile.objects.create(
        clinic=scoped,
        gst_registered=True,
        gstin=GSTIN_KA,
        legal_name="Asha Family Clinic LLP",
        state_code="29",
        upi_vpa="asha@okbank",
        upi_payee_name="Asha Clinic",
    )


@pytest.fixture
def items(scoped, doctor):
    def make(kind, name, price, treatment=GstTreatment.EXEMPT, rate=0, **kw):
        return CatalogueItem.objects.create(
            clinic=scoped,
            kind=kind,
            name=name,
            price_paise=price,
            gst_treatment=treatment,
            gst_rate_bp=rate,
            **kw,
        )

    return {
        "consultation": make(
            ItemKind.CONSULTATION,
            "Consultation",
            50000,
            doctor=doctor,
            code="999312",
            follow_up_price_paise=30000,
            free_follow_up_days=7,
        ),
        "dressing": make(ItemKind.PROCEDURE, "Dressing", 20000, code="999311"),
        "paracetamol": make(
            ItemKind.PHARMACY,
            "Paracetamol 500 mg strip",
            2000,
            GstTreatment.TAXABLE,
            500,
            code="3004",
            unit="strip",
        ),
        "cosmetic": make(ItemKind.OTHER, "Laser hair removal", 200000, GstTreatment.TAXABLE, 1800),
    }


@pytest.fixture
def issued(biller, patient, items, registered, django_capture_on_commit_callbacks):
    """An issued invoice-cum-bill of supply: consultation Rs 500 + 2 strips at Rs 20 (5%)."""
    with django_capture_on_commit_callbacks(execute=True):
        bill = bill_draft_create(
            patient=patient,
            actor=biller.user,
            lines=[
                LineDraft(item_id=items["consultation"].pk),
                LineDraft(item_id=items["paracetamol"].pk, quantity=2),
            ],
        )
        bill = bill_issue(bill=bill, actor=biller.user)
    bill.refresh_from_db()
    return bill


KEY_ID = "rzp_test_asha000001"
KEY_SECRET = "asha-key-secret-123"
WEBHOOK_SECRET = "asha-webhook-secret-456"
PLATFORM_KEY_ID = "rzp_live_vaidyaplatform"
PLATFORM_KEY_SECRET = "platform-key-secret-789"
PLATFORM_WEBHOOK_SECRET = "platform-webhook-secret-012"


@pytest.fixture
def sim(settings) -> Iterator[Simulator]:
    with running_simulator(timeout=15, hold_api_webhooks=True) as simulator:
        settings.RAZORPAY_API_BASE_URL = simulator.base_url
        settings.SITE_URL = "http://testserver"
        yield simulator


@pytest.fixture
def rzp_account(clinic, owner, sim):
    """The clinic's Razorpay account, known to the simulator (webhooks go nowhere yet)."""
    with clinic_scope(clinic):
        account = razorpay_account_save(
            clinic=clinic,
            actor=owner.user,
            key_id=KEY_ID,
            key_secret=KEY_SECRET,
            webhook_secret=WEBHOOK_SECRET,
        )
    sim.add_account(KEY_ID, KEY_SECRET, webhook_secret=WEBHOOK_SECRET)
    return account


def webhook_path(account) -> str:
    return reverse("razorpay-webhook", kwargs={"webhook_key": account.webhook_key})


@pytest.fixture
def live_webhooks(sim, rzp_account, live_server):
    """The simulator's webhooks for the clinic's account go to the live app."""
    sim.state.accounts[KEY_ID].webhook_url = live_server.url + webhook_path(rzp_account)
    return sim


@pytest.fixture
def paid_owners():
    """A payment link owner that records what it was told."""
    told: list[tuple[str, int, str]] = []
    entry = PaymentLinkHandler(
        name="tests.bill",
        order=1,
        on_paid=lambda link, amount, payment_id: told.append(
            (link.reference_id, amount, payment_id)
        ),
    )
    payment_link_handlers.register(entry)
    yield told
    payment_link_handlers.unregister(entry.name)


@pytest.fixture
def platform(settings, sim):
    settings.RAZORPAY_PLATFORM_KEY_ID = PLATFORM_KEY_ID
    settings.RAZORPAY_PLATFORM_KEY_SECRET = PLATFORM_KEY_SECRET
    settings.RAZORPAY_PLATFORM_WEBHOOK_SECRET = PLATFORM_WEBHOOK_SECRET
    return sim.add_account(
        PLATFORM_KEY_ID, PLATFORM_KEY_SECRET, webhook_secret=PLATFORM_WEBHOOK_SECRET
    )
