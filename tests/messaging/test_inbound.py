"""Inbound WhatsApp messages: matching senders to patients, media, quick replies, trouble words.

The simulator plays the patient's phone: its signed webhooks (caught by the `receiver`) are
posted unchanged to the clinic's webhook endpoint.
"""

from __future__ import annotations

import hashlib
import json
import time

import pytest
from django.test import Client

from clinics.audit import Actions
from clinics.errors import DomainError
from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.storage import storage
from clinics.tenancy import clinic_scope, scopes_disabled
from messaging.models import (
    Conversation,
    Escalation,
    EscalationReason,
    Message,
    MessageKind,
    WebhookDelivery,
)
from messaging.replies import _handlers, button_payload, register_reply_handler
from messaging.services.conversations import conversation_link
from messaging.tasks import process_webhook
from patients.models import Visit
from tests.factories import MembershipFactory
from tests.messaging.conftest import PATIENT, make_patient
from tests.messaging.test_webhook import deliver, envelope, text_message, webhook_path

STRANGER = "919812300001"


@pytest.fixture
def web():
    return Client()


def make_relay(web, account, receiver, capture):
    """forward(count=1): post the simulator's next inbound webhook(s), as signed, to our
    endpoint and run the processing task."""
    seen = {"count": 0}

    def forward(count: int = 1):
        found = receiver.wait_for(
            seen["count"] + count,
            lambda body: "messages" in body["entry"][0]["changes"][0]["value"],
        )
        assert len(found) >= seen["count"] + count, "the simulator sent no inbound webhook"
        responses = []
        for item in found[seen["count"] : seen["count"] + count]:
            with capture(execute=True):
                responses.append(
                    web.post(
                        webhook_path(account),
                        data=item.body,
                        content_type="application/json",
                        HTTP_X_HUB_SIGNATURE_256=item.headers["X-Hub-Signature-256"],
                    )
                )
        seen["count"] += count
        assert all(r.status_code == 200 for r in responses)
        return responses

    return forward


@pytest.fixture
def relay(web, wa_account, receiver, django_capture_on_commit_callbacks):
    return make_relay(web, wa_account, receiver, django_capture_on_commit_callbacks)


# --- who wrote ----------------------------------------------------------------------------------
def test_a_registered_patient_is_recognised_by_phone(sim, wa_account, patient, relay):
    wamid = sim.reply(PATIENT, "Thank you doctor", name="Ravi")
    relay()
    message = Message.objects.get(wamid=wamid)
    assert message.patient_id == patient.pk
    assert (message.direction, message.status, message.kind) == ("in", "received", "text")
    conversation = message.conversation
    assert conversation.patient_id == patient.pk
    assert conversation.unread_count == 1 and conversation.needs_reply
    assert conversation.window_open()


def test_an_unknown_sender_starts_an_unknown_conversation_that_staff_link(
    sim, wa_account, scoped, relay
):
    sim.reply(STRANGER, "Do you do home visits?", name="Meena")
    relay()
    conversation = Conversation.objects.get(wa_id=STRANGER)
    assert conversation.is_unknown and conversation.profile_name == "Meena"

    patient = make_patient(scoped, phone="+91 98123 00002")  # registered with another number
    staff = MembershipFactory(clinic=scoped, role=Role.FRONT_DESK).user
    conversation_link(conversation=conversation, patient=patient, actor=staff)
    conversation.refresh_from_db()
    assert conversation.patient_id == patient.pk
    assert Message.objects.get(conversation=conversation).patient_id == patient.pk
    assert AuditEvent.objects.filter(
        action=Actions.CONVERSATION_LINKED, patient_id=patient.pk
    ).exists()

    with pytest.raises(DomainError, match="already linked"):
        conversation_link(conversation=conversation, patient=patient, actor=staff)

    # The next message on the linked conversation belongs to the patient.
    wamid = sim.reply(STRANGER, "Thanks")
    relay()
    assert Message.objects.get(wamid=wamid).patient_id == patient.pk


def test_linking_refuses_another_clinics_patient(sim, wa_account, scoped, other_clinic, relay):
    sim.reply(STRANGER, "Hello")
    relay()
    conversation = Conversation.objects.get(wa_id=STRANGER)
    with clinic_scope(other_clinic):
        outsider = make_patient(other_clinic, phone="+91 98123 00001")
    staff = MembershipFactory(clinic=scoped, role=Role.OWNER).user
    with pytest.raises(DomainError, match="this clinic's patients"):
        conversation_link(conversation=conversation, patient=outsider, actor=staff)
    conversation.refresh_from_db()
    assert conversation.is_unknown


