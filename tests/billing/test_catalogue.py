"""The catalogue, the GST profile, the starter catalogue and the visit's pre-filled bill."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import CatalogueItem, ItemKind
from billing.selectors.catalogue import gst_profile_warning
from billing.selectors.visits import visit_bill_lines
from billing.services import bill_for_visit
from billing.services.catalogue import billing_profile_save, catalogue_item_save
from clinics.errors import NotAllowed, ValidationFailed
from clinics.services import clinic_create
from clinics.tenancy import clinic_scope
from patients.models import ProcedureDone, Visit
from tests.billing.conftest import GSTIN_KA, GSTIN_MH
from tests.factories import UserFactory


def test_gstin_is_validated_with_its_checksum_and_state(scoped, owner):
    with pytest.raises(ValidationFailed) as caught:
        billing_profile_save(
            clinic=scoped,
            actor=owner.user,
            gst_registered=True,
            gstin="29AAPFU0939F1ZX",
            legal_name="Asha LLP",
        )
    assert "gstin" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:  # a Maharashtra GSTIN for Karnataka
        billing_profile_save(
            clinic=scoped,
            actor=owner.user,
            gst_registered=True,
            gstin=GSTIN_MH,
            legal_name="Asha LLP",
            state_code="29",
        )
    assert "state" in caught.value.errors["gstin"][0]
    profile = billing_profile_save(
        clinic=scoped,
        actor=owner.user,
        gst_registered=True,
        gstin=GSTIN_KA.lower(),
        legal_name="Asha LLP",
    )
    assert profile.gstin == GSTIN_KA and profile.state_code == "29"


def test_warning_when_taxable_items_but_no_registration(scoped, owner, items):
    assert "GST registration" in gst_profile_warning(clinic_id=scoped.pk)
    billing_profile_save(
        clinic=scoped, actor=owner.user, gst_registered=True, gstin=GSTIN_KA, legal_name="Asha LLP"
    )
    assert gst_profile_warning(clinic_id=scoped.pk) == ""


def test_catalogue_item_rules(scoped, owner, front_desk):
    values = {
        "kind": ItemKind.PROCEDURE,
        "name": "Suturing",
        "price_paise": 50000,
        "code": "999311",
    }
    item = catalogue_item_save(clinic=scoped, actor=owner.user, values=values)
    assert item.gst_treatment == "exempt"
    with pytest.raises(ValidationFailed) as caught:
        catalogue_item_save(clinic=scoped, actor=owner.user, values={**values, "price_paise": -1})
    assert "price_paise" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        catalogue_item_save(clinic=scoped, actor=owner.user, values={**values, "price_paise": 1.5})
    with pytest.raises(ValidationFailed) as caught:
        catalogue_item_save(clinic=scoped, actor=owner.user, values={**values, "gst_rate_bp": 500})
    assert "gst_rate_bp" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        catalogue_item_save(
            clinic=scoped, actor=owner.user, values={**values, "kind": ItemKind.CONSULTATION}
        )
    assert "doctor_id" in caught.value.errors
    with pytest.raises(NotAllowed):
        catalogue_item_save(clinic=scoped, actor=front_desk.user, values=values)


def test_a_new_clinic_starts_with_a_catalogue(db):
    clinic = clinic_create(name="New Clinic", state_code="29", owner=UserFactory())
    with clinic_scope(clinic):
        kinds = set(CatalogueItem.objects.values_list("kind", flat=True))
    assert {ItemKind.PROCEDURE, ItemKind.LAB_TEST, ItemKind.PHARMACY} <= kinds


def _visit(patient, doctor, *, days_ago: int = 0) -> Visit:
    return Visit.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        doctor=doctor,
        created_at=timezone.now() - timedelta(days=days_ago),
    )


def test_first_visit_then_free_follow_up_then_paid_follow_up(patient, doctor, items):
    first = _visit(patient, doctor, days_ago=30)
    (line,) = visit_bill_lines(visit=first)
    assert line.unit_price_paise is None and "first visit" in line.description
    within = _visit(patient, doctor, days_ago=25)  # 5 days later: inside the 7-day window
    (line,) = visit_bill_lines(visit=within)
    assert line.unit_price_paise == 0 and "free" in line.description
    later = _visit(patient, doctor)  # 25 days after the last: a paid follow-up
    (line,) = visit_bill_lines(visit=later)
    assert line.unit_price_paise == 30000


def test_visit_bill_is_pre_filled_and_made_once(patient, doctor, items, biller):
    visit = _visit(patient, doctor)
    ProcedureDone.objects.create(clinic_id=patient.clinic_id, visit=visit, name="dressing")
    ProcedureDone.objects.create(clinic_id=patient.clinic_id, visit=visit, name="Ear wax removal")
    bill = bill_for_visit(visit=visit, actor=biller.user)
    lines = list(bill.lines.order_by("position"))
    assert [x.description for x in lines] == [
        "Consultation (first visit)",
        "Dressing",
        "Ear wax removal",
    ]
    assert [x.unit_price_paise for x in lines] == [50000, 20000, 0]  # unknown: for staff to price
    assert bill_for_visit(visit=visit, actor=biller.user).pk == bill.pk
    assert CatalogueItem.objects.count() == 4
