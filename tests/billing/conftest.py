from __future__ import annotations

import pytest

from billing.models import BillingProfile, CatalogueItem, GstTreatment, ItemKind
from billing.services import LineDraft, bill_draft_create, bill_issue
from clinics.roles import Role
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