def test_a_phone_shared_by_a_family_stays_unknown(sim, wa_account, scoped, relay):
    make_patient(scoped, phone="+91 98123 00001", full_name="Asha Devi")
    make_patient(scoped, phone="+91 98123 00001", full_name="Kiran Devi")
    sim.reply(STRANGER, "My daughter has fever")
    relay()
    conversation = Conversation.objects.get(wa_id=STRANGER)
    assert conversation.is_unknown
    assert Message.objects.get(conversation=conversation).patient_id is None


def test_a_patient_is_matched_by_their_separate_whatsapp_number(sim, wa_account, scoped, relay):
    patient = make_patient(scoped, phone="+91 90000 11111", whatsapp_phone="+91 98123 00001")
    sim.reply(STRANGER, "Hello")
    relay()
    assert Conversation.objects.get(wa_id=STRANGER).patient_id == patient.pk


def test_a_user_with_only_a_business_scoped_id_gets_one_conversation(
    web, wa_account, django_capture_on_commit_callbacks
):
    def from_username(wamid, text):
        return envelope(
            {
                "contacts": [{"profile": {"name": "traveller"}, "user_id": "IN.1234567890"}],
                "messages": [
                    {
                        "from_user_id": "IN.1234567890",
                        "id": wamid,
                        "timestamp": str(int(time.time())),
                        "type": "text",
                        "text": {"body": text},
                    }
                ],
            }
        )

    deliver(web, wa_account, from_username("wamid.U1", "hi"), django_capture_on_commit_callbacks)
    deliver(web, wa_account, from_username("wamid.U2", "hello"), django_capture_on_commit_callbacks)
    conversation = Conversation.objects.get()
    assert (conversation.wa_id, conversation.bsuid) == ("", "IN.1234567890")
    assert conversation.is_unknown
    assert conversation.messages.count() == 2


def test_a_phone_user_gains_their_business_scoped_id(sim, wa_account, patient, relay):
    sim.reply(PATIENT, "hello", user_id="IN.555")
    relay()
    conversation = Conversation.objects.get()
    assert (conversation.wa_id, conversation.bsuid, conversation.patient_id) == (
        PATIENT,
        "IN.555",
        patient.pk,
    )


# --- media --------------------------------------------------------------------------------------
PDF = b"%PDF-1.4\n% a lab report\n" + bytes(range(256)) * 20


def test_inbound_media_is_copied_into_storage_with_its_sha256(sim, wa_account, patient, relay):
    wamid, _media_id = sim.send_document_from_patient(
        PATIENT, PDF, filename="cbc-report.pdf", caption="My blood test"
    )
    relay()
    message = Message.objects.get(wamid=wamid)
    assert message.kind == MessageKind.DOCUMENT and message.body == "My blood test"
    assert message.media_sha256 == hashlib.sha256(PDF).hexdigest()
    assert message.media_size == len(PDF)
    assert (message.media_mime_type, message.media_filename) == (
        "application/pdf",
        "cbc-report.pdf",
    )
    assert message.media_file.name.startswith(f"clinics/{patient.clinic_id}/whatsapp_media/")
    assert "cbc" not in message.media_file.name and PATIENT not in message.media_file.name
    with storage().open(message.media_file.name) as handle:
        assert handle.read() == PDF
    assert message.error_title == ""
    with scopes_disabled():
        assert not WebhookDelivery.objects.exists()


def test_tampered_media_is_refused_recorded_and_retried_without_a_second_message(
    sim, wa_account, patient, relay
):
    wamid, media_id = sim.send_document_from_patient(PATIENT, PDF, filename="scan.pdf")
    sim.tamper_media(media_id)
    relay()
    message = Message.objects.get(wamid=wamid)
    assert not message.media_file
    assert "checksum" in message.error_title
    with scopes_disabled():
        delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1 and "MediaDownloadFailed" in delivery.error

    # The task's retry downloads again; the message is not stored twice.
    with pytest.raises(Exception, match="not copied"):
        process_webhook(delivery.pk)
    assert Message.objects.filter(wamid=wamid).count() == 1
    with scopes_disabled():
        assert WebhookDelivery.objects.get().attempts == 2


def test_a_failed_media_download_is_copied_on_the_retry(sim, wa_account, patient, relay):
    wamid, media_id = sim.send_document_from_patient(PATIENT, PDF, filename="scan.pdf")
    original = sim.state.media[media_id].data
    sim.tamper_media(media_id)
    relay()
    assert not Message.objects.get(wamid=wamid).media_file
    sim.state.media[media_id].data = original  # Meta serves the right file the next time

    with scopes_disabled():
        delivery = WebhookDelivery.objects.get()
    assert process_webhook(delivery.pk)
    message = Message.objects.get(wamid=wamid)
    assert message.media_sha256 == hashlib.sha256(PDF).hexdigest() and message.error_title == ""
    assert Message.objects.filter(wamid=wamid).count() == 1
    with scopes_disabled():
        assert not WebhookDelivery.objects.exists()


