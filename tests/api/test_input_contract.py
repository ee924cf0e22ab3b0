"""What the API takes is what its schema says: text only as JSON strings, page sizes from 1,
no NUL in a search, every operation's error answers declared, and the schema's patterns
refusing what the server refuses (issue 18, item 7; `tests/fuzz/` checks it against a live
server)."""

from __future__ import annotations

import base64
import re
from datetime import date, timedelta

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework import serializers

from clinics.api.base import StrictInputSerializer
from clinics.api.fields import usable_day_pattern, visible_text_pattern
from clinics.dates import EARLIEST_DAY, latest_day
from clinics.tenancy import clinic_scope
from clinics.validators import hidden_character, validate_pincode
from messaging.api import serializers as messaging_inputs  # noqa: F401 (registers subclasses)
from messaging.models import Reminder, ReminderKind, ReminderStatus
from patients.api import serializers as patients_inputs  # noqa: F401
from patients.api import serializers_schedule, serializers_visits_input  # noqa: F401
from tests.api.conftest import LIST_URL, assert_error, detail_url
from tests.factories import PatientFactory

NOT_TEXT = "Send this as text (a JSON string)"
VALID = {
    "full_name": "Lakshmi Iyer",
    "sex": "F",
    "phone": "98450 12345",
    "date_of_birth": "1980-01-01",
}


def _input_serializers() -> list[type[StrictInputSerializer]]:
    found, todo = [], list(StrictInputSerializer.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(set(found), key=lambda c: c.__qualname__)


def _text_fields() -> list[tuple[type, str, bool]]:
    """(input serializer, field name, whether it is a list of text) for every text field."""
    cases = []
    for cls in _input_serializers():
        for name, field in cls().fields.items():
            if isinstance(field, serializers.CharField | serializers.ChoiceField):
                cases.append((cls, name, False))
            elif isinstance(field, serializers.ListField) and isinstance(
                field.child, serializers.CharField | serializers.ChoiceField
            ):
                cases.append((cls, name, True))
    return cases


TEXT_FIELDS = _text_fields()


def test_the_walk_finds_the_text_fields_of_every_input():
    names = {(cls.__name__, name) for cls, name, _ in TEXT_FIELDS}
    assert ("PatientCreateInputSerializer", "full_name") in names
    assert ("AppointmentBookInputSerializer", "reason") in names
    assert ("AppointmentCancelInputSerializer", "reason") in names
    assert ("TemplateSendInputSerializer", "parameters") in names
    assert len(names) > 40


@pytest.mark.parametrize(
    ("cls", "name", "is_list"), TEXT_FIELDS, ids=[f"{c.__name__}.{n}" for c, n, _ in TEXT_FIELDS]
)
@pytest.mark.parametrize("value", [12345, 1.5, True, ["a"], {"a": "b"}])
def test_every_text_field_of_every_input_refuses_what_is_not_text(cls, name, is_list, value):
    serializer = cls(data={name: [value] if is_list else value})
    assert not serializer.is_valid()
    assert any(NOT_TEXT in str(m) for m in serializer.errors[name]), serializer.errors


@pytest.mark.django_db
def test_a_number_for_a_patients_name_or_state_is_refused_not_turned_into_text(api, clinic):
    body = assert_error(api.post(LIST_URL, {**VALID, "full_name": 12345}, format="json"), 400)
    assert body["fields"]["full_name"] == [f"{NOT_TEXT}, not a number."]
    body = assert_error(api.post(LIST_URL, {**VALID, "state_code": 29}, format="json"), 400)
    assert body["fields"]["state_code"] == [f"{NOT_TEXT}, not a number."]
    with clinic_scope(clinic):
        patient = PatientFactory(clinic=clinic)
    changed = api.patch(detail_url(patient.pk), {"city": 560041}, format="json")
    assert assert_error(changed, 400)["fields"] == {"city": [f"{NOT_TEXT}, not a number."]}


@pytest.mark.django_db
def test_a_number_as_a_reminders_cancel_reason_is_refused(api, clinic):
    with clinic_scope(clinic):
        reminder = _reminder(clinic)
    response = api.post(f"/api/v1/reminders/{reminder.pk}/cancel/", {"reason": 7}, format="json")
    assert assert_error(response, 400)["fields"] == {"reason": [f"{NOT_TEXT}, not a number."]}


def _reminder(clinic, **kwargs) -> Reminder:
    return Reminder.objects.create(
        clinic=clinic,
        patient=PatientFactory(clinic=clinic),
        kind=ReminderKind.APPOINTMENT_REMINDER,
        source="appointment:1",
        due_at=timezone.now() + timedelta(hours=2),
        **kwargs,
    )


@pytest.mark.django_db
def test_cancelling_a_reminder_that_is_not_planned_is_a_409_conflict(api, clinic):
    with clinic_scope(clinic):
        reminder = _reminder(clinic, status=ReminderStatus.SENT)
    response = api.post(
        f"/api/v1/reminders/{reminder.pk}/cancel/", {"reason": "Travelling"}, format="json"
    )
    assert "planned" in assert_error(response, 409, "conflict")["detail"]


# --- Query parameters ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("size", ["0", "-1", "ten", "1.5"])
@pytest.mark.parametrize("url", [LIST_URL, "/api/v1/conversations/", "/api/v1/reminders/"])
def test_a_page_size_that_is_not_a_whole_number_from_1_is_refused(api, url, size):
    body = assert_error(api.get(url, {"page_size": size}), 400)
    assert "page_size" in body["fields"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/conversations/?show=", "show"),
        ("/api/v1/reminders/?status=", "status"),
        ("/api/v1/appointments/?date=2026-03-10&status=", "status"),
        ("/api/v1/prescriptions/?patient=1&page_size=", "page_size"),
    ],
)
def test_an_empty_query_parameter_is_refused_not_read_as_absent(api, url, name):
    body = assert_error(api.get(url), 400)
    assert set(body["fields"]) == {name}, body


