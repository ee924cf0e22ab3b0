"""STOP and START over WhatsApp, and Meta's marketing preference webhook."""

from __future__ import annotations

import time
from datetime import date

import pytest
from django.test import Client

from clinics.errors import DomainError
from compliance.models import ConsentEvent, ConsentPurpose
from compliance.selectors import consent_granted
from messaging.models import Conversation, Message
from messaging.services.optout import START, STOP, optout_keyword
from messaging.services.sending import message_queue_template
from tests.messaging.conftest import PATIENT, make_patient, make_template
from tests.messaging.test_inbound import STRANGER, make_relay
from tests.messaging.test_webhook import deliver, envelope

CARE = ConsentPurpose.WHATSAPP_CARE
MARKETING = ConsentPurpose.WHATSAPP_MARKETING


@pytest.fixture
def web():
    return Client()


@pytest.fixture
def relay(web, wa_account, receiver, django_capture_on_commit_callbacks):
    return make_relay(web, wa_account, receiver, django_capture_on_commit_callbacks)


def granted(patient, purpose) -> bool:
    return consent_granted(patient_id=patient.pk, purpose=purpose)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP", STOP),
        ("  stop. ", STOP),
        ("Stop all!", STOP),
        ("UNSUBSCRIBE", STOP),
        ("opt-out", STOP),
        ("Opt out", STOP),
        ("quit", STOP),
        ("बंद करो।", STOP),
        ("मत भेजो", STOP),
        ("Band karo", STOP),
        ("bandh karo", STOP),
        ("rok do", STOP),
        ("START", START),
        ("subscribe", START),
        ("शुरू", START),
        ("Chalu karo", START),
        ("cancel", None),
        ("Please stop the reminders after Monday", None),
        ("stopped the tablets", None),
        ("", None),
    ],
)
def test_opt_out_words(text, expected):
    assert optout_keyword(text) == expected


@pytest.fixture
def reminder(scoped, sim):
    return make_template(scoped, sim=sim)


def test_stop_in_english_withdraws_consent_confirms_and_blocks_reminders(
    sim, wa_account, scoped, relay, reminder
):
    patient = make_patient(scoped, marketing=True)
    sim.reply(PATIENT, "STOP")
    relay()
    assert not granted(patient, CARE) and not granted(patient, MARKETING)
    withdrawal = ConsentEvent.objects.filter(patient=patient, action="withdrawn")
    assert set(withdrawal.values_list("method", "notice_text")) == {("whatsapp_reply", "STOP")}
    confirmation = sim.received(PATIENT)
    assert len(confirmation) == 1 and "START" in confirmation[0]["body"]

    with pytest.raises(DomainError, match="not agreed"):
        message_queue_template(
            template=reminder, actor=None, patient=patient, body_params=["Ravi", "12 Jan"]
        )


@pytest.mark.parametrize("word", ["बंद करो", "band karo"])
def test_stop_in_hindi_and_hinglish_confirms_in_hindi(sim, wa_account, scoped, relay, word):
    patient = make_patient(scoped, preferred_language="hi")
    sim.reply(PATIENT, word)
    relay()
    assert not granted(patient, CARE)
    body = sim.received(PATIENT)[0]["body"]
    assert "संदेश नहीं भेजे जाएंगे" in body and "START" in body


def test_start_gives_care_consent_back_with_the_notice(sim, wa_account, scoped, relay, reminder):
    patient = make_patient(scoped)
    sim.reply(PATIENT, "stop")
    relay()
    sim.reply(PATIENT, "Start")
    relay()
    assert granted(patient, CARE)
    assert not granted(patient, MARKETING)  # marketing is asked for separately
    grant = ConsentEvent.objects.filter(patient=patient, action="granted").latest("id")
    assert grant.method == "whatsapp_reply" and "Reply STOP" in grant.notice_text
    assert scoped.name in grant.notice_text
    assert len(sim.received(PATIENT)) == 2
    assert "again" in sim.received(PATIENT)[1]["body"]
    message = message_queue_template(
        template=reminder, actor=None, patient=patient, body_params=["Ravi", "12 Jan"]
    )
    assert message.status in {"queued", "sent"}


def test_cancel_is_not_an_opt_out(sim, wa_account, patient, relay):
    sim.reply(PATIENT, "Cancel")
    relay()
    assert granted(patient, CARE)
    assert not sim.received(PATIENT)


def test_stop_from_an_unknown_sender_is_confirmed_and_records_nothing(
    sim, wa_account, scoped, relay
):
    sim.reply(STRANGER, "STOP")
    relay()
    assert Conversation.objects.get(wa_id=STRANGER).is_unknown
    assert not ConsentEvent.objects.exists()
    assert "START" in sim.received(STRANGER)[0]["body"]
    assert Message.objects.filter(direction="in").get().body == "STOP"


def preference(value: str, wa_id: str = PATIENT) -> dict:
    return envelope(
        {
            "contacts": [{"profile": {"name": "Ravi"}, "wa_id": wa_id}],
            "user_preferences": [
                {
                    "wa_id": wa_id,
                    "detail": "User requested to stop marketing messages",
                    "category": "marketing_messages",
                    "value": value,
                    "timestamp": int(time.time()),
                }
            ],
        },
        field="user_preferences",
    )


def test_marketing_preference_stop_and_resume(
    web, wa_account, scoped, django_capture_on_commit_callbacks
):
    patient = make_patient(scoped, marketing=True)
    deliver(web, wa_account, preference("stop"), django_capture_on_commit_callbacks)
    assert not granted(patient, MARKETING)
    assert granted(patient, CARE)  # only marketing
    deliver(web, wa_account, preference("stop"), django_capture_on_commit_callbacks)
    assert ConsentEvent.objects.filter(patient=patient, action="withdrawn").count() == 1

    deliver(web, wa_account, preference("resume"), django_capture_on_commit_callbacks)
    assert granted(patient, MARKETING)
    grant = ConsentEvent.objects.filter(patient=patient, purpose=MARKETING).latest("id")
    assert grant.method == "whatsapp_reply"


def test_marketing_resume_is_never_recorded_for_a_minor(
    web, wa_account, scoped, django_capture_on_commit_callbacks
):
    child = make_patient(scoped, date_of_birth=date(2016, 3, 1))
    response = deliver(web, wa_account, preference("resume"), django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert not granted(child, MARKETING)
    assert not ConsentEvent.objects.filter(purpose=MARKETING).exists()
