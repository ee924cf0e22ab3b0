"""/api/v1/rights-requests/: record (idempotent), list, read, move (POST .../status/);
tenancy and roles."""

from __future__ import annotations

import pytest

from clinics.roles import Role
from clinics.tenancy import clinic_scope
from compliance.models import RightsRequest
from tests.api.conftest import assert_error

URL = "/api/v1/rights-requests/"


@pytest.fixture
def patient(clinic, make_patient):
    return make_patient(full_name="Ravi Kumar")


def test_record_read_list_and_move(clinic, api, patient):
    body = {"kind": "access", "patient": patient.pk, "records_copy": True, "details": "A copy"}
    first = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="rr-1")
    assert first.status_code == 201, first.content
    again = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="rr-1")
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    created = first.json()
    assert created["reference"].startswith("DR-") and created["channel"] == "api"
    assert created["status"] == "received" and created["patient"] == patient.pk
    with clinic_scope(clinic):
        assert RightsRequest.objects.count() == 1
    assert api.get(f"{URL}{created['id']}/").json()["reference"] == created["reference"]
    assert [r["id"] for r in api.get(URL).json()["results"]] == [created["id"]]
    # Work needs identity checked first; an illegal move is a 409 in the error shape.
    assert_error(
        api.post(f"{URL}{created['id']}/status/", {"status": "in_progress"}, format="json"),
        400,
        "not_verified",
    )
    assert_error(
        api.post(f"{URL}{created['id']}/status/", {"status": "awaiting_approval"}, format="json"),
        409,
    )
    withdrawn = api.post(f"{URL}{created['id']}/status/", {"status": "withdrawn"}, format="json")
    assert withdrawn.status_code == 200 and withdrawn.json()["closed_at"]


def test_answers_need_the_privacy_contact(clinic, api, patient):
    created = api.post(URL, {"kind": "grievance", "patient": patient.pk}, format="json").json()
    api.post(f"{URL}{created['id']}/status/", {"status": "in_progress"}, format="json")
    done = {"status": "done", "reply": "We are sorry."}
    assert_error(
        api.post(f"{URL}{created['id']}/status/", done, format="json"),
        400,
        "privacy_contact_missing",
    )
    clinic.privacy_contact_name = "Meera Iyer"
    clinic.privacy_contact_email = "privacy@asha.example"
    clinic.save()
    answered = api.post(f"{URL}{created['id']}/status/", done, format="json").json()
    assert "Meera Iyer" in answered["reply"] and "Data Protection Board" in answered["reply"]


def test_bad_input_is_a_clear_400(api, patient):
    assert_error(api.post(URL, {"kind": "gossip", "patient": patient.pk}, format="json"), 400)
    assert_error(api.post(URL, {"kind": "access"}, format="json"), 400)
    assert_error(api.post(URL, {"kind": "access", "extra": 1}, format="json"), 400)


def test_another_clinics_patient_and_request_are_not_found(
    clinic, other_clinic, api, make_patient, api_client_for
):
    theirs = make_patient(other_clinic)
    refused = api.post(URL, {"kind": "access", "patient": theirs.pk}, format="json")
    assert assert_error(refused, 400)["fields"] == {"patient": ["No such patient at this clinic."]}
    other_api = api_client_for(other_clinic, role=Role.OWNER)
    their_request = other_api.post(URL, {"kind": "access", "patient": theirs.pk}, format="json")
    rid = their_request.json()["id"]
    assert_error(api.get(f"{URL}{rid}/"), 404)
    assert_error(api.post(f"{URL}{rid}/status/", {"status": "withdrawn"}, format="json"), 404)


def test_roles(clinic, api_client_for, patient):
    desk = api_client_for(clinic, role=Role.FRONT_DESK)
    created = desk.post(URL, {"kind": "access", "patient": patient.pk}, format="json")
    assert created.status_code == 201
    assert_error(desk.get(URL), 403)
    doctor = api_client_for(clinic, role=Role.DOCTOR, read_only=True)
    assert doctor.get(URL).status_code == 200
    assert_error(
        doctor.post(f"{URL}{created.json()['id']}/status/", {"status": "withdrawn"}, format="json"),
        403,
    )


def test_a_grievance_from_someone_who_is_not_a_patient(api):
    body = {
        "kind": "grievance",
        "requester": "other",
        "requester_name": "Sunil Verma",
        "requester_email": "sunil@example.com",
        "details": "My mother's report was read aloud.",
    }
    created = api.post(URL, body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["patient"] is None and created.json()["reference"].startswith("DR-")
    no_contact = {k: v for k, v in body.items() if k != "requester_email"}
    refused = assert_error(api.post(URL, no_contact, format="json"), 400)
    assert "requester_phone" in refused["fields"] and "requester_email" in refused["fields"]
    bad_email = {**body, "requester_email": "sunil@"}
    assert "requester_email" in assert_error(api.post(URL, bad_email, format="json"), 400)["fields"]
    long_email = {**body, "requester_email": "s" * 250 + "@example.com"}
    assert_error(api.post(URL, long_email, format="json"), 400)
    not_grievance = {**body, "kind": "access"}  # someone not a patient only raises grievances
    assert_error(api.post(URL, not_grievance, format="json"), 400)