@pytest.mark.django_db
def test_a_page_size_over_100_gives_100_rows(api, clinic):
    with clinic_scope(clinic):
        PatientFactory.create_batch(3, clinic=clinic)
    assert len(api.get("/api/v1/reminders/", {"page_size": 5000}).json()["results"]) == 0
    assert len(api.get(LIST_URL, {"page_size": 5000}).json()["results"]) == 3


@pytest.mark.django_db
def test_a_search_with_a_nul_character_is_refused_not_sent_to_the_database(api):
    body = assert_error(api.get(LIST_URL, {"q": "Lak\x00shmi"}), 400)
    assert body["fields"] == {"q": ["Null characters are not allowed."]}


@pytest.mark.django_db
def test_the_web_search_with_a_nul_character_answers_the_page(clinic, owner, client_for):
    response = client_for(owner).get(f"/c/{clinic.slug}/patients/", {"q": "Lak\x00shmi"})
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_change_of_birth_date_that_makes_a_minor_names_the_date_sent(api, clinic):
    with clinic_scope(clinic):
        patient = PatientFactory(clinic=clinic, date_of_birth=date(1980, 1, 1))
    child = (timezone.localdate() - timedelta(days=365 * 5)).isoformat()
    body = assert_error(
        api.patch(detail_url(patient.pk), {"date_of_birth": child}, format="json"), 400
    )
    assert set(body["fields"]) == {"date_of_birth"}
    assert "guardian" in body["fields"]["date_of_birth"][0]


# --- The schema ---------------------------------------------------------------------------------


@pytest.fixture
def schema(client, db) -> dict:
    return yaml.safe_load(client.get("/api/schema/").content)


def _operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_every_operation_declares_its_error_answers_in_the_error_shape(schema):
    error = {"$ref": "#/components/schemas/Error"}
    for path, method, operation in _operations(schema):
        responses = operation["responses"]
        wanted = {"401", "403"}
        if "{" in path:
            wanted.add("404")
        if method in ("post", "patch", "put"):
            wanted |= {"400", "413", "415"}
        if any(p["in"] == "query" for p in operation.get("parameters", [])):
            wanted.add("400")
        assert wanted <= set(responses), (method, path, sorted(responses))
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert response["content"]["application/json"]["schema"] == error, (path, status)


def test_inputs_refuse_unknown_fields_in_the_schema_too(schema):
    components = schema["components"]["schemas"]
    inputs = [name for name in components if name.endswith("InputRequest")]
    assert len(inputs) > 10
    for name in inputs:
        assert components[name]["additionalProperties"] is False, name


def test_query_parameters_declare_their_bounds(schema):
    for path, _method, operation in _operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["name"] == "page_size":
                assert parameter["schema"]["minimum"] == 1, path
            if parameter["in"] == "query" and parameter["schema"].get("type") == "integer":
                assert parameter["schema"].get("minimum", 0) >= 1, (path, parameter["name"])
            if parameter["name"] == "Idempotency-Key":
                assert parameter["schema"]["pattern"] == r"^[\x21-\x7e]{1,255}$"
    slots = schema["paths"]["/api/v1/doctors/{doctor_id}/slots/"]["get"]["parameters"]
    days = next(p for p in slots if p["name"] == "days")["schema"]
    assert (days["minimum"], days["maximum"]) == (1, 14)
    date_param = next(p for p in slots if p["name"] == "date")["schema"]
    assert date_param["pattern"] == usable_day_pattern()


