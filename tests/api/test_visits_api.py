"""Visits and prescriptions through the API: reading them, and opening a draft visit with its
notes, vitals, diagnoses and medicines in one request, all or nothing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.api.serializers_visits import (
    PrescriptionItemSerializer,
    PrescriptionSerializer,
    VisitSerializer,
    VisitSummarySerializer,
)
from patients.api.visits import PERSON_NEEDED
from patients.models import Diagnosis, Drug, Prescription, PrescriptionItem, Visit, Vitals
from patients.services import diagnosis_add, visit_amend, visit_sign, visit_start
from tests.api.conftest import assert_error
from tests.factories import DoctorProfileFactory, MembershipFactory, PatientFactory

VISITS = "/api/v1/visits/"
PRESCRIPTIONS = "/api/v1/prescriptions/"


def visit_url(visit_id: int) -> str:
    return f"{VISITS}{visit_id}/"


def signed_in(member) -> APIClient:
    """The web session of a member of staff, naming the clinic with X-Clinic."""
    client = APIClient()
    client.force_login(member.user)
    client.credentials(HTTP_X_CLINIC=member.clinic.slug)
    return client


@pytest.fixture
def team(clinic):
    doctor = DoctorProfileFactory(
        membership__clinic=clinic, membership__user__full_name="Meera Nair"
    ).membership
    assistant = MembershipFactory(clinic=clinic, role=Role.ASSISTANT)
    with clinic_scope(clinic):
        patient = PatientFactory(clinic=clinic, full_name="Kavya Reddy")
        amoxicillin = Drug.objects.create(
            clinic=clinic,
            generic_name="AMOXICILLIN",
            strength="500 mg",
            form="capsule",
            default_frequency="TDS",
            default_duration_days=5,
            default_timing="after_food",
        )
    return {"doctor": doctor, "assistant": assistant, "patient": patient, "drug": amoxicillin}


def _saved(clinic) -> dict[str, int]:
    """What a draft writes, counted: to check that nothing was half-written."""
    with clinic_scope(clinic):
        return {
            "visits": Visit.objects.count(),
            "vitals": Vitals.objects.count(),
            "diagnoses": Diagnosis.objects.count(),
            "prescriptions": Prescription.objects.count(),
            "items": PrescriptionItem.objects.count(),
            "audit": AuditEvent.objects.count(),
        }


NOTHING = {"visits": 0, "vitals": 0, "diagnoses": 0, "prescriptions": 0, "items": 0}


def _nothing_saved(clinic, audit_before: int) -> None:
    saved = _saved(clinic)
    assert saved.pop("audit") == audit_before
    assert saved == NOTHING


def full_draft(team) -> dict:
    return {
        "patient_id": team["patient"].pk,
        "notes": {
            "chief_complaints": "Fever and sore throat for three days",
            "examination": "Throat congested",
            "advice": "Warm saline gargles",
            "follow_up_date": (timezone.localdate() + timedelta(days=7)).isoformat(),
        },
        "vitals": {"pulse": 92, "temperature_c": 38.4, "weight_kg": "61.5", "height_cm": 160},
        "diagnoses": [{"text": "Acute pharyngitis", "icd10_code": "j029"}],
        "procedures": [{"name": "Throat swab"}],
        "items": [
            {
                "generic_name": "paracetamol",
                "strength": "500mg",
                "form": "tablet",
                "frequency": "1-0-1",
                "duration_days": 5,
                "timing": "after_food",
            },
            {"drug_id": team["drug"].pk},
        ],
    }


# --- Opening a draft ----------------------------------------------------------------------------


def test_a_doctor_opens_a_whole_draft_in_one_request(clinic, team):
    response = signed_in(team["doctor"]).post(VISITS, full_draft(team), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == set(VisitSerializer().fields)
    assert (body["status"], body["version"], body["mode"]) == ("draft", 1, "in_person")
    assert body["doctor"] == {"id": team["doctor"].pk, "full_name": "Meera Nair"}
    assert body["patient"]["full_name"] == "Kavya Reddy"
    assert body["notes"]["chief_complaints"] == "Fever and sore throat for three days"
    vitals = body["vitals"]
    assert (vitals["pulse"], vitals["temperature_c"], vitals["bmi"]) == (92, "38.4", "24.0")
    assert body["diagnoses"][0]["icd10_code"] == "J02.9"
    assert body["procedures"][0]["name"] == "Throat swab"
    paracetamol, amoxicillin = body["prescription"]["items"]
    assert set(paracetamol) == set(PrescriptionItemSerializer().fields)
    assert (paracetamol["generic_name"], paracetamol["strength"]) == ("PARACETAMOL", "500 mg")
    assert paracetamol["frequency"] == "1-0-1"
    assert paracetamol["frequency_label"] == paracetamol["schedule"]["label"]
    assert [d["slot"] for d in paracetamol["schedule"]["doses"]] == ["morning", "night"]
    assert Decimal(paracetamol["quantity"]) == 10
    # From the drug list, with its defaults: three a day for five days.
    assert (amoxicillin["drug_id"], amoxicillin["frequency"]) == (team["drug"].pk, "TDS")
    assert (amoxicillin["duration_days"], Decimal(amoxicillin["quantity"])) == (5, 15)
    with clinic_scope(clinic):
        visit = Visit.objects.get(pk=body["id"])
        actions = sorted(AuditEvent.objects.values_list("action", flat=True))
    assert visit.created_by == team["doctor"].user
    assert actions.count("patients.prescription.item_added") == 2
    assert "patients.visit.started" in actions and "patients.vitals.recorded" in actions


def test_a_bad_frequency_on_the_second_item_saves_nothing(clinic, team):
    payload = full_draft(team)
    payload["items"][1] = {"generic_name": "Cetirizine", "form": "tablet", "frequency": "twice-ish"}
    before = _saved(clinic)["audit"]
    body = assert_error(signed_in(team["doctor"]).post(VISITS, payload, format="json"), 400)
    assert body["type"] == "validation_error"
    assert list(body["fields"]) == ["items.1.frequency"]
    assert "1-0-1" in body["fields"]["items.1.frequency"][0]  # the message shows what works
    _nothing_saved(clinic, before)


def test_every_problem_is_named_by_its_path_at_once(clinic, team):
    payload = full_draft(team)
    payload["vitals"] = {"pulse": 500, "bp_systolic": 120}
    payload["diagnoses"] = [{"text": "Fever"}, {"icd10_code": "Q99.99"}]
    payload["items"][0]["duration_days"] = 400
    before = _saved(clinic)["audit"]
    body = assert_error(signed_in(team["doctor"]).post(VISITS, payload, format="json"), 400)
    assert {
        "vitals.pulse",
        "vitals.bp_diastolic",
        "diagnoses.1.icd10_code",
        "items.0.duration_days",
    } <= set(body["fields"])
    _nothing_saved(clinic, before)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"colour": "red"}, "colour", "Unknown field."),
        ({"notes": {"plan": "rest"}}, "notes.plan", "Unknown field."),
        ({"items": [{"generic_name": "X", "form": "tablet", "qty": 2}]}, "items.0.qty", "Unknown"),
        ({"vitals": {"pulse": "fast"}}, "vitals.pulse", "integer"),
        ({"patient_id": "P-000001"}, "patient_id", "integer"),
        ({"mode": "phone"}, "mode", "valid choice"),
        ({"items": [{"drug_id": 10**6}]}, "items.0.drug_id", "clinic's list"),
        ({"notes": {"follow_up_date": "2020-01-01"}}, "notes.follow_up_date", "before"),
    ],
)
def test_bad_input_is_400_by_path_and_saves_nothing(clinic, team, change, field, message):
    before = _saved(clinic)["audit"]
    payload = {"patient_id": team["patient"].pk, **change}
    body = assert_error(signed_in(team["doctor"]).post(VISITS, payload, format="json"), 400)
    assert any(message in m for m in body["fields"][field]), body
    _nothing_saved(clinic, before)


def test_unknown_or_another_clinics_patient_doctor_and_drug_are_refused(clinic, other_clinic, team):
    with clinic_scope(other_clinic):
        stranger = PatientFactory(clinic=other_clinic)
        their_drug = Drug.objects.create(clinic=other_clinic, generic_name="ZINC", form="tablet")
    their_doctor = DoctorProfileFactory(membership__clinic=other_clinic).membership
    payload = {
        "patient_id": stranger.pk,
        "doctor_id": their_doctor.pk,
        "items": [{"drug_id": their_drug.pk}],
    }
    body = assert_error(signed_in(team["doctor"]).post(VISITS, payload, format="json"), 400)
    assert set(body["fields"]) == {"patient_id", "doctor_id", "items.0.drug_id"}
    assert _saved(clinic)["visits"] == 0


def test_api_keys_cannot_open_visits_and_are_told_why(clinic, team, api_client_for):
    before = _saved(clinic)["audit"]
    for role in (Role.OWNER, Role.DOCTOR, Role.ASSISTANT):
        key = api_client_for(clinic, role=role)
        payload = {**full_draft(team), "doctor_id": team["doctor"].pk}
        body = assert_error(key.post(VISITS, payload, format="json"), 403, "permission_denied")
        assert body["detail"] == PERSON_NEEDED
        assert "signed-in" in body["detail"]
    _nothing_saved(clinic, before)


def test_an_assistant_opens_a_draft_with_vitals_for_the_doctor(clinic, team):
    assistant = signed_in(team["assistant"])
    payload = {
        "patient_id": team["patient"].pk,
        "doctor_id": team["doctor"].pk,
        "vitals": {"bp_systolic": 128, "bp_diastolic": 84, "temperature_f": "100.4"},
    }
    response = assistant.post(VISITS, payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["doctor"]["id"] == team["doctor"].pk
    assert (body["vitals"]["blood_pressure"], body["vitals"]["temperature_c"]) == ("128/84", "38.0")
    assert body["prescription"] is None and body["diagnoses"] == []


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.OWNER, 201),
        (Role.DOCTOR, 201),
        (Role.ASSISTANT, 201),
        (Role.FRONT_DESK, 403),
        (Role.BILLING, 403),
    ],
)
def test_notes_in_a_new_draft_follow_the_matrix(clinic, team, role, status):
    """clinical.draft covers drafting notes: an assistant opens the draft with the notes for
    the doctor to sign; the owner and doctors write their own visits' notes."""
    if role in (Role.OWNER, Role.DOCTOR):
        member = DoctorProfileFactory(membership__clinic=clinic, membership__role=role).membership
        visit_doctor = member
    else:
        member = MembershipFactory(clinic=clinic, role=role)
        visit_doctor = team["doctor"]
    payload = {
        "patient_id": team["patient"].pk,
        "doctor_id": visit_doctor.pk,
        "notes": {"chief_complaints": "Cough for a week", "advice": "Steam inhalation"},
    }
    before = _saved(clinic)["audit"]
    response = signed_in(member).post(VISITS, payload, format="json")
    if status == 201:
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["status"] == "draft" and body["doctor"]["id"] == visit_doctor.pk
        assert body["notes"]["chief_complaints"] == "Cough for a week"
        assert body["notes"]["advice"] == "Steam inhalation"
    else:
        assert_error(response, 403, "permission_denied")
        _nothing_saved(clinic, before)


