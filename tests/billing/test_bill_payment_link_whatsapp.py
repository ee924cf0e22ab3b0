"""Sending a bill's payment link on WhatsApp: billing sends the `bill.payment_link` care event,
messaging queues the message through the one send path, and the WhatsApp simulator's phone
shows it, in English or Hindi, as the approved template or (inside the 24-hour window) a
text."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.services import LineDraft, bill_draft_create, bill_issue
from clinics.audit import Actions
from clinics.models import AuditEvent
from devtools.whatsapp_simulator import running_simulator
from messaging.defaults import default_for
from messaging.models import Conversation, Message, MessageKind
from messaging.services import statuses
from tests.messaging.conftest import (
    APP_SECRET,
    PATIENT,
    PHONE_NUMBER_ID,
    TOKEN,
    WABA_ID,
    make_patient,
    make_template,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def phone():
    """The WhatsApp simulator (the Razorpay one is `sim`)."""
    with running_simulator(
        phone_number_id=PHONE_NUMBER_ID,
        token=TOKEN,
        waba_id=WABA_ID,
        app_secret=APP_SECRET,
        status_delay=0.01,
    ) as simulator:
        yield simulator


@pytest.fixture
def whatsapp(scoped, phone, settings):
    from messaging.models import WhatsAppAccount

    settings.WHATSAPP_API_BASE_URL = phone.base_url
    settings.WHATSAPP_TIMEOUT_SECONDS = 3
    account = WhatsAppAccount.objects.create(
        clinic=scoped,
        phone_number_id=PHONE_NUMBER_ID,
        business_account_id=WABA_ID,
        display_number="+91 80 4000 1234",
        access_token=TOKEN,
        app_secret=APP_SECRET,
        verify_token="verify-me",
    )
    for language in ("en", "hi"):
        make_template(
            scoped,
            sim=phone,
            name="vaidya_payment_link",
            language=language,
            purpose="payment_link",
            body=default_for("payment_link", language).body,
        )
    return account


def bill_for(patient, biller, items, capture):
    with capture(execute=True):
        bill = bill_draft_create(
            patient=patient,
            actor=biller.user,
            lines=[
                LineDraft(item_id=items["consultation"].pk),
                LineDraft(item_id=items["dressing"].pk, quantity=6),
            ],
        )
        return bill_issue(bill=bill, actor=biller.user)


def send(web, bill, capture):
    with capture(execute=True):
        return web.post(f"/c/{bill.clinic.slug}/billing/{bill.pk}/payment-link/send/", follow=True)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "Hello Kavya, your bill {number} from Asha Family Clinic is Rs 1,700.00."),
        ("hi", "नमस्ते Kavya, Asha Family Clinic का आपका बिल {number} Rs 1,700.00 का है।"),
    ],
)
def test_the_link_reaches_the_patient_as_the_template_in_their_language(
    scoped,
    whatsapp,
    phone,
    sim,
    rzp_account,
    biller,
    items,
    registered,
    client_for,
    django_capture_on_commit_callbacks,
    language,
    words,
):
    patient = make_patient(scoped, full_name="Kavya Reddy", preferred_language=language)
    bill = bill_for(patient, biller, items, django_capture_on_commit_callbacks)
    page = send(client_for(biller), bill, django_capture_on_commit_callbacks)
    assert "sent on WhatsApp" in page.content.decode()

    (received,) = phone.received(PATIENT)
    link = sim.state.links[next(iter(sim.state.links))]
    assert received["body"].startswith(words.format(number=bill.number))
    assert link["short_url"] in received["body"]
    message = Message.objects.get()
    assert message.kind == MessageKind.TEMPLATE and message.template_language == language
    assert AuditEvent.objects.filter(action=Actions.BILL_PAYMENT_LINK_SENT).count() == 1
    # Sending again sends the same link: no second link is made.
    send(client_for(biller), bill, django_capture_on_commit_callbacks)
    assert len(sim.state.links) == 1 and len(phone.received(PATIENT)) == 2


def test_inside_the_24_hour_window_it_is_a_text_in_hindi(
    scoped,
    whatsapp,
    phone,
    sim,
    rzp_account,
    biller,
    items,
    registered,
    client_for,
    django_capture_on_commit_callbacks,
):
    patient = make_patient(scoped, full_name="Kavya Reddy", preferred_language="hi")
    conversation = Conversation.objects.create(
        clinic=scoped, account=whatsapp, patient=patient, wa_id=PATIENT, needs_reply=True
    )
    statuses.conversation_window_refresh(
        conversation=conversation, at=timezone.now() - timedelta(hours=1)
    )
    phone.open_window(PATIENT)  # the patient wrote an hour ago
    bill = bill_for(patient, biller, items, django_capture_on_commit_callbacks)
    send(client_for(biller), bill, django_capture_on_commit_callbacks)
    (received,) = phone.received(PATIENT)
    assert received["body"].startswith(f"नमस्ते Kavya, Asha Family Clinic का आपका बिल {bill.number}")
    assert "Rs 1,700.00" in received["body"] and "/pay/plink_" in received["body"]
    assert Message.objects.get().kind == MessageKind.TEXT
    conversation.refresh_from_db()
    assert conversation.needs_reply  # a payment link does not answer what the patient asked


def test_no_message_without_the_patients_opt_in(
    scoped,
    whatsapp,
    phone,
    sim,
    rzp_account,
    biller,
    items,
    registered,
    client_for,
    django_capture_on_commit_callbacks,
):
    patient = make_patient(scoped, consent=False, full_name="Kavya Reddy")
    bill = bill_for(patient, biller, items, django_capture_on_commit_callbacks)
    page = send(client_for(biller), bill, django_capture_on_commit_callbacks)
    assert "not agreed to WhatsApp messages" in page.content.decode()
    assert phone.received(PATIENT) == [] and not Message.objects.exists()
    assert not AuditEvent.objects.filter(action=Actions.BILL_PAYMENT_LINK_SENT).exists()