def test_the_date_pattern_is_the_clinics_calendar():
    pattern = re.compile(usable_day_pattern())
    last = latest_day()
    assert pattern.match(EARLIEST_DAY.isoformat()) and pattern.match(last.isoformat())
    assert not pattern.match((EARLIEST_DAY - timedelta(days=1)).isoformat())
    assert not pattern.match(date(last.year + 1, 1, 1).isoformat())
    assert not pattern.match("0001-01-01")


def test_the_text_patterns_refuse_what_the_validators_refuse(schema):
    visible = re.compile(visible_text_pattern())
    multiline = re.compile(visible_text_pattern(multiline=True))
    required = re.compile(visible_text_pattern(required=True))
    samples = [
        "Asha Rao",
        "क्\u200dष",
        "Evil\u202eTXT",
        "a\u00adb",
        "a\nb",
        "a\x00",
        "\ufeffAsha",
    ]
    for text in samples:
        assert bool(visible.match(text)) == (hidden_character(text) is None), text
        assert bool(multiline.match(text)) == (hidden_character(text, multiline=True) is None)
    # Beyond the Basic Multilingual Plane the rule, not the pattern, says it.
    assert hidden_character("tag\U000e0041") and visible.match("tag\U000e0041")
    assert "invisible" in _property(schema, "PatientCreateInputRequest", "full_name")["x-rule"]
    assert not required.match("   ") and required.match(" Asha ")
    pincode_schema = _property(schema, "PatientCreateInputRequest", "pincode")
    pincode = re.compile(pincode_schema["oneOf"][0]["pattern"])
    for value in ["560041", "060041", "56004", "5600411", "56oo41"]:
        try:
            validate_pincode(value)
            valid = True
        except ValidationError:
            valid = False
        assert bool(pincode.match(value)) == valid, value


def _property(schema: dict, component: str, name: str) -> dict:
    return schema["components"]["schemas"][component]["properties"][name]


def test_rules_a_schema_cannot_express_are_named_on_their_fields(schema):
    phone = _property(schema, "PatientCreateInputRequest", "phone")
    assert "x-rule" in phone and phone["pattern"]
    assert "x-rule" in _property(schema, "AppointmentBookInputRequest", "patient_id")
    horizon = _property(schema, "AppointmentBookInputRequest", "starts_at")["x-rule"]
    assert "booking horizon" in horizon
    assert "x-rule" in str(_property(schema, "PatientCreateInputRequest", "guardian"))


def _cursor(position: str) -> str:
    return base64.b64encode(f"p={position}".encode()).decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "position"),
    [
        ("/api/v1/conversations/", "abc"),
        ("/api/v1/reminders/", "not-a-time"),
        ("/api/v1/reminders/", "2026-99-99T00:00:00"),
        ("/api/v1/visits/?patient={patient}", "2026-13-01T00:00:00"),
    ],
)
def test_a_page_link_with_a_forged_position_is_404_not_a_server_error(api, clinic, url, position):
    with clinic_scope(clinic):
        patient = PatientFactory(clinic=clinic)
    url = url.format(patient=patient.pk)
    joiner = "&" if "?" in url else "?"
    response = api.get(f"{url}{joiner}cursor={_cursor(position)}")
    assert "page link" in assert_error(response, 404)["detail"]


@pytest.mark.django_db
def test_phones_going_out_are_declared_as_e164_and_are(schema, api):
    patient = schema["components"]["schemas"]["Patient"]["properties"]
    pattern = re.compile(patient["phone"]["pattern"])
    assert patient["whatsapp_phone"]["pattern"] == patient["phone"]["pattern"]
    assert _property(schema, "Clinic", "phone")["pattern"] == patient["phone"]["pattern"]
    body = api.post(LIST_URL, {**VALID, "whatsapp_phone": "+44 20 7946 0958"}, format="json").json()
    assert pattern.match(body["phone"]) and pattern.match(body["whatsapp_phone"])
    assert pattern.match(body["emergency_contact_phone"])  # empty
    assert not pattern.match("98450 12345")


@pytest.mark.django_db
def test_changing_an_archived_patient_is_refused_with_the_declared_code(api, clinic, schema):
    with clinic_scope(clinic):
        patient = PatientFactory(clinic=clinic, archived_at=timezone.now())
    response = api.patch(detail_url(patient.pk), {"city": "Mysuru"}, format="json")
    body = assert_error(response, 400, "archived")
    assert "Restore" in body["detail"]
    described = schema["paths"]["/api/v1/patients/{patient_id}/"]["patch"]["responses"]["400"]
    assert "`archived`" in described["description"]
