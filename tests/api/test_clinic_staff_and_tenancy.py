"""The clinic and staff endpoints, and another clinic's objects answering 404 everywhere."""

from __future__ import annotations

from datetime import date

import pytest

from clinics.api.serializers import ClinicSerializer, MembershipSerializer
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.models import Guardian, Patient
from tests.api.conftest import assert_error, detail_url
from tests.factories import DoctorProfileFactory, GuardianFactory, PatientFactory


def test_clinic_is_the_keys_clinic(clinic, other_clinic, api_client_for):
    clinic.gstin = "29ABCDE1234F1Z5"
    clinic.save()
    body = api_client_for(clinic, role=Role.BILLING, read_only=True).get("/api/v1/clinic/").json()
    assert set(body) == set(ClinicSerializer().fields)
    assert body["id"] == clinic.pk
    assert body["slug"] == "asha"
    assert body["state_name"] == "Karnataka"
    assert body["phone"] == "+918041234567"
    assert body["timezone"] == "Asia/Kolkata"
    assert body["require_two_factor"] is False
    assert api_client_for(other_clinic).get("/api/v1/clinic/").json()["slug"] == "other"


def test_staff_list_and_detail(clinic, other_clinic, api_client_for, member_factory):
    owner = member_factory(clinic, Role.OWNER)
    doctor = DoctorProfileFactory(
        membership__clinic=clinic, membership__user__full_name="Dr Meera Nair"
    )
    gone = member_factory(clinic, Role.FRONT_DESK, is_active=False)
    elsewhere = member_factory(other_clinic, Role.OWNER)
    api = api_client_for(clinic, role=Role.FRONT_DESK)

    rows = api.get("/api/v1/staff/").json()
    assert {r["id"] for r in rows} == {owner.pk, doctor.membership_id, gone.pk}
    assert rows[-1]["id"] == gone.pk  # active staff first
    assert set(rows[0]) == set(MembershipSerializer().fields)

    body = api.get(f"/api/v1/staff/{doctor.membership_id}/").json()
    assert body["full_name"] == "Dr Meera Nair"
    assert body["role"] == "doctor"
    assert body["doctor"]["registration_number"] == doctor.registration_number
    assert body["doctor"]["medical_council"] == "Karnataka Medical Council"
    assert api.get(f"/api/v1/staff/{owner.pk}/").json()["doctor"] is None
    assert api.get(f"/api/v1/staff/{gone.pk}/").json()["is_active"] is False
    assert_error(api.get(f"/api/v1/staff/{elsewhere.pk}/"), 404, "not_found")


@pytest.fixture
def elsewhere(other_clinic):
    """A patient of another clinic, with a guardian."""
    with clinic_scope(other_clinic):
        child = PatientFactory(clinic=other_clinic, date_of_birth=date(2018, 1, 1))
        GuardianFactory(patient=child, clinic=other_clinic)
    return child


ROUTES = [
    ("get", ""),
    ("patch", ""),
    ("post", "archive/"),
    ("post", "restore/"),
    ("get", "guardians/"),
    ("post", "guardians/"),
]


@pytest.mark.parametrize(("method", "suffix"), ROUTES)
def test_another_clinics_patient_is_404_on_every_route(
    api, other_clinic, elsewhere, method, suffix
):
    payload = {
        "": {"full_name": "Changed"},
        "guardians/": {"name": "New Guardian", "relation": "father", "phone": "98450 10101"},
    }.get(suffix)
    response = getattr(api, method)(detail_url(elsewhere.pk, suffix), payload, format="json")
    body = assert_error(response, 404, "not_found")
    assert "patient" in body["detail"]
    with clinic_scope(other_clinic):
        patient = Patient.objects.get(pk=elsewhere.pk)
        assert patient.full_name != "Changed"
        assert patient.archived_at is None
        assert Guardian.objects.filter(patient=patient).count() == 1


def test_another_clinics_patient_cannot_be_a_guardian(api, make_patient, other_clinic):
    child = make_patient(date_of_birth=date(2018, 1, 1))
    stranger = make_patient(other_clinic)
    response = api.post(
        detail_url(child.pk, "guardians/"),
        {"guardian_patient_id": stranger.pk, "relation": "father"},
        format="json",
    )
    assert "No such patient" in assert_error(response, 400)["fields"]["guardian_patient_id"][0]
