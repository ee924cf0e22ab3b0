"""/api/v1/rights-requests/{id}/corrections/: the proposed changes of a correction request,
and approving or refusing one, through the same service as the rights desk: role rules,
a signed visit corrected only by its amendment, 409 when decided twice, 404 across clinics,
the one error shape for bad input."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from clinics.roles import Role
from clinics.tenancy import clinic_scope
from compliance.models import CorrectionDecision, RightsKind, RightsStatus, Verification
from compliance.rights.services import (
    correction_propose,
    rights_request_create,
    rights_request_move,
    rights_request_verify,
)
from patients import services as patient_services
from patients.models import Patient, Visit
from tests.api.conftest import assert_error
from tests.factories import DoctorProfileFactory, MembershipFactory, PatientFactory

URL = "/api/v1/rights-requests/"


def _staff(member) -> APIClient:
    """A signed-in staff member calling the API (a decision is a person's, not a key's)."""
    client = APIClient()
    client.force_login(member.user)
    client.credentials(HTTP_X_CLINIC=member.clinic.slug)
    return client


def _correction_request(clinic, owner, patient):
    with clinic_scope(clinic):
        rr = rights_request_create(
            clinic=clinic, actor=owner.user, kind=RightsKind.CORRECTION, patient=patient
        )
        rr = rights_request_verify(
            request=rr,
            actor=owner.user,
            method=Verification.IN_PERSON_ID,
            id_type="aadhaar",
            id_last4="1234",
        )
        return rights_request_move(request=rr, actor=owner.user, status=RightsStatus.IN_PROGRESS)


def _propose(clinic, actor, rr, field, value, visit=None):
    with clinic_scope(clinic):
        return correction_propose(
            request=rr, actor=actor.user, field=field, new_value=value, visit=visit
        )


@pytest.fixture
def world(clinic):
    with clinic_scope(clinic):
        owner = MembershipFactory(clinic=clinic, role=Role.OWNER)
        desk = MembershipFactory(clinic=clinic, role=Role.FRONT_DESK)
        doctor = DoctorProfileFactory(membership__clinic=clinic).membership
        patient = PatientFactory(clinic=clinic, full_name="Ravi Kumar")
    rr = _correction_request(clinic, owner, patient)
    return {"owner": owner, "desk": desk, "doctor": doctor, "patient": patient, "rr": rr}


def _decide_url(rr, item) -> str:
    return f"{URL}{rr.pk}/corrections/{item.pk}/decision/"


def test_a_contact_correction_is_listed_approved_and_cannot_be_decided_twice(clinic, world):
    rr, desk = world["rr"], world["desk"]
    item = _propose(clinic, desk, rr, "full_name", "Ravi Kumaran")
    client = _staff(world["owner"])
    listed = client.get(f"{URL}{rr.pk}/corrections/")
    assert listed.status_code == 200
    assert [(c["id"], c["field"], c["old_value"], c["decision"]) for c in listed.json()] == [
        (item.pk, "full_name", "Ravi Kumar", "pending")
    ]
    desk_client = _staff(desk)
    approved = desk_client.post(_decide_url(rr, item), {"decision": "approved"}, format="json")
    assert approved.status_code == 200, approved.content
    body = approved.json()
    assert body["decision"] == "approved" and body["decided_by"] == desk.pk
    with clinic_scope(clinic):
        assert Patient.objects.get(pk=world["patient"].pk).full_name == "Ravi Kumaran"
    again = desk_client.post(
        _decide_url(rr, item), {"decision": "refused", "reason": "No"}, format="json"
    )
    assert_error(again, 409)
    with clinic_scope(clinic):
        assert Patient.objects.get(pk=world["patient"].pk).full_name == "Ravi Kumaran"


def test_a_refusal_needs_a_reason_and_keeps_it(clinic, world):
    rr, desk = world["rr"], world["desk"]
    item = _propose(clinic, desk, rr, "city", "Mysuru")
    client = _staff(desk)
    missing = assert_error(
        client.post(_decide_url(rr, item), {"decision": "refused"}, format="json"), 400
    )
    assert "reason" in missing["fields"]
    refused = client.post(
        _decide_url(rr, item), {"decision": "refused", "reason": "No proof"}, format="json"
    )
    assert refused.status_code == 200
    assert (refused.json()["decision"], refused.json()["reason"]) == ("refused", "No proof")
    with clinic_scope(clinic):
        assert Patient.objects.get(pk=world["patient"].pk).city != "Mysuru"


def test_clinical_fields_need_a_clinical_role(clinic, world):
    rr, desk = world["rr"], world["desk"]
    item = _propose(clinic, desk, rr, "allergies", "Penicillin")
    assert_error(
        _staff(desk).post(_decide_url(rr, item), {"decision": "approved"}, format="json"), 403
    )
    approved = _staff(world["doctor"]).post(
        _decide_url(rr, item), {"decision": "approved"}, format="json"
    )
    assert approved.status_code == 200 and approved.json()["decision"] == "approved"


def test_a_signed_visit_is_corrected_through_its_amendment(clinic, world):
    doctor, patient = world["doctor"], world["patient"]
    by = {"actor": doctor.user, "actor_membership": doctor}
    with clinic_scope(clinic):
        visit = patient_services.visit_start(clinic=clinic, **by, patient=patient, doctor=doctor)
        visit = patient_services.visit_update_notes(visit=visit, **by, chief_complaints="Fever")
        visit = patient_services.visit_sign(visit=visit, **by)
    item = _propose(clinic, world["desk"], world["rr"], "chief_complaints", "Cough", visit=visit)
    approved = _staff(doctor).post(
        _decide_url(world["rr"], item), {"decision": "approved"}, format="json"
    )
    assert approved.status_code == 200, approved.content
    amendment_id = approved.json()["amendment"]
    with clinic_scope(clinic):
        original = Visit.objects.get(pk=visit.pk)
        amendment = Visit.objects.get(pk=amendment_id)
    assert original.is_signed and original.chief_complaints == "Fever"
    assert amendment.amends_id == visit.pk and amendment.chief_complaints == "Cough"


def test_an_api_key_cannot_decide(clinic, world, api_client_for):
    item = _propose(clinic, world["desk"], world["rr"], "city", "Mysuru")
    key = api_client_for(clinic, role=Role.OWNER)
    assert key.get(f"{URL}{world['rr'].pk}/corrections/").status_code == 200
    refused = key.post(_decide_url(world["rr"], item), {"decision": "approved"}, format="json")
    assert_error(refused, 403)
    with clinic_scope(clinic):
        assert item.__class__.objects.get(pk=item.pk).decision == CorrectionDecision.PENDING


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"decision": "maybe"},
        {"decision": True},
        {"decision": ["approved"]},
        {"decision": "refused", "reason": 12},
        {"decision": "refused", "reason": {"a": 1}},
        {"decision": "refused", "reason": "x" * 4001},
        {"decision": "refused", "reason": "bad\u0000"},
        {"decision": "approved", "extra": 1},
        ["approved"],
    ],
)
def test_bad_input_is_a_clear_400(clinic, world, body):
    item = _propose(clinic, world["desk"], world["rr"], "city", "Mysuru")
    response = _staff(world["owner"]).post(_decide_url(world["rr"], item), body, format="json")
    assert_error(response, 400)
    with clinic_scope(clinic):
        assert item.__class__.objects.get(pk=item.pk).decision == CorrectionDecision.PENDING


def test_a_huge_body_is_413(clinic, world, settings):
    item = _propose(clinic, world["desk"], world["rr"], "city", "Mysuru")
    body = {"decision": "refused", "reason": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    response = _staff(world["owner"]).post(_decide_url(world["rr"], item), body, format="json")
    assert_error(response, 413)


def test_another_clinics_request_or_correction_is_not_found(clinic, other_clinic, world):
    other_owner = MembershipFactory(clinic=other_clinic, role=Role.OWNER)
    with clinic_scope(other_clinic):
        their_patient = PatientFactory(clinic=other_clinic)
    theirs = _correction_request(other_clinic, other_owner, their_patient)
    their_item = _propose(other_clinic, other_owner, theirs, "city", "Pune")
    mine = _propose(clinic, world["desk"], world["rr"], "city", "Mysuru")
    client = _staff(world["owner"])
    decision = {"decision": "approved"}
    assert_error(client.get(f"{URL}{theirs.pk}/corrections/"), 404)
    assert_error(client.post(_decide_url(theirs, their_item), decision, format="json"), 404)
    # My request with their correction's id, and a correction id of another of my requests.
    assert_error(client.post(_decide_url(world["rr"], their_item), decision, format="json"), 404)
    other_rr = _correction_request(clinic, world["owner"], world["patient"])
    assert_error(client.post(_decide_url(other_rr, mine), decision, format="json"), 404)
    with clinic_scope(other_clinic):
        assert their_item.__class__.objects.get(pk=their_item.pk).decision == "pending"


def test_a_closed_request_cannot_have_decisions(clinic, world):
    item = _propose(clinic, world["desk"], world["rr"], "city", "Mysuru")
    with clinic_scope(clinic):
        rights_request_move(
            request=world["rr"], actor=world["owner"].user, status=RightsStatus.WITHDRAWN
        )
    response = _staff(world["owner"]).post(
        _decide_url(world["rr"], item), {"decision": "approved"}, format="json"
    )
    assert_error(response, 409)
