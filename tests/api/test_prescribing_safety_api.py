"""The prescribing checks through the API: a medicine the checks stop refuses the whole draft
with code prescribing_check until the item carries override_reason, and the patient's record
carries the structured allergies for clinical callers only."""

from __future__ import annotations

import pytest

from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.models import PrescriptionItem, Visit
from patients.services import patient_allergy_add
from tests.api.conftest import assert_error
from tests.api.test_visits_api import VISITS, signed_in
from tests.factories import DoctorProfileFactory, MembershipFactory, PatientFactory

REASON = "Took ibuprofen last month without a reaction; allergy doubtful."


@pytest.fixture
def team(clinic):
    doctor = DoctorProfileFactory(membership__clinic=clinic).membership
    desk = MembershipFactory(clinic=clinic, role=Role.FRONT_DESK)
    with clinic_scope(clinic):
        patient = PatientFactory(clinic=clinic, full_name="Kavya Reddy")
        allergy = patient_allergy_add(
            patient=patient, actor=doctor.user, drug_class="nsaids", severity="severe"
        )
    return {"doctor": doctor, "desk": desk, "patient": patient, "allergy": allergy}


def _draft(team, **item) -> dict:
    ibuprofen = {
        "generic_name": "Ibuprofen",
        "strength": "400 mg",
        "form": "tablet",
        "frequency": "1-0-1",
        "duration_days": 3,
    }
    return {"patient_id": team["patient"].pk, "items": [{**ibuprofen, **item}]}


def test_an_allergy_refuses_the_draft_with_a_clear_code(clinic, team):
    response = signed_in(team["doctor"]).post(VISITS, _draft(team), format="json")
    body = assert_error(response, 400)
    assert body["code"] == "prescribing_check"
    assert list(body["fields"]) == ["items.0.override_reason"]
    assert "allergic to NSAIDs" in body["fields"]["items.0.override_reason"][0]
    with clinic_scope(clinic):
        assert not Visit.objects.exists()


def test_the_override_reason_lets_it_through_and_is_kept(clinic, team):
    response = signed_in(team["doctor"]).post(
        VISITS, _draft(team, override_reason=REASON), format="json"
    )
    assert response.status_code == 201, response.content
    with clinic_scope(clinic):
        item = PrescriptionItem.objects.get()
    assert (item.override_reason, item.override_findings) == (REASON, ["allergy:nsaids"])


def test_the_override_reason_is_bounded(clinic, team):
    response = signed_in(team["doctor"]).post(
        VISITS, _draft(team, override_reason="x" * 301), format="json"
    )
    body = assert_error(response, 400)
    assert "items.0.override_reason" in body["fields"]


def test_structured_allergies_are_in_the_record_for_clinical_callers_only(clinic, team):
    url = f"/api/v1/patients/{team['patient'].pk}/"
    clinical = signed_in(team["doctor"]).get(url).json()
    [entry] = clinical["allergy_entries"]
    assert (entry["drug_class"], entry["drug_class_label"], entry["severity"]) == (
        "nsaids",
        "NSAIDs (incl. aspirin)",
        "severe",
    )
    assert clinical["has_allergy_alert"] is True
    desk = signed_in(team["desk"]).get(url).json()
    assert "allergy_entries" not in desk and "allergies" not in desk
    # The free text is empty: the alert comes from the structured entry.
    assert desk["has_allergy_alert"] is True
