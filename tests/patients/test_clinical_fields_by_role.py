"""Allergies and long-term conditions are clinical information (item 13 of issue 18).

Owners, doctors and assistants (`clinical.view`) read and record them; front desk and billing
see only that an allergy alert exists, on the page and in the API, and cannot type them.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.models import Patient
from tests.factories import PatientFactory

ALLERGY = "Penicillin rash"
CONDITION = "Type 2 diabetes"
CLINICAL = (Role.OWNER, Role.DOCTOR, Role.ASSISTANT)
NOT_CLINICAL = (Role.FRONT_DESK, Role.BILLING)
EVERY_ROLE = CLINICAL + NOT_CLINICAL


@pytest.fixture
def patient(clinic):
    with clinic_scope(clinic):
        return PatientFactory(clinic=clinic, allergies=ALLERGY, chronic_conditions=CONDITION)


def page_url(clinic, name, *args):
    return reverse(name, args=[clinic.slug, *args])


def reload(patient) -> Patient:
    with clinic_scope(patient.clinic_id):
        return Patient.objects.get(pk=patient.pk)


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_patient_page_shows_allergies_and_conditions_only_to_clinical_roles(
    clinic, patient, member_factory, client_for, role
):
    client = client_for(member_factory(clinic, role))
    page = client.get(page_url(clinic, "patient-detail", patient.pk)).content.decode()

    if role in CLINICAL:
        assert ALLERGY in page
        assert CONDITION in page
        assert "Long-term conditions" in page
    else:
        assert ALLERGY not in page
        assert CONDITION not in page
        assert "Long-term conditions" not in page
        assert "Allergy alert" in page
        assert "Ask the doctor" in page


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_api_detail_carries_allergies_and_conditions_only_for_clinical_roles(
    clinic, patient, api_client_for, role
):
    body = api_client_for(clinic, role=role).get(f"/api/v1/patients/{patient.pk}/").json()

    assert body["has_allergy_alert"] is True
    if role in CLINICAL:
        assert body["allergies"] == ALLERGY
        assert body["chronic_conditions"] == CONDITION
    else:
        assert "allergies" not in body
        assert "chronic_conditions" not in body
        assert ALLERGY not in str(body)
        assert CONDITION not in str(body)


def test_api_detail_has_no_alert_without_allergies(clinic, api_client_for):
    with clinic_scope(clinic):
        plain = PatientFactory(clinic=clinic, allergies="", chronic_conditions=CONDITION)
    client = api_client_for(clinic, role=Role.FRONT_DESK)
    assert client.get(f"/api/v1/patients/{plain.pk}/").json()["has_allergy_alert"] is False


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_api_list_never_carries_allergies_or_conditions(clinic, patient, api_client_for, role):
    body = api_client_for(clinic, role=role).get("/api/v1/patients/").json()
    assert body["results"]
    assert ALLERGY not in str(body)
    assert CONDITION not in str(body)


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_patient_list_page_never_shows_allergies_or_conditions(
    clinic, patient, member_factory, client_for, role
):
    client = client_for(member_factory(clinic, role))
    page = client.get(page_url(clinic, "patient-list")).content.decode()
    assert patient.full_name in page
    assert ALLERGY not in page
    assert CONDITION not in page


@pytest.mark.parametrize("role", (*CLINICAL, Role.FRONT_DESK))
def test_edit_form_offers_allergies_and_conditions_only_to_clinical_roles(
    clinic, patient, member_factory, client_for, role
):
    client = client_for(member_factory(clinic, role))
    page = client.get(page_url(clinic, "patient-edit", patient.pk)).content.decode()

    if role in CLINICAL:
        assert ALLERGY in page
        assert CONDITION in page
        assert 'name="allergies"' in page
    else:
        assert ALLERGY not in page
        assert CONDITION not in page
        assert 'name="allergies"' not in page
        assert 'name="chronic_conditions"' not in page


def test_front_desk_edit_keeps_allergies_and_cannot_change_them(
    clinic, patient, member_factory, client_for
):
    client = client_for(member_factory(clinic, Role.FRONT_DESK))
    response = client.post(
        page_url(clinic, "patient-edit", patient.pk),
        {
            "full_name": patient.full_name,
            "sex": patient.sex,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "phone": str(patient.phone),
            "city": "Hubballi",
            "allergies": "",
            "chronic_conditions": "",
        },
    )
    assert response.status_code == 302
    saved = reload(patient)
    assert saved.city == "Hubballi"
    assert saved.allergies == ALLERGY
    assert saved.chronic_conditions == CONDITION


def test_front_desk_registration_does_not_take_allergies(clinic, member_factory, client_for):
    client = client_for(member_factory(clinic, Role.FRONT_DESK))
    form_page = client.get(page_url(clinic, "patient-create")).content.decode()
    assert 'name="allergies"' not in form_page
    assert "recorded by the doctor or nurse" in form_page


def test_api_refuses_allergies_from_front_desk(clinic, patient, api_client_for):
    # Billing may not edit patients at all (patients.edit); front desk may, but not these.
    client = api_client_for(clinic, role=Role.FRONT_DESK)
    response = client.patch(
        f"/api/v1/patients/{patient.pk}/", {"allergies": "Sulfa"}, format="json"
    )
    assert response.status_code == 400
    assert "allergies" in response.json()["fields"]
    assert reload(patient).allergies == ALLERGY

    created = client.post(
        "/api/v1/patients/",
        {
            "full_name": "Meena Rao",
            "sex": "F",
            "age_years": 40,
            "phone": "98450 44444",
            "chronic_conditions": "Asthma",
        },
        format="json",
    )
    assert created.status_code == 400
    assert "chronic_conditions" in created.json()["fields"]


def test_api_lets_a_doctor_record_allergies(clinic, patient, api_client_for):
    client = api_client_for(clinic, role=Role.DOCTOR)
    response = client.patch(
        f"/api/v1/patients/{patient.pk}/", {"allergies": "Sulfa"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["allergies"] == "Sulfa"


def test_openapi_schema_documents_the_alert_and_optional_clinical_fields():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    patient = schema["components"]["schemas"]["Patient"]
    assert "has_allergy_alert" in patient["properties"]
    assert "has_allergy_alert" in patient["required"]
    assert "allergies" not in patient["required"]
    assert "chronic_conditions" not in patient["required"]
    assert "clinical.view" in patient["properties"]["allergies"]["description"]