# --- quick replies ------------------------------------------------------------------------------
@pytest.fixture
def test_handler():
    calls = []

    @register_reply_handler("test_answer")
    def handle(message, action, reminder_id):
        calls.append((message.pk, action, reminder_id, message.body))
        return "Thank you, noted."

    yield calls
    _handlers.pop("test_answer", None)


def test_a_button_press_reaches_its_handler_and_the_reply_goes_out(
    sim, wa_account, patient, relay, test_handler
):
    wamid = sim.reply(
        PATIENT, button_payload=button_payload("test_answer", 41), button_text="Taken"
    )
    relay()
    message = Message.objects.get(wamid=wamid)
    assert (message.kind, message.payload, message.body) == ("button", "test_answer:41", "Taken")
    assert test_handler == [(message.pk, "test_answer", 41, "Taken")]
    reply = Message.objects.filter(direction="out").get()
    # Every message names the clinic.
    assert reply.body == "Thank you, noted.\n— Asha Family Clinic" and reply.status == "sent"
    assert [m["body"] for m in sim.received(PATIENT)] == [reply.body]


def test_an_interactive_reply_id_is_the_payload(
    web, wa_account, patient, django_capture_on_commit_callbacks, test_handler
):
    payload = envelope(
        {
            "contacts": [{"profile": {"name": "Ravi"}, "wa_id": PATIENT}],
            "messages": [
                {
                    "from": PATIENT,
                    "id": "wamid.I1",
                    "timestamp": str(int(time.time())),
                    "type": "interactive",
                    "context": {"id": "wamid.OURS"},
                    "interactive": {
                        "type": "button_reply",
                        "button_reply": {"id": "test_answer:7", "title": "Yes"},
                    },
                }
            ],
        }
    )
    deliver(web, wa_account, payload, django_capture_on_commit_callbacks)
    message = Message.objects.get(wamid="wamid.I1")
    assert (message.payload, message.body, message.context_wamid) == (
        "test_answer:7",
        "Yes",
        "wamid.OURS",
    )
    assert test_handler[0][2] == 7


# --- trouble words ------------------------------------------------------------------------------
def test_trouble_words_open_one_escalation_for_the_patients_doctor(
    web, wa_account, patient, django_capture_on_commit_callbacks
):
    doctor = MembershipFactory(clinic=patient.clinic, role=Role.DOCTOR)
    Visit.objects.create(
        clinic_id=patient.clinic_id, patient=patient, doctor=doctor, created_by=doctor.user
    )
    payload = text_message("Since morning I have CHEST PAIN and feel dizzy", wamid="wamid.T1")
    deliver(web, wa_account, payload, django_capture_on_commit_callbacks)
    deliver(web, wa_account, payload, django_capture_on_commit_callbacks)  # redelivered
    escalation = Escalation.objects.get()
    message = Message.objects.get(wamid="wamid.T1")
    assert escalation.reason == EscalationReason.TROUBLE_WORDS
    assert (escalation.patient_id, escalation.doctor_id, escalation.message_id) == (
        patient.pk,
        doctor.pk,
        message.pk,
    )
    assert "chest pain" in escalation.detail

    deliver(
        web,
        wa_account,
        text_message("Feeling better now", wamid="wamid.T2"),
        django_capture_on_commit_callbacks,
    )
    assert Escalation.objects.count() == 1


def test_hindi_trouble_words_are_found_too(
    web, wa_account, patient, django_capture_on_commit_callbacks
):
    deliver(
        web,
        wa_account,
        text_message("मुझे सांस लेने में तकलीफ है", wamid="wamid.H1"),
        django_capture_on_commit_callbacks,
    )
    assert Escalation.objects.get().reason == EscalationReason.TROUBLE_WORDS


def test_the_webhook_body_is_stored_as_sent(web, wa_account, django_capture_on_commit_callbacks):
    body = json.dumps(text_message("hi", wamid="wamid.R1"), separators=(",", ":")).encode()
    with django_capture_on_commit_callbacks(execute=False):
        from messaging.whatsapp.signature import sign

        web.post(
            webhook_path(wa_account),
            data=body,
            content_type="application/json",
            HTTP_X_HUB_SIGNATURE_256=sign(body, wa_account.app_secret),
        )
    with scopes_disabled():
        assert bytes(WebhookDelivery.objects.get().body) == body
