"""Messaging's personal-data entries find a patient's rows, anonymise them and form FHIR."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.communication import Communication

from clinics.models import IdempotencyRecord
from compliance.personal_data import erase_rows, kind_rows, personal_data
from messaging.models import Message, WebhookDelivery
from tests.messaging.conftest import make_patient
from tests.messaging.test_inbox import inbound, make_account, make_conversation

pytestmark = pytest.mark.django_db


def _kind(name):
    return next(k for k in personal_data.entries() if k.name == name)


def _delivery(account, wa_id, text):
    body = {"entry": [{"changes": [{"value": {"contacts": [{"wa_id": wa_id}],
            "messages": [{"from": wa_id, "text": {"body": text}}]}}]}]}  # fmt: skip
    return WebhookDelivery.objects.create(
        clinic_id=account.clinic_id, account=account, body=json.dumps(body).encode()
    )


def test_a_patients_webhook_deliveries_are_found_by_their_whatsapp_number(scoped):
    account = make_account(scoped)
    patient = make_patient(scoped, full_name="Meera Iyer")
    make_conversation(account, patient=patient, wa_id="919800011111")
    theirs = _delivery(account, "919800011111", "my sugar is high")
    other = _delivery(account, "919800022222", "hello")
    rows = kind_rows(_kind("messaging.webhook_delivery"), patient.id)
    assert list(rows) == [theirs]
    erase_rows(_kind("messaging.webhook_delivery"), rows)
    assert list(WebhookDelivery.objects.all()) == [other]


def test_a_message_body_is_anonymised_and_its_metadata_kept(scoped):
    account = make_account(scoped)
    patient = make_patient(scoped)
    message = inbound(make_conversation(account, patient=patient), body="planted words")
    kind = _kind("messaging.message")
    assert erase_rows(kind, kind_rows(kind, patient.id)) == 1
    message.refresh_from_db()
    assert (message.body, message.direction) == ("", "in")
    assert not Message.objects.filter(kind.extra["holds_data"]).exists()


def test_a_message_forms_a_valid_fhir_r4_communication(scoped):
    account = make_account(scoped)
    patient = make_patient(scoped)
    message = inbound(make_conversation(account, patient=patient), body="fever since monday")
    resource = _kind("messaging.message").fhir(message)
    Communication.model_validate(resource)
    assert resource["payload"] == [{"contentString": "fever since monday"}]
    assert resource["sender"] == {"reference": f"Patient/patient-{patient.id}"}


def test_stored_api_answers_that_name_the_patient_are_found(scoped):
    patient = make_patient(scoped, full_name="Meera Iyer")
    common = {"clinic": scoped, "principal": "key:1", "method": "POST", "request_hash": "x"}
    theirs = IdempotencyRecord.objects.create(
        **common, key="a", path="/api/v1/patients/", status_code=201,
        response_body={"id": patient.id, "full_name": "Meera Iyer"},
    )  # fmt: skip
    IdempotencyRecord.objects.create(
        **common, key="b", path="/api/v1/appointments/", status_code=201,
        response_body={"id": 5, "patient": patient.id + 1000},
    )  # fmt: skip
    assert list(kind_rows(_kind("clinics.idempotency_record"), patient.id)) == [theirs]
