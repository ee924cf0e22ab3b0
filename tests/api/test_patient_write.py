"""Registering, reading, changing and archiving patients, and their guardians, through the API."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from clinics.models import AuditEvent, IdempotencyRecord
from clinics.tenancy import clinic_scope
from patients.api.serializers import GuardianSerializer, PatientSerializer
from patients.models import Guardian, Patient
from tests.api.conftest import LIST_URL, assert_error, detail_url

VALID = {
    "full_name": "Lakshmi Iyer",
    "sex": "F",
    "phone": "98450 12345",
    "date_of_birth": "1980-01-01",
}


def _saved(clinic) -> tuple[int, int, int]:
    """(patients, guardians, audit events) at the clinic: to check nothing was half-written."""
    with clinic_scope(clinic):
        return Patient.objects.count(), Guardian.objects.count(), AuditEvent.objects.count()


def _events(clinic, action: str) -> list[AuditEvent]:
    with clinic_scope(clinic):
        return list(AuditEvent.objects.filter(action=action))


# --- Register ---------------------------------------------------------------------------------


def test_register_a_patient(api, clinic):
    payload = {
        **VALID,
        "whatsapp_phone": "+91 98450 99999",
        "email": "Lakshmi@Example.in",
        "city": "Mysuru",
        "state_code": "29",
        "blood_group": "O+",
        "abha_number": "91-1234-5678-9012",
        "abha_address": "lakshmi.iyer@abdm",
        "emergency_contact_name": "Ravi Iyer",
        "emergency_contact_relation": "spouse",
        "emergency_contact_phone": "98450 11111",
    }
    response = api.post(LIST_URL, payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == set(PatientSerializer().fields)
    assert body["number"] == "P-000001"
    assert body["phone"] == "+919845012345"
    assert body["whatsapp_phone"] == "+919845099999"
    assert body["email"] == "lakshmi@example.in"
    assert body["abha_number"] == "91123456789012"
    assert body["state_name"] == "Karnataka"
    assert body["guardians"] == []
    with clinic_scope(clinic):
        patient = Patient.objects.get(pk=body["id"])
    assert patient.full_name == "Lakshmi Iyer"
    [event] = _events(clinic, "patients.patient.created")
    assert event.target_id == str(patient.pk)
    assert event.api_key_id == api.api_key.pk
    assert event.via == "api"


def test_register_with_age_only_estimates_the_date_of_birth(api):
    body = api.post(
        LIST_URL, {**VALID, "date_of_birth": None, "age_years": 40}, format="json"
    ).json()
    assert body["age"] == 40
    assert body["dob_estimated"] is True


def test_register_a_minor_with_a_guardian(api, clinic, make_patient):
    mother = make_patient(full_name="Asha Rao", phone="+919845022222")
    payload = {
        "full_name": "Arjun Rao",
        "sex": "M",
        "phone": "98450 22222",
        "date_of_birth": "2018-04-01",
        "guardian": {"guardian_patient_id": mother.pk, "relation": "mother"},
    }
    response = api.post(LIST_URL, payload, format="json")
    assert response.status_code == 201, response.content
    [guardian] = response.json()["guardians"]
    assert set(guardian) == set(GuardianSerializer().fields)
    assert guardian["guardian_patient_id"] == mother.pk
    assert guardian["guardian_patient_number"] == "P-000001"
    assert guardian["name"] == "Asha Rao"
    assert guardian["relation"] == "mother"


BAD_INPUT = [
    ({"phone": "12345"}, "phone", "valid phone number"),
    (
        {"date_of_birth": (date.today() + timedelta(days=2)).isoformat()},
        "date_of_birth",
        "cannot be in the future",
    ),
    ({"abha_number": "91-1234-5678"}, "abha_number", "14 digits"),
    ({"abha_address": "9lakshmi@gmail.com"}, "abha_address", "name.surname@abdm"),
    ({"nickname": "Lakshmi"}, "nickname", "Unknown field."),
    ({"guardian": {"relation": "mother", "age": 40}}, "guardian.age", "Unknown field."),
    ({"date_of_birth": "2019-05-05"}, "guardian", "needs a guardian"),
    ({"date_of_birth": None, "age_years": 131}, "age_years", "from 0 to 130"),
    ({"date_of_birth": None, "age_years": -1}, "age_years", "from 0 to 130"),
    ({"date_of_birth": None}, "date_of_birth", "date of birth or the age"),
    ({"sex": "X"}, "sex", "not a valid choice"),
    ({"pincode": "ABCDEF"}, "pincode", "A PIN code has 6 digits and does not start with 0"),
    ({"full_name": "Evil\u202eTXT.exe"}, "full_name", "full name contains an invisible character"),
    ({"city": "Mysuru\u2066"}, "city", "city contains an invisible character (U+2066"),
    (
        {
            "date_of_birth": "2019-05-05",
            "guardian": {"relation": "mother", "name": "Amma\u202e", "phone": "98450 54321"},
        },
        "guardian.name",
        "guardian's name contains an invisible character",
    ),
    ({"full_name": ""}, "full_name", "may not be blank"),
    (
        {"date_of_birth": "2019-05-05", "guardian": {"relation": "mother", "phone": "98450"}},
        "guardian.name",
        "guardian's name",
    ),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_INPUT)
def test_bad_input_is_refused_field_by_field_and_nothing_is_saved(
    api, clinic, change, field, message
):
    before = _saved(clinic)
    response = api.post(LIST_URL, {**VALID, **change}, format="json")
    body = assert_error(response, 400)
    assert body["type"] == "validation_error"
    assert field in body["fields"], body
    assert any(message in m for m in body["fields"][field]), body
    assert _saved(clinic) == before


def test_a_missing_required_field_is_named(api, clinic):
    body = assert_error(api.post(LIST_URL, {"full_name": "Lakshmi"}, format="json"), 400)
    assert {"sex", "phone"} <= set(body["fields"])
    assert _saved(clinic) == (0, 0, 0)


def test_possible_duplicate_is_409_until_confirmed(api, clinic, make_patient):
    make_patient(full_name="Lakshmi Iyer", phone="+919845012345")
    response = api.post(LIST_URL, {**VALID, "full_name": "Lakshmi  IYER"}, format="json")
    body = assert_error(response, 409, "possible_duplicate")
    assert body["type"] == "conflict"
    assert "P-000001" in body["detail"]
    assert _saved(clinic)[0] == 1

    confirmed = api.post(LIST_URL, {**VALID, "confirm_duplicate": True}, format="json")
    assert confirmed.status_code == 201
    assert confirmed.json()["number"] == "P-000002"
    [event] = _events(clinic, "patients.patient.created")
    assert event.data["duplicate_confirmed"] is True


# --- Idempotency-Key ----------------------------------------------------------------------------


def test_a_retry_with_the_same_key_replays_the_answer_and_creates_one_patient(api, clinic):
    first = api.post(LIST_URL, VALID, format="json", HTTP_IDEMPOTENCY_KEY="reg-0001")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    again = api.post(LIST_URL, VALID, format="json", HTTP_IDEMPOTENCY_KEY="reg-0001")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert _saved(clinic)[0] == 1
    assert len(_events(clinic, "patients.patient.created")) == 1


def test_the_same_key_with_another_body_is_422_and_saves_nothing(api, clinic):
    assert api.post(LIST_URL, VALID, format="json", HTTP_IDEMPOTENCY_KEY="k-1").status_code == 201
    before = _saved(clinic)
    other = {**VALID, "full_name": "Someone Else", "phone": "98450 77777"}
    body = assert_error(
        api.post(LIST_URL, other, format="json", HTTP_IDEMPOTENCY_KEY="k-1"),
        422,
        "idempotency_key_reused",
    )
    assert "different request" in body["detail"]
    assert _saved(clinic) == before


def test_a_failed_request_does_not_use_up_its_key(api, clinic):
    bad = {**VALID, "phone": "123"}
    assert_error(api.post(LIST_URL, bad, format="json", HTTP_IDEMPOTENCY_KEY="k-2"), 400)
    with clinic_scope(clinic):
        assert not IdempotencyRecord.objects.exists()
    fixed = api.post(LIST_URL, VALID, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert fixed.status_code == 201


def test_keys_belong_to_their_api_key(api, api_client_for, clinic):
    other_key = api_client_for(clinic)
    assert api.post(LIST_URL, VALID, format="json", HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    second = {**VALID, "full_name": "Ravi Shankar", "phone": "98450 54321"}
    response = other_key.post(LIST_URL, second, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert _saved(clinic)[0] == 2


def test_a_malformed_key_is_refused(api, clinic):
    body = assert_error(
        api.post(LIST_URL, VALID, format="json", HTTP_IDEMPOTENCY_KEY="has space"), 400
    )
    assert "Idempotency-Key" in body["detail"]
    assert _saved(clinic)[0] == 0


# --- Read ---------------------------------------------------------------------------------------


def test_reading_a_record_is_audited(api, clinic, make_patient):
    patient = make_patient(full_name="Lakshmi Iyer")
    response = api.get(detail_url(patient.pk))
    assert response.status_code == 200
    body = response.json()
    assert body["full_name"] == "Lakshmi Iyer"
    assert body["number"] == "P-000001"
    [event] = _events(clinic, "patients.patient.viewed")
    assert (event.patient_id, event.api_key_id, event.via) == (patient.pk, api.api_key.pk, "api")


# --- Change -------------------------------------------------------------------------------------


def test_patch_changes_only_what_is_sent(api, clinic, make_patient):
    patient = make_patient(full_name="Lakshmi Iyer", city="Mysuru")
    response = api.patch(
        detail_url(patient.pk), {"phone": "+91 98450 33333", "blood_group": "B+"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["phone"], body["blood_group"], body["city"]) == ("+919845033333", "B+", "Mysuru")
    [event] = _events(clinic, "patients.patient.updated")
    assert event.data["fields"] == ["blood_group", "phone"]


def test_patch_sets_discreet_medicine_reminders(api, clinic, make_patient):
    patient = make_patient(full_name="Lakshmi Iyer")
    assert api.get(detail_url(patient.pk)).json()["discreet_messages"] == "auto"
    response = api.patch(detail_url(patient.pk), {"discreet_messages": "always"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["discreet_messages"] == "always"
    bad = api.patch(detail_url(patient.pk), {"discreet_messages": "sometimes"}, format="json")
    assert "discreet_messages" in assert_error(bad, 400)["fields"]
    with clinic_scope(clinic):
        patient.refresh_from_db()
    assert patient.discreet_messages == "always"


def test_patch_refuses_bad_and_unknown_input_and_keeps_the_record(api, clinic, make_patient):
    patient = make_patient(full_name="Lakshmi Iyer")
    bad = api.patch(detail_url(patient.pk), {"phone": "12"}, format="json")
    assert "phone" in assert_error(bad, 400)["fields"]
    for unknown in ({"guardian": {"relation": "mother", "name": "A"}}, {"number": 7}):
        body = assert_error(api.patch(detail_url(patient.pk), unknown, format="json"), 400)
        assert body["fields"] == {next(iter(unknown)): ["Unknown field."]}
    with clinic_scope(clinic):
        patient.refresh_from_db()
    assert str(patient.phone) != "12" and patient.number == 1
    assert _events(clinic, "patients.patient.updated") == []


# --- Archive and restore ------------------------------------------------------------------------


def test_archive_and_restore(api, clinic, make_patient):
    patient = make_patient(full_name="Lakshmi Iyer")
    archived = api.post(detail_url(patient.pk, "archive/"))
    assert archived.status_code == 200
    assert archived.json()["archived"] is True
    assert archived.json()["archived_at"]
    assert api.get(LIST_URL).json()["results"] == []
    assert api.get(detail_url(patient.pk)).json()["archived"] is True
    body = assert_error(api.patch(detail_url(patient.pk), {"city": "Pune"}, format="json"), 400)
    assert "Restore" in body["detail"]

    restored = api.post(detail_url(patient.pk, "restore/"))
    assert restored.status_code == 200
    assert restored.json()["archived"] is False
    assert [r["id"] for r in api.get(LIST_URL).json()["results"]] == [patient.pk]
    assert len(_events(clinic, "patients.patient.archived")) == 1
    assert len(_events(clinic, "patients.patient.restored")) == 1


# --- Guardians ----------------------------------------------------------------------------------


def test_guardians_are_listed_and_added(api, clinic, make_patient):
    child = make_patient(full_name="Arjun Rao", date_of_birth=date(2018, 4, 1))
    url = detail_url(child.pk, "guardians/")
    assert api.get(url).json() == []
    added = api.post(
        url, {"name": "Asha Rao", "relation": "mother", "phone": "98450 22222"}, format="json"
    )
    assert added.status_code == 201, added.content
    assert added.json()["phone"] == "+919845022222"
    assert [g["name"] for g in api.get(url).json()] == ["Asha Rao"]
    assert [g["name"] for g in api.get(detail_url(child.pk)).json()["guardians"]] == ["Asha Rao"]
    assert len(_events(clinic, "patients.guardian.added")) == 1


def test_a_guardian_must_be_an_adult_and_named_clearly(api, clinic, make_patient):
    child = make_patient(date_of_birth=date(2018, 4, 1))
    other_child = make_patient(date_of_birth=date(2017, 4, 1))
    url = detail_url(child.pk, "guardians/")
    body = assert_error(
        api.post(
            url, {"guardian_patient_id": other_child.pk, "relation": "sibling"}, format="json"
        ),
        400,
    )
    assert "adult" in body["fields"]["guardian_patient_id"][0]
    body = assert_error(api.post(url, {"relation": "mother", "phone": "9"}, format="json"), 400)
    assert {"name", "phone"} <= set(body["fields"])
    # A phone that is no phone at all is refused even beside a linked adult patient.
    adult = make_patient(date_of_birth=date(1980, 4, 1))
    body = assert_error(
        api.post(
            url,
            {"guardian_patient_id": adult.pk, "relation": "child", "phone": "AAA"},
            format="json",
        ),
        400,
    )
    assert "phone" in body["fields"]
    body = assert_error(
        api.post(
            url,
            {"guardian_patient_id": adult.pk, "relation": "child", "name": "\u0084"},
            format="json",
        ),
        400,
    )
    assert "name" in body["fields"]
    assert _saved(clinic)[1] == 0


def test_guardian_role_rules(api_client_for, clinic, make_patient):
    from clinics.roles import Role

    child = make_patient(date_of_birth=date(2018, 4, 1))
    billing = api_client_for(clinic, role=Role.BILLING)
    url = detail_url(child.pk, "guardians/")
    assert billing.get(url).status_code == 200
    assert_error(billing.post(url, {"name": "A B", "relation": "mother"}, format="json"), 403)


def test_archive_needs_the_archive_permission_but_reading_does_not(
    api_client_for, clinic, make_patient
):
    from clinics.roles import Role

    patient = make_patient()
    doctor = api_client_for(clinic, role=Role.DOCTOR)
    assert doctor.get(detail_url(patient.pk)).status_code == 200
    assert_error(doctor.post(detail_url(patient.pk, "archive/")), 403)
    with clinic_scope(clinic):
        patient.refresh_from_db()
    assert patient.archived_at is None