def test_an_assistant_drafts_notes_but_cannot_write_medicines(clinic, team):
    assistant = signed_in(team["assistant"])
    before = _saved(clinic)["audit"]
    with_items = {
        "patient_id": team["patient"].pk,
        "doctor_id": team["doctor"].pk,
        "items": [{"drug_id": team["drug"].pk}],
    }
    body = assert_error(assistant.post(VISITS, with_items, format="json"), 403)
    assert "doctor" in body["detail"]
    # Without doctor_id the visit would be the assistant's own, and they are no doctor.
    own = {"patient_id": team["patient"].pk, "vitals": {"pulse": 80}}
    body = assert_error(assistant.post(VISITS, own, format="json"), 400)
    assert "doctor_id" in body["fields"]
    _nothing_saved(clinic, before)
    with_notes = {
        "patient_id": team["patient"].pk,
        "doctor_id": team["doctor"].pk,
        "vitals": {"pulse": 80},
        "notes": {"chief_complaints": "Cough"},
    }
    response = assistant.post(VISITS, with_notes, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["notes"]["chief_complaints"] == "Cough" and body["vitals"]["pulse"] == 80


def test_front_desk_and_billing_cannot_open_visits(clinic, team, member_factory):
    for role in (Role.FRONT_DESK, Role.BILLING):
        client = signed_in(member_factory(clinic, role))
        payload = {"patient_id": team["patient"].pk, "doctor_id": team["doctor"].pk}
        assert_error(client.post(VISITS, payload, format="json"), 403, "permission_denied")
    assert _saved(clinic)["visits"] == 0


def test_opening_a_draft_replays_with_the_same_idempotency_key(clinic, team):
    doctor = signed_in(team["doctor"])
    payload = full_draft(team)
    first = doctor.post(VISITS, payload, format="json", HTTP_IDEMPOTENCY_KEY="visit-1")
    again = doctor.post(VISITS, payload, format="json", HTTP_IDEMPOTENCY_KEY="visit-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert _saved(clinic)["visits"] == 1


# --- Reading visits -----------------------------------------------------------------------------


@pytest.fixture
def history(clinic, team):
    """A signed visit corrected by a second, signed version, then a later draft."""
    doctor = team["doctor"]
    by = {"actor": doctor.user, "actor_membership": doctor}
    with clinic_scope(clinic):
        first = visit_start(clinic=clinic, patient=team["patient"], doctor=doctor, **by)
        diagnosis_add(visit=first, text="Viral fever", **by)
        visit_sign(visit=first, **by)
        correction = visit_amend(visit=first, reason="Wrong diagnosis", **by)
        diagnosis_add(visit=correction, text="Dengue fever", icd10_code="A97.9", **by)
        visit_sign(visit=correction, **by)
    later = signed_in(doctor).post(VISITS, full_draft(team), format="json").json()
    return {"first": first, "correction": correction, "later": later["id"]}


def test_a_patients_visits_newest_first_with_versions(clinic, team, history, api_client_for):
    assistant_key = api_client_for(clinic, role=Role.ASSISTANT, read_only=True)
    body = assistant_key.get(VISITS, {"patient": team["patient"].pk}).json()
    rows = body["results"]
    assert [r["id"] for r in rows] == [
        history["later"],
        history["correction"].pk,
        history["first"].pk,
    ]
    assert set(rows[0]) == set(VisitSummarySerializer().fields)
    later, correction, first = rows
    assert (later["status"], later["signed_at"]) == ("draft", None)
    assert (correction["version"], correction["amends"], correction["is_current"]) == (
        2,
        history["first"].pk,
        True,
    )
    assert (first["is_current"], first["status"]) == (False, "signed")
    # A coded diagnosis carries the code's WHO title, the doctor's words beside it.
    assert [(d["text"], d["qualifier"]) for d in correction["diagnoses"]] == [
        ("Viral fever", ""),
        ("Dengue, unspecified", "Dengue fever"),
    ]
    assert correction["date"] == timezone.localdate().isoformat()
    page = assistant_key.get(VISITS, {"patient": team["patient"].pk, "page_size": 2}).json()
    assert len(page["results"]) == 2 and page["next"]
    rest = assistant_key.get(page["next"]).json()
    assert [r["id"] for r in rest["results"]] == [history["first"].pk]


def test_the_visits_list_costs_the_same_however_many_visits(clinic, team, api_client_for):
    key = api_client_for(clinic, role=Role.DOCTOR)
    doctor = team["doctor"]
    by = {"actor": doctor.user, "actor_membership": doctor}

    def add_visits(count: int) -> None:
        with clinic_scope(clinic):
            for _ in range(count):
                visit = visit_start(clinic=clinic, patient=team["patient"], doctor=doctor, **by)
                diagnosis_add(visit=visit, text="Fever", **by)

    add_visits(2)
    query = {"patient": team["patient"].pk}
    key.get(VISITS, query)  # the key's last-used time is written once
    with CaptureQueriesContext(connection) as few:
        assert len(key.get(VISITS, query).json()["results"]) == 2
    add_visits(10)
    with CaptureQueriesContext(connection) as many:
        assert len(key.get(VISITS, query).json()["results"]) == 12
    assert len(many.captured_queries) == len(few.captured_queries) <= 4


def test_a_visits_whole_record_is_read_and_audited(clinic, team, api_client_for):
    created = signed_in(team["doctor"]).post(VISITS, full_draft(team), format="json").json()
    key = api_client_for(clinic, role=Role.DOCTOR, read_only=True)
    key.get(VISITS, {"patient": team["patient"].pk})  # warm the key
    with CaptureQueriesContext(connection) as ctx:
        response = key.get(visit_url(created["id"]))
    assert response.status_code == 200
    assert response.json() == {**created, "updated_at": response.json()["updated_at"]}
    # The key, the visit, its diagnoses, procedures and medicines, and the audit event.
    assert len(ctx.captured_queries) == 6
    with clinic_scope(clinic):
        [event] = AuditEvent.objects.filter(action="patients.visit.viewed")
    assert (event.target_id, event.patient_id) == (str(created["id"]), team["patient"].pk)
    assert (event.api_key_id, event.via) == (key.api_key.pk, "api")


def test_reading_a_visit_the_list_needs_a_patient_of_the_clinic(clinic, other_clinic, team, api):
    assert "patient" in assert_error(api.get(VISITS), 400)["fields"]
    assert "patient" in assert_error(api.get(VISITS, {"patient": "me"}), 400)["fields"]
    assert "sort" in assert_error(api.get(VISITS, {"patient": 1, "sort": "x"}), 400)["fields"]
    with clinic_scope(other_clinic):
        stranger = PatientFactory(clinic=other_clinic)
        their_doctor = MembershipFactory(clinic=other_clinic, role=Role.DOCTOR)
        theirs = Visit.objects.create(clinic=other_clinic, patient=stranger, doctor=their_doctor)
    body = assert_error(api.get(VISITS, {"patient": stranger.pk}), 404, "not_found")
    assert "patient" in body["detail"]
    assert_error(api.get(PRESCRIPTIONS, {"patient": stranger.pk}), 404, "not_found")
    body = assert_error(api.get(visit_url(theirs.pk)), 404, "not_found")
    assert "visit" in body["detail"]
    with clinic_scope(other_clinic):
        assert not AuditEvent.objects.filter(action="patients.visit.viewed").exists()


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.BILLING])
def test_front_desk_and_billing_never_see_visit_contents(clinic, team, api_client_for, role):
    with clinic_scope(clinic):
        visit = visit_start(
            clinic=clinic,
            actor=team["doctor"].user,
            actor_membership=team["doctor"],
            patient=team["patient"],
            doctor=team["doctor"],
        )
    key = api_client_for(clinic, role=role)
    query = {"patient": team["patient"].pk}
    for response in (
        key.get(VISITS, query),
        key.get(visit_url(visit.pk)),
        key.get(PRESCRIPTIONS, query),
    ):
        body = assert_error(response, 403, "permission_denied")
        assert body["type"] == "permission_error"
        assert "Fever" not in response.content.decode()
    with clinic_scope(clinic):
        assert not AuditEvent.objects.filter(action="patients.visit.viewed").exists()


