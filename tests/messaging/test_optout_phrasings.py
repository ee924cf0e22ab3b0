"""Opt-out in the patient's own words (issue 19 item 10), over the simulator: plain requests
act at once, unclear ones ask "Reply STOP to confirm", marketing templates carry STOP."""

from __future__ import annotations

import pytest
from django.test import Client

from clinics.errors import DomainError
from compliance.models import ConsentPurpose
from compliance.selectors import consent_granted
from messaging.models import Conversation
from messaging.services.optout import MAYBE, START, STOP, optout_intent
from messaging.services.sending import message_queue_template
from tests.messaging.conftest import PATIENT, make_patient, make_template
from tests.messaging.test_inbound import make_relay

CARE = ConsentPurpose.WHATSAPP_CARE


@pytest.fixture
def relay(wa_account, receiver, django_capture_on_commit_callbacks):
    return make_relay(Client(), wa_account, receiver, django_capture_on_commit_callbacks)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Please stop sending me these messages", STOP),
        ("Don't send me any more messages.", STOP),
        ("I do not want these reminders", STOP),
        ("Unsubscribe me", STOP),
        ("Remove my number from your list", STOP),
        ("मुझे मैसेज मत भेजो", STOP),
        ("कृपया संदेश भेजना बंद करें", STOP),
        ("message mat bhejo", STOP),
        ("Mujhe msg bhejna band karo", STOP),
        ("STOP", STOP),
        ("start", START),
        ("Please stop the reminders after Monday", MAYBE),
        ("Can you stop the messages?", MAYBE),
        ("क्या आप मैसेज भेजना बंद कर सकते हैं?", MAYBE),
        ("stop it", MAYBE),
        ("बस करो", MAYBE),
        ("Should I stop the tablets?", None),
        ("Dawa band kar du kya?", None),
        ("दवा बंद कर दूं?", None),
        ("stopped the tablets", None),
        ("cancel", None),
        ("Thank you doctor", None),
    ],
)
def test_opt_out_phrasings(text, expected):
    assert optout_intent(text) == expected


@pytest.mark.parametrize(
    ("language", "text", "confirmation"),
    [
        ("en", "Please stop sending me these messages", "no longer receive WhatsApp messages"),
        ("hi", "मुझे मैसेज मत भेजो", "संदेश नहीं भेजे जाएंगे"),
        ("hi", "message mat bhejo", "संदेश नहीं भेजे जाएंगे"),
    ],
)
def test_a_plain_request_to_stop_withdraws_consent_and_confirms_naming_the_clinic(
    sim, wa_account, scoped, relay, language, text, confirmation
):
    patient = make_patient(scoped, preferred_language=language)
    sim.reply(PATIENT, text)
    relay()
    assert not consent_granted(patient_id=patient.pk, purpose=CARE)
    [reply] = sim.received(PATIENT)
    assert confirmation in reply["body"] and scoped.name in reply["body"]


@pytest.mark.parametrize(
    ("language", "text", "question"),
    [
        ("en", "Please stop the reminders after Monday", "Reply STOP to confirm"),
        ("hi", "बस करो", "पुष्टि के लिए STOP लिखकर भेजें"),
    ],
)
def test_an_unclear_request_asks_to_confirm_and_changes_nothing_until_stop(
    sim, wa_account, scoped, relay, language, text, question
):
    patient = make_patient(scoped, preferred_language=language)
    sim.reply(PATIENT, text)
    relay()
    assert consent_granted(patient_id=patient.pk, purpose=CARE)
    [ask] = sim.received(PATIENT)
    assert question in ask["body"] and scoped.name in ask["body"]
    assert Conversation.objects.get(wa_id=PATIENT).needs_reply  # a person still reads it

    sim.reply(PATIENT, "STOP")
    relay()
    assert not consent_granted(patient_id=patient.pk, purpose=CARE)


def test_a_question_about_medicines_is_not_an_opt_out(sim, wa_account, scoped, relay):
    patient = make_patient(scoped)
    sim.reply(PATIENT, "Should I stop the tablets?")
    relay()
    assert consent_granted(patient_id=patient.pk, purpose=CARE)
    assert not sim.received(PATIENT)


def test_a_marketing_template_without_a_stop_line_is_not_sent(sim, wa_account, scoped):
    patient = make_patient(scoped, marketing=True)
    bare = make_template(
        scoped,
        sim=sim,
        name="camp",
        purpose="",
        category="MARKETING",
        body="Free eye camp at {{1}} this Sunday. All are welcome.",
    )
    with pytest.raises(DomainError, match="does not say how to stop"):
        message_queue_template(template=bare, actor=None, patient=patient, body_params=["Asha"])
    with_line = make_template(
        scoped,
        sim=sim,
        name="camp2",
        purpose="",
        category="MARKETING",
        body="Free eye camp at {{1}} this Sunday. Reply STOP to stop these messages.",
    )
    message = message_queue_template(
        template=with_line, actor=None, patient=patient, body_params=["Asha"]
    )
    assert message.purpose == "marketing"
