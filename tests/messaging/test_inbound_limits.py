"""What a sender writes is stored within bounds: a text past WhatsApp's 4,096 characters is cut
and says so in the inbox, and names, button titles and the other values from a webhook are cut.

Deliveries are signed and posted to the webhook endpoint as Meta posts them (see test_webhook).
"""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from clinics.roles import Role
from messaging.models import Escalation, EscalationReason, Message
from messaging.services.accounts import messaging_settings_for
from tests.messaging.conftest import PATIENT
from tests.messaging.test_webhook import deliver, envelope, text_message

CUT_NOTE = "\n…[message cut at 4,096 characters]"


@pytest.fixture
def web():
    return Client()


def inbound(item: dict, *, name: str = "Ravi") -> dict:
    message = {"from": PATIENT, "timestamp": str(int(time.time()))} | item
    return envelope(
        {"contacts": [{"profile": {"name": name}, "wa_id": PATIENT}], "messages": [message]}
    )


def test_a_2_mb_text_is_stored_cut_at_4096_characters_with_a_note(
    web,
    wa_account,
    patient,
    django_capture_on_commit_callbacks,
    settings,
    scoped,
    member_factory,
    client_for,
):
    text = "दर्द " * (2 * 1024 * 1024 // 13)  # 2 MB of UTF-8: 13 bytes a word
    payload = text_message(text, wamid="wamid.LONG")
    body = json.dumps(payload, ensure_ascii=False).encode()
    assert 2_000_000 < len(body) <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = deliver(web, wa_account, body, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    message = Message.objects.get(wamid="wamid.LONG")
    assert message.body == text[:4096] + CUT_NOTE
    # The front desk reading the conversation sees that the patient wrote more.
    desk = client_for(member_factory(scoped, role=Role.FRONT_DESK))
    page = desk.get(f"/c/{scoped.slug}/messages/{message.conversation_id}/")
    assert page.status_code == 200
    assert "…[message cut at 4,096 characters]" in page.content.decode()


def test_a_text_of_exactly_4096_characters_is_kept_whole(
    web, wa_account, patient, django_capture_on_commit_callbacks
):
    text = "a" * 4096
    deliver(
        web, wa_account, text_message(text, wamid="wamid.EDGE"), django_capture_on_commit_callbacks
    )
    assert Message.objects.get(wamid="wamid.EDGE").body == text


def test_a_long_profile_name_is_cut(web, wa_account, patient, django_capture_on_commit_callbacks):
    payload = text_message("Hello", wamid="wamid.NAME", name="Ravi " * 1000)
    deliver(web, wa_account, payload, django_capture_on_commit_callbacks)
    name = Message.objects.get(wamid="wamid.NAME").conversation.profile_name
    assert len(name) == 100
    assert name == ("Ravi " * 1000)[:99] + "…"


def test_a_long_button_title_and_payload_are_cut(
    web, wa_account, patient, django_capture_on_commit_callbacks
):
    payload = inbound(
        {"id": "wamid.BTN", "type": "button", "button": {"text": "Y" * 5000, "payload": "p" * 5000}}
    )
    deliver(web, wa_account, payload, django_capture_on_commit_callbacks)
    message = Message.objects.get(wamid="wamid.BTN")
    assert message.body == "Y" * 99 + "…"
    assert message.payload == "p" * 256


def test_long_interactive_media_location_and_reaction_values_are_cut(
    web, wa_account, patient, django_capture_on_commit_callbacks
):
    items = [
        {
            "id": "wamid.LIST",
            "type": "interactive",
            "interactive": {
                "type": "list_reply",
                "list_reply": {"id": "i" * 5000, "title": "T" * 5000},
            },
        },
        {
            "id": "wamid.DOC",
            "type": "document",
            "document": {
                "id": "",
                "mime_type": "application/" + "x" * 5000,
                "filename": "f" * 5000 + ".pdf",
                "caption": "c" * 5000,
            },
        },
        {
            "id": "wamid.LOC",
            "type": "location",
            "location": {"latitude": 12.9, "longitude": 77.6, "name": "n" * 5000, "address": "a"},
        },
        {
            "id": "wamid.REACT",
            "type": "reaction",
            "reaction": {"message_id": "x", "emoji": "🙂" * 500},
        },
    ]
    for item in items:
        deliver(web, wa_account, inbound(item), django_capture_on_commit_callbacks)
    listed = Message.objects.get(wamid="wamid.LIST")
    assert (listed.body, listed.payload) == ("T" * 99 + "…", "i" * 256)
    document = Message.objects.get(wamid="wamid.DOC")
    assert document.body == "c" * 1024 + "\n…[caption cut at 1,024 characters]"
    assert len(document.media_mime_type) == 100 and len(document.media_filename) == 255
    assert Message.objects.get(wamid="wamid.LOC").body == "n" * 299 + "…, a"
    assert Message.objects.get(wamid="wamid.REACT").body == "🙂" * 31 + "…"


def test_a_normal_message_is_stored_as_sent(
    web, wa_account, patient, django_capture_on_commit_callbacks
):
    text = "Doctor, can I take the tablet after food? धन्यवाद 🙏"
    deliver(
        web,
        wa_account,
        text_message(text, wamid="wamid.OK", name="Meena Iyer"),
        django_capture_on_commit_callbacks,
    )
    message = Message.objects.get(wamid="wamid.OK")
    assert message.body == text
    assert message.conversation.profile_name == "Meena Iyer"


def test_trouble_words_past_the_cut_still_reach_the_doctor(
    web, wa_account, patient, django_capture_on_commit_callbacks
):
    text = "I am writing a long story. " * 400 + "Now I have chest pain."
    deliver(
        web, wa_account, text_message(text, wamid="wamid.TAIL"), django_capture_on_commit_callbacks
    )
    message = Message.objects.get(wamid="wamid.TAIL")
    assert "chest pain" not in message.body
    escalation = Escalation.objects.get()
    assert (escalation.reason, escalation.message_id) == (
        EscalationReason.TROUBLE_WORDS,
        message.pk,
    )


def test_the_cut_note_is_not_taken_for_the_patients_words(
    web, wa_account, patient, django_capture_on_commit_callbacks
):
    settings = messaging_settings_for(patient.clinic_id)
    settings.trouble_words = "cut\ncharacters"
    settings.save()
    deliver(
        web,
        wa_account,
        text_message("a" * 5000, wamid="wamid.NOTE"),
        django_capture_on_commit_callbacks,
    )
    assert Message.objects.get(wamid="wamid.NOTE").body.endswith(CUT_NOTE)
    assert not Escalation.objects.exists()