# --- Prescriptions ------------------------------------------------------------------------------


def test_a_patients_prescriptions_with_their_medicines(clinic, team, history, api_client_for):
    key = api_client_for(clinic, role=Role.ASSISTANT, read_only=True)
    body = key.get(PRESCRIPTIONS, {"patient": team["patient"].pk}).json()
    [prescription] = body["results"]  # the signed visits had no medicines
    assert set(prescription) == set(PrescriptionSerializer().fields)
    assert prescription["visit_id"] == history["later"]
    assert (prescription["status"], prescription["is_current"]) == ("draft", True)
    assert prescription["doctor"]["full_name"] == "Meera Nair"
    names = [(i["generic_name"], i["frequency"]) for i in prescription["items"]]
    assert names == [("PARACETAMOL", "1-0-1"), ("AMOXICILLIN", "TDS")]
    schedule = prescription["items"][1]["schedule"]
    assert (schedule["code"], len(schedule["doses"]), schedule["every_n_days"]) == ("TDS", 3, 1)


def test_an_old_item_with_an_unreadable_schedule_still_reads(clinic, team, api):
    with clinic_scope(clinic):
        visit = visit_start(
            clinic=clinic,
            actor=team["doctor"].user,
            actor_membership=team["doctor"],
            patient=team["patient"],
            doctor=team["doctor"],
        )
        prescription = Prescription.objects.create(
            clinic=clinic, visit=visit, patient=team["patient"], doctor=team["doctor"]
        )
        PrescriptionItem.objects.create(
            clinic=clinic,
            prescription=prescription,
            generic_name="ORS",
            form="sachet",
            frequency="after each loose stool",
            schedule={"per_day": "?"},
        )
    [item] = api.get(visit_url(visit.pk)).json()["prescription"]["items"]
    assert (item["frequency"], item["frequency_label"], item["schedule"]) == (
        "after each loose stool",
        "",
        None,
    )


