"""The messaging API: conversations, messages, sending a template, reminders, consent."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml
from django.utils import timezone

from clinics.roles import Role
from clinics.tenancy import clinic_scope
from compliance.models import ConsentEvent
from messaging.models import Message, Reminder, ReminderKind, ReminderStatus
from tests.api.conftest import assert_error
from tests.factories import PatientFactory
from tests.messaging.conftest import PATIENT, make_patient, make_template
from tests.messaging.test_inbox import inbound, make_account, make_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(scoped, api_client_for):
    return api_client_for(scoped, role=Role.OWNER)


def test_conversation_list_and_filters(scoped, api):
    account = make_account(scoped)
    patient = make_patient(scoped, phone="+91 98000 11111", full_name="Meera Iyer")
    known = make_conversation(account, patient=patient, unread_count=2)
    unknown = make_conversation(account, wa_id="919800022222", profile_name="Ravi")
    body = api.get("/api/v1/conversations/").json()
    assert {c["id"] for c in body["results"]} == {known.pk, unknown.pk}
    row = next(c for c in body["results"] if c["id"] == known.pk)
    assert row["patient"]["full_name"] == "Meera Iyer" and row["unread_count"] == 2
    assert row["window_open"] is False
    unread = api.get("/api/v1/conversations/", {"show": "unread"}).json()["results"]
    assert [c["id"] for c in unread] == [known.pk]
    unknowns = api.get("/api/v1/conversations/", {"show": "unknown"}).json()["results"]
    assert [c["id"] for c in unknowns] == [unknown.pk] and unknowns[0]["patient"] is None
    bad = api.get("/api/v1/conversations/", {"show": "everything"})
    assert "show" in assert_error(bad, 400)["fields"]


def test_conversation_messages(scoped, api):
    conversation = make_conversation(make_account(scoped))
    inbound(conversation, "first")
    inbound(conversation, "second")
    response = api.get(f"/api/v1/conversations/{conversation.pk}/messages/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [m["body"] for m in results] == ["second", "first"]
    assert results[0]["direction"] == "in" and results[0]["status"] == "received"
    assert_error(api.get("/api/v1/conversations/999999/messages/"), 404, "not_found")


def test_send_a_template_reaches_the_simulator_once_with_an_idempotency_key(
    scoped, api, wa_account, patient, sim, django_capture_on_commit_callbacks
):
    template = make_template(scoped, sim=sim)
    conversation = make_conversation(wa_account, patient=patient, wa_id=PATIENT)
    target = f"/api/v1/conversations/{conversation.pk}/templates/"
    payload = {"template_id": template.pk, "parameters": ["Asha", "12 Jan 2027"]}
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(target, payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.content
    assert first.json()["purpose"] == "care"
    assert first.json()["body"].startswith("Hello Asha")
    again = api.post(target, payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert Message.objects.filter(conversation=conversation).count() == 1
    assert any("12 Jan 2027" in str(m) for m in sim.received(PATIENT))


def test_send_a_template_errors(scoped, api, wa_account):
    stranger = make_patient(scoped, consent=False)
    template = make_template(scoped)
    conversation = make_conversation(wa_account, patient=stranger, wa_id=PATIENT)
    target = f"/api/v1/conversations/{conversation.pk}/templates/"
    refused = api.post(
        target, {"template_id": template.pk, "parameters": ["A", "B"]}, format="json"
    )
    body = assert_error(refused, 400, "cannot_send")
    assert "not agreed" in body["detail"]
    short = api.post(target, {"template_id": template.pk, "parameters": ["A"]}, format="json")
    assert "parameters" in assert_error(short, 400)["fields"]
    missing = api.post(target, {"template_id": 999999}, format="json")
    assert "template_id" in assert_error(missing, 400)["fields"]
    unknown_field = api.post(target, {"template_id": template.pk, "x": 1}, format="json")
    assert "x" in assert_error(unknown_field, 400)["fields"]


def test_read_only_and_billing_keys_cannot_send(scoped, api_client_for, wa_account):
    conversation = make_conversation(wa_account)
    target = f"/api/v1/conversations/{conversation.pk}/templates/"
    billing = api_client_for(scoped, role=Role.BILLING)
    assert_error(billing.get("/api/v1/conversations/"), 403)
    assert_error(billing.post(target, {"template_id": 1}, format="json"), 403)


def test_reminders_list_filters_and_cancel(scoped, api):
    patient = PatientFactory(clinic=scoped)
    other = PatientFactory(clinic=scoped)
    now = timezone.now()
    soon = Reminder.objects.create(
        clinic=scoped,
        patient=patient,
        kind=ReminderKind.APPOINTMENT_REMINDER,
        source="appointment:1",
        due_at=now + timedelta(hours=2),
    )
    Reminder.objects.create(
        clinic=scoped,
        patient=other,
        kind=ReminderKind.MEDICINE,
        source="prescription_item:3",
        due_at=now + timedelta(days=3),
    )
    listing = api.get("/api/v1/reminders/", {"patient": patient.pk}).json()["results"]
    assert [r["id"] for r in listing] == [soon.pk]
    assert listing[0]["kind"] == "appointment_reminder" and listing[0]["status"] == "planned"
    by_kind = api.get("/api/v1/reminders/", {"kind": "medicine"}).json()["results"]
    assert [r["patient"]["id"] for r in by_kind] == [other.pk]
    window = {
        "due_from": (now + timedelta(hours=1)).isoformat(),
        "due_to": (now + timedelta(days=1)).isoformat(),
    }
    assert [r["id"] for r in api.get("/api/v1/reminders/", window).json()["results"]] == [soon.pk]
    naive = api.get("/api/v1/reminders/", {"due_from": "2027-01-12T10:00:00"})
    assert "due_from" in assert_error(naive, 400)["fields"]
    no_reason = api.post(f"/api/v1/reminders/{soon.pk}/cancel/", {}, format="json")
    assert "reason" in assert_error(no_reason, 400)["fields"]
    cancelled = api.post(
        f"/api/v1/reminders/{soon.pk}/cancel/", {"reason": "Patient travelling"}, format="json"
    )
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["status"] == ReminderStatus.CANCELLED
    soon.refresh_from_db()
    assert soon.status == ReminderStatus.CANCELLED


def test_consent_read_and_record(scoped, api):
    patient = make_patient(scoped, consent=False)
    url = f"/api/v1/patients/{patient.pk}/consent/"
    before = api.get(url).json()
    assert before["patient_id"] == patient.pk
    assert {c["purpose"]: c["granted"] for c in before["consents"]} == {
        "whatsapp_care": False,
        "whatsapp_marketing": False,
    }
    granted = api.post(url, {"purpose": "whatsapp_care", "action": "grant"}, format="json")
    assert granted.status_code == 200, granted.content
    care = next(c for c in granted.json()["consents"] if c["purpose"] == "whatsapp_care")
    assert care["granted"] is True and care["method"] == "api"
    assert ConsentEvent.objects.filter(patient=patient, method="api").count() == 1
    withdrawn = api.post(url, {"purpose": "whatsapp_care", "action": "withdraw"}, format="json")
    care = next(c for c in withdrawn.json()["consents"] if c["purpose"] == "whatsapp_care")
    assert care["granted"] is False and care["action"] == "withdrawn"
    bad = api.post(url, {"purpose": "sms", "action": "grant"}, format="json")
    assert "purpose" in assert_error(bad, 400)["fields"]


def test_consent_marketing_is_refused_for_a_minor(scoped, api):
    from datetime import date

    child = make_patient(scoped, consent=False, date_of_birth=date.today() - timedelta(days=3000))
    response = api.post(
        f"/api/v1/patients/{child.pk}/consent/",
        {"purpose": "whatsapp_marketing", "action": "grant"},
        format="json",
    )
    assert_error(response, 400, "minor")


def test_another_clinics_objects_are_404(scoped, other_clinic, api):
    with clinic_scope(other_clinic):
        conversation = make_conversation(make_account(other_clinic, "109876543210077"))
        patient = PatientFactory(clinic=other_clinic)
        reminder = Reminder.objects.create(
            clinic=other_clinic,
            patient=patient,
            kind=ReminderKind.FOLLOW_UP,
            source="visit:1",
            due_at=timezone.now(),
        )
    assert_error(api.get(f"/api/v1/conversations/{conversation.pk}/messages/"), 404)
    assert_error(api.post(f"/api/v1/conversations/{conversation.pk}/templates/", {}), 404)
    assert_error(api.post(f"/api/v1/reminders/{reminder.pk}/cancel/", {}), 404)
    assert_error(api.get(f"/api/v1/patients/{patient.pk}/consent/"), 404)
    assert api.get("/api/v1/conversations/").json()["results"] == []


def test_schema_includes_the_messaging_endpoints(client_for, owner):
    web = client_for(owner)
    schema = yaml.safe_load(web.get("/api/schema/").content)
    paths = schema["paths"]
    assert {
        "/api/v1/conversations/",
        "/api/v1/conversations/{conversation_id}/messages/",
        "/api/v1/conversations/{conversation_id}/templates/",
        "/api/v1/reminders/",
        "/api/v1/reminders/{reminder_id}/cancel/",
        "/api/v1/patients/{patient_id}/consent/",
    } <= set(paths)
    send = paths["/api/v1/conversations/{conversation_id}/templates/"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in send["parameters"]}
    assert {"201", "400", "403", "404"} <= set(send["responses"])
    consent = paths["/api/v1/patients/{patient_id}/consent/"]
    assert {"get", "post"} <= set(consent)
