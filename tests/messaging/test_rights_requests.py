"""Data-rights requests over WhatsApp (issue 19 item 11), over the simulator: recognised in
English, Hindi and Hinglish, acknowledged with what happens next, and kept in front of staff."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from clinics.roles import Role
from compliance.models import RightsKind, RightsRequest, RightsStatus
from compliance.rights.desk import DESK
from compliance.rights_intake import RightsDesk, RightsRequestSeen, rights_desks
from messaging.models import Conversation
from messaging.services.inbox import conversation_resolve
from messaging.services.rights_requests import rights_request_kinds
from tests.messaging.conftest import PATIENT, make_patient
from tests.messaging.test_inbound import make_relay


@pytest.fixture
def without_desk():
    """As before the rights desk existed: the channel keeps the request itself."""
    rights_desks.unregister(DESK.name)
    yield
    rights_desks.register(DESK)


@pytest.fixture
def relay(wa_account, receiver, django_capture_on_commit_callbacks):
    return make_relay(Client(), wa_account, receiver, django_capture_on_commit_callbacks)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("Please delete all my data and send me a copy of my records", ("copy", "deletion")),
        ("What data do you have about me?", ("access",)),
        ("My name is spelt wrong in the records", ("correction",)),
        ("Please correct my address", ("correction",)),
        ("मेरा सारा डेटा हटा दीजिए और मेरे रिकॉर्ड की कॉपी भेजिए", ("copy", "deletion")),
        ("आपके पास मेरी क्या जानकारी है?", ("access",)),
        ("मेरा नाम गलत लिखा है", ("correction",)),
        ("mera data delete karo aur records ki copy bhejo", ("copy", "deletion")),
        ("mere baare mein kya data hai", ("access",)),
        ("mera naam galat hai", ("correction",)),
        ("Any update on my report?", ()),
        ("Can I change my appointment?", ()),
        ("मेरी रिपोर्ट कब आएगी", ()),
        ("Doctor I have fever", ()),
    ],
)
def test_request_kinds(text, kinds):
    assert rights_request_kinds(text) == kinds


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        (
            "en",
            "Please delete all my data and send me a copy of my records",
            ("get a copy of your records and delete your data", "confirm it is you", "7 days"),
        ),
        (
            "hi",
            "मेरा सारा डेटा हटा दीजिए और मेरे रिकॉर्ड की कॉपी भेजिए",
            ("आपके रिकॉर्ड की कॉपी पाना और आपका डेटा हटाना", "पुष्टि करेगा", "7 दिनों"),
        ),
    ],
)
def test_a_request_is_acknowledged_and_waits_labelled_in_needs_reply(
    sim,
    wa_account,
    scoped,
    relay,
    member_factory,
    client_for,
    language,
    text,
    expected,
    without_desk,
):
    scoped.phone = "+91 80 4000 1234"
    scoped.save(update_fields=["phone"])
    make_patient(scoped, preferred_language=language)
    sim.reply(PATIENT, text)
    relay()
    [ack] = sim.received(PATIENT)
    assert scoped.name in ack["body"] and "+91 80 4000 1234" in ack["body"]
    for words in expected:
        assert words in ack["body"]
    conversation = Conversation.objects.get(wa_id=PATIENT)
    assert conversation.needs_reply
    assert conversation.request_label == "Data request: copy, deletion"
    desk = client_for(member_factory(scoped, role=Role.FRONT_DESK))
    inbox = desk.get(f"/c/{scoped.slug}/messages/").content.decode()
    assert "Data request: copy, deletion" in inbox and "needs reply" in inbox

    conversation_resolve(conversation=conversation, actor=None)
    assert Conversation.objects.get(pk=conversation.pk).request_label == ""


def test_an_ordinary_message_is_not_a_request(sim, wa_account, scoped, relay):
    make_patient(scoped)
    sim.reply(PATIENT, "Any update on my report?")
    relay()
    assert not sim.received(PATIENT)
    assert Conversation.objects.get(wa_id=PATIENT).request_label == ""


def test_the_rights_desk_receives_the_request_when_it_exists(sim, wa_account, scoped, relay):
    patient = make_patient(scoped)
    received = []

    def receive(request):
        received.append(request)
        return True

    rights_desks.register(RightsDesk(name="test desk", order=1, receive=receive))
    try:
        sim.reply(PATIENT, "What data do you have about me?")
        relay()
    finally:
        rights_desks.unregister("test desk")
    [request] = received
    assert request.kinds == ("access",) and request.patient_id == patient.pk
    assert request.channel == "whatsapp" and request.reference.startswith("message:")
    assert Conversation.objects.get(wa_id=PATIENT).request_label == ""
    assert "see the information we hold about you" in sim.received(PATIENT)[0]["body"]


def test_the_compliance_desk_records_the_requests_once(sim, wa_account, scoped, relay):
    patient = make_patient(scoped)
    scoped.privacy_contact_name = "Meera Iyer"
    scoped.privacy_contact_email = "privacy@asha.example"
    scoped.save()
    sim.reply(PATIENT, "Please delete all my data and send me a copy of my records")
    relay()
    requests = {r.kind: r for r in RightsRequest.objects.all()}
    assert set(requests) == {RightsKind.ACCESS, RightsKind.ERASURE}
    access = requests[RightsKind.ACCESS]
    assert access.patient_id == patient.pk and access.status == RightsStatus.VERIFYING
    assert access.records_copy and access.due_at == access.received_at + timedelta(hours=72)
    assert access.channel == "whatsapp" and access.source_reference.startswith("message:")
    assert Conversation.objects.get(wa_id=PATIENT).request_label == ""
    ack = sim.received(PATIENT)[0]["body"]
    assert "Meera Iyer" in ack and "privacy@asha.example" in ack
    # The same message handed over again records nothing new.
    again = RightsRequestSeen(
        clinic_id=access.clinic_id,
        patient_id=access.patient_id,
        kinds=("copy", "deletion"),
        words=access.details,
        channel="whatsapp",
        reference=access.source_reference,
    )
    assert DESK.receive(again) is True
    assert RightsRequest.objects.count() == 2