def test_minors_by_teleconsultation_need_a_guardian_first(clinic, team):
    with clinic_scope(clinic):
        child = PatientFactory(clinic=clinic, date_of_birth=date(2018, 1, 1))
    payload = {"patient_id": child.pk, "mode": "teleconsultation"}
    body = assert_error(signed_in(team["doctor"]).post(VISITS, payload, format="json"), 400)
    assert "guardian" in body["fields"]["mode"][0]
    assert _saved(clinic)["visits"] == 0


def test_schema_says_opening_a_visit_needs_the_session(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    paths = schema["paths"]
    assert {"/api/v1/visits/", "/api/v1/visits/{visit_id}/", "/api/v1/prescriptions/"} <= set(paths)
    create = paths["/api/v1/visits/"]["post"]
    assert create["security"] == [{"session": []}]
    assert "signed-in" in create["description"]
    assert "items.1.frequency" in create["description"]
    assert {"201", "400", "401", "403", "422"} <= set(create["responses"])
    listing = paths["/api/v1/visits/"]["get"]
    assert {"patient", "cursor", "page_size"} <= {p["name"] for p in listing["parameters"]}
    item = schema["components"]["schemas"]["PrescriptionItem"]["properties"]
    assert {"frequency", "frequency_label", "schedule", "quantity"} <= set(item)


def test_a_doctor_cannot_write_a_draft_under_a_colleagues_name(clinic, team):
    """Only the visit's own doctor writes its notes: opening a draft for a colleague with
    notes in it is refused as a whole, as on the visit page."""
    colleague = DoctorProfileFactory(
        membership__clinic=clinic, membership__user__full_name="Arjun Hegde"
    ).membership
    payload = {**full_draft(team), "doctor_id": colleague.pk}
    before = _saved(clinic)
    response = signed_in(team["doctor"]).post(VISITS, payload, format="json")
    assert response.status_code == 403, response.content
    assert (
        "Only Dr Arjun Hegde, the doctor of this visit, can change it." in response.json()["detail"]
    )
    assert _saved(clinic) == before
