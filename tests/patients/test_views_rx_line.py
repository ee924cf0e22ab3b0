"""Prescribing by one line in the visit editor: what it was read as, and Enter to add it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from patients import services
from patients.models import PrescriptionItem
from patients.services.prescriptions.formulary import formulary_starter_load
from tests.factories import DoctorProfileFactory, PatientFactory

pytestmark = pytest.mark.django_db


def url(clinic, name, *args):
    return reverse(name, args=[clinic.slug, *args])


def by(member):
    return {"actor": member.user, "actor_membership": member}


@pytest.fixture
def doctor(scoped):
    formulary_starter_load(clinic=scoped)
    return DoctorProfileFactory(membership__clinic=scoped).membership


@pytest.fixture
def draft(scoped, doctor):
    patient = PatientFactory(clinic=scoped, full_name="Kavya Reddy")
    return services.visit_start(clinic=scoped, **by(doctor), patient=patient, doctor=doctor)


def add_line(client, clinic, visit, line):
    return client.post(
        url(clinic, "visit-item-line", visit.pk), {"line": line}, HTTP_HX_REQUEST="true"
    )


def test_a_brand_line_adds_the_generic_with_the_brand_in_brackets(
    scoped, client_for, doctor, draft
):
    response = add_line(client_for(doctor), scoped, draft, "Dolo 650 1-0-1 5d after food")
    assert response.status_code == 200
    assert "Added PARACETAMOL 650 mg." in response.content.decode()
    item = PrescriptionItem.objects.get(prescription__visit=draft)
    assert (item.generic_name, item.strength, item.brand_name) == (
        "PARACETAMOL",
        "650 mg",
        "Dolo 650",
    )
    assert (item.frequency, item.duration_days, item.timing) == ("1-0-1", 5, "after_food")
    assert item.dose_amount == Decimal(1)


def test_a_syrup_line_keeps_its_dose_in_ml(scoped, client_for, doctor, draft):
    response = add_line(client_for(doctor), scoped, draft, "Syp Cetirizine 5 ml HS x 3 days")
    assert "Added CETIRIZINE" in response.content.decode()
    item = PrescriptionItem.objects.get(prescription__visit=draft)
    assert (item.form, item.dose_amount, item.dose_unit) == ("syrup", Decimal(5), "ml")
    assert (item.frequency, item.duration_days) == ("HS", 3)


def test_the_preview_says_what_the_line_was_read_as(scoped, client_for, doctor, draft):
    page = client_for(doctor).get(
        url(scoped, "visit-item-line-preview", draft.pk),
        {"line": "Tab Paracetamol 650 1-0-1 x 5 days after food"},
        HTTP_HX_REQUEST="true",
    )
    html = page.content.decode()
    assert "1-0-1: Morning and night" in html and "5 days" in html and "After food" in html
    assert "PARACETAMOL</strong> 650 mg tablet" in html
    assert "Press Enter to add it" in html
    assert not PrescriptionItem.objects.exists()  # reading adds nothing


def test_a_line_without_a_frequency_or_a_known_drug_says_what_is_missing(
    scoped, client_for, doctor, draft
):
    client = client_for(doctor)
    unknown = add_line(client, scoped, draft, "Tab Zzqxamol 500 1-0-1")
    assert unknown["HX-Retarget"] == "#rx-line-preview"
    assert "No drug on the clinic" in unknown.content.decode()
    no_frequency = add_line(client, scoped, draft, "Dolo 650 x 5 days")
    assert "Say how often" in no_frequency.content.decode()
    no_days = add_line(client, scoped, draft, "Tab Metformin 500 1-0-1 after meals")
    assert "Say for how many days" in no_days.content.decode()
    # SOS and STAT need no course length.
    assert "Added" in add_line(client, scoped, draft, "Tab Ondansetron 4 mg SOS").content.decode()
    assert PrescriptionItem.objects.count() == 1


def test_an_allergy_stops_a_line_as_it_stops_the_form(scoped, client_for, doctor, draft):
    services.patient_allergy_add(patient=draft.patient, actor=doctor.user, drug_class="nsaids")
    response = add_line(client_for(doctor), scoped, draft, "Tab Ibuprofen 400 1-0-1 x 3d")
    html = response.content.decode()
    assert "Add anyway, with my reason" in html and "NSAIDs" in html
    assert not PrescriptionItem.objects.exists()


def test_half_a_tablet_is_accepted_as_1_2_or_the_half_sign(scoped, client_for, doctor, draft):
    client = client_for(doctor)
    add_line(client, scoped, draft, "Tab Cetirizine 10 ½ tab HS x 3d")
    item = PrescriptionItem.objects.get(prescription__visit=draft)
    assert item.dose_amount == Decimal("0.5")
    # The seven-field form takes "1/2" and "½" too.
    response = client.post(
        url(scoped, "visit-item-update", draft.pk, item.pk),
        {"dose_amount": "1/2", "frequency": "BD", "duration_days": 3},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    item.refresh_from_db()
    assert (item.dose_amount, item.frequency) == (Decimal("0.5"), "BD")
