"""A message with worrying words, over real HTTP with the simulator: an immediate reply in the
patient's language (112, 108, the clinic's phone), a WhatsApp alert to every doctor who treats
the patient, and the alert leading the board until someone acknowledges it (issue 19, item 1).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messaging.models import (
    Escalation,
    EscalationAlert,
    EscalationReason,
    MessagePurpose,
    MessagingSettings,
)
from messaging.models.accounts import DEFAULT_TROUBLE_WORDS
from messaging.services.escalations import escalation_open, trouble_words_found
from patients.services.appointments import appointment_book
from tests.messaging.care_setup import make_doctor, sign_visit
from tests.messaging.conftest import PATIENT, make_patient
from tests.messaging.test_escalation_alerts import alert_template, allow_alerts, opt_in
from tests.messaging.test_inbound import make_relay


@pytest.fixture
def relay(wa_account, receiver, django_capture_on_commit_callbacks):
    return make_relay(Client(), wa_account, receiver, django_capture_on_commit_callbacks)


FIRST_DOCTOR = "919988776655"
SECOND_DOCTOR = "919988776656"


@pytest.fixture
def doctors(scoped, wa_account, sim):
    """Two doctors who treat the patient (one saw them, one has an appointment booked), both
    with WhatsApp alerts on, and a third who does not treat them."""
    allow_alerts(scoped)
    alert_template(scoped, sim)
    alert_template(scoped, sim, language="hi")
    first = make_doctor(scoped, name="Anita Rao")
    second = make_doctor(scoped, name="Vikram Shah")
    other = make_doctor(scoped, name="Meera Iyer")
    opt_in(first, phone="99887 76655")
    opt_in(second, phone="99887 76656", language="hi")
    opt_in(other, phone="99887 76657")
    return first, second, other


def treated_patient(clinic, doctors, **kwargs):
    first, second, _ = doctors
    patient = make_patient(clinic, **kwargs)
    sign_visit(first, patient)
    local = timezone.localtime(timezone.now(), clinic.tzinfo) + timedelta(days=2)
    appointment_book(
        patient=patient,
        doctor=second,
        actor=second.user,
        starts_at=local.replace(hour=11, minute=0, second=0, microsecond=0),
    )
    return patient


def patient_texts(sim) -> list[str]:
    """The urgent replies the patient's phone received (not the clinic's "we are closed")."""
    return [
        m["body"] for m in sim.received(PATIENT) if m.get("type") == "text" and "112" in m["body"]
    ]


def test_chest_pain_in_english_gets_an_immediate_reply_and_alerts_every_treating_doctor(
    scoped, doctors, sim, relay
):
    patient = treated_patient(scoped, doctors)
    sim.reply(PATIENT, "I have chest pain")
    relay()

    (reply,) = patient_texts(sim)
    assert "call 112 now, or 108 for an ambulance" in reply
    assert f"You can also call {scoped.name} on {scoped.phone.as_international}." in reply
    escalation = Escalation.objects.get(patient=patient)
    assert escalation.reason == EscalationReason.TROUBLE_WORDS
    # Both doctors who treat the patient are told, in their own language; the third is not.
    assert len(sim.received(FIRST_DOCTOR)) == 1
    (hindi_alert,) = sim.received(SECOND_DOCTOR)
    assert "चिंताजनक संदेश" in hindi_alert["body"]
    assert sim.received("919988776657") == []
    assert EscalationAlert.objects.filter(escalation=escalation).count() == 2


def test_chest_pain_in_hindi_gets_the_reply_in_hindi(scoped, doctors, sim, relay):
    patient = treated_patient(scoped, doctors)
    sim.reply(PATIENT, "मुझे सीने में दर्द हो रहा है")
    relay()

    (reply,) = patient_texts(sim)
    assert "अभी 112 पर कॉल करें, या एम्बुलेंस के लिए 108 पर" in reply
    assert f"आप {scoped.name} को {scoped.phone.as_international} पर भी कॉल कर सकते हैं" in reply
    assert Escalation.objects.get(patient=patient).reason == EscalationReason.TROUBLE_WORDS
    assert len(sim.received(FIRST_DOCTOR)) == 1 and len(sim.received(SECOND_DOCTOR)) == 1


def test_hinglish_from_a_hindi_speaking_patient_gets_the_reply_in_hindi(
    scoped, doctors, sim, relay
):
    treated_patient(scoped, doctors, preferred_language="hi")
    sim.reply(PATIENT, "Seene mein dard ho raha hai subah se")
    relay()
    (reply,) = patient_texts(sim)
    assert "112" in reply and "एम्बुलेंस" in reply
    assert Escalation.objects.get().reason == EscalationReason.TROUBLE_WORDS


def test_an_ordinary_message_gets_no_urgent_reply(scoped, doctors, sim, relay):
    treated_patient(scoped, doctors)
    sim.reply(PATIENT, "Thank you, the benefits of the new tablets are clear")
    relay()
    assert patient_texts(sim) == []
    assert not Escalation.objects.exists()


def test_each_clinic_keeps_its_own_words(scoped, doctors, sim, relay):
    treated_patient(scoped, doctors)
    MessagingSettings.objects.filter(clinic=scoped).update(trouble_words="pet mein dard\nउल्टी")
    sim.reply(PATIENT, "chest pain")  # not on this clinic's list any more
    relay()
    assert not Escalation.objects.exists()
    sim.reply(PATIENT, "Bahut pet mein dard hai")
    relay()
    assert Escalation.objects.count() == 1
    sim.reply(PATIENT, "रात से उल्टी हो रही है")
    relay()
    assert Escalation.objects.count() == 2
    assert len(patient_texts(sim)) == 2


@pytest.mark.parametrize(
    "text",
    [
        "I have chest pain",
        "He fainted and is unconscious",
        "I can't breathe properly",
        "seene me dard",
        "chhati mein dard hai",
        "saans lene mein dikkat",
        "मुझे सीने में दर्द हो रहा है",
        "छाती में दर्द है",
        "सांस नहीं आ रही",
        "खून आ रहा है",
    ],
)
def test_the_default_words_find_english_hinglish_and_hindi(text):
    words = [w.strip() for w in DEFAULT_TROUBLE_WORDS.splitlines() if w.strip()]
    assert trouble_words_found(words, text)


@pytest.mark.parametrize("text", ["the benefits are good", "I feel better", "धन्यवाद डॉक्टर"])
def test_the_default_words_leave_ordinary_messages_alone(text):
    words = [w.strip() for w in DEFAULT_TROUBLE_WORDS.splitlines() if w.strip()]
    assert trouble_words_found(words, text) == []


def test_the_board_shows_a_worrying_message_first_until_someone_acknowledges_it(
    scoped, doctors, sim, relay, client_for, django_capture_on_commit_callbacks
):
    first, second, other = doctors
    patient = treated_patient(scoped, doctors, full_name="Kavya Sharma")
    sim.reply(PATIENT, "I have chest pain")
    relay()
    urgent = Escalation.objects.get()
    # A newer, ordinary alert about someone else.
    with django_capture_on_commit_callbacks(execute=True):
        newer = escalation_open(
            patient=make_patient(scoped, phone="+91 98765 00001"),
            reason=EscalationReason.LOW_RATING,
            detail="The patient rated the visit 1 of 5.",
            subject="appointment:99",
            doctor=other,
        )
    url = reverse("messaging-board", args=[scoped.slug])
    web = client_for(other)
    page = web.get(url + "?show=mine").content.decode()
    # Even on another doctor's own list, the urgent alert comes first.
    assert page.index(f'id="escalation-{urgent.pk}"') < page.index(f'id="escalation-{newer.pk}"')
    assert "Urgent: not acknowledged yet" in page
    start = page.index(f'id="escalation-{urgent.pk}"')
    article = page[start : page.index("</article>", start)]
    assert article.count("WhatsApp alert to") == 2  # both treating doctors, not the third
    assert first.user.full_name in article and second.user.full_name in article

    response = web.post(
        reverse("messaging-escalation-acknowledge", args=[scoped.slug, urgent.pk]),
        {"show": "all"},
    )
    assert response.status_code == 302
    urgent.refresh_from_db()
    assert urgent.acknowledged_by == other.user and urgent.state == "open"
    page = web.get(url + "?show=all").content.decode()
    assert page.index(f'id="escalation-{newer.pk}"') < page.index(f'id="escalation-{urgent.pk}"')
    assert "Urgent: not acknowledged yet" not in page
    assert f"Acknowledged by {other.user.full_name}" in page
    assert patient.pk == urgent.patient_id


def test_the_urgent_reply_is_a_reply_not_a_care_message(scoped, doctors, sim, relay):
    treated_patient(scoped, doctors, consent=False)  # no opt-in: the patient wrote first
    sim.reply(PATIENT, "I have chest pain")
    relay()
    (reply,) = patient_texts(sim)
    assert "112" in reply
    message = Escalation.objects.get().message
    sent = message.conversation.messages.filter(direction="out")
    assert [(m.purpose, m.context_wamid) for m in sent] == [(MessagePurpose.REPLY, message.wamid)]
