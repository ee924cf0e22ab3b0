"""Sending an issued bill to the patient on WhatsApp: billing sends the `bill.document` care
event, messaging sends its document-ready message with a secure link, and the patient opens
the bill's PDF from their phone after typing back a one-time code, all over real HTTP against
the WhatsApp simulator. Drafts, bills whose PDF is not ready and patients WhatsApp cannot reach
are refused with the reason, and nothing is recorded as sent."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.test import Client

from billing.models import Bill, PdfStatus
from billing.services import LineDraft, bill_draft_create, bill_issue
from clinics.audit import Actions
from clinics.models import AuditEvent
from clinics.roles import Role
from devtools.whatsapp_simulator import running_simulator
from messaging.defaults import default_for
from messaging.models import Message, MessageKind, WhatsAppAccount
from tests.api.conftest import assert_error
from tests.billing.test_plan_limits import subscribe
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
def phone(settings):
    with running_simulator(
        phone_number_id=PHONE_NUMBER_ID,
        token=TOKEN,
        waba_id=WABA_ID,
        app_secret=APP_SECRET,
        status_delay=0.01,
    ) as simulator:
        settings.WHATSAPP_API_BASE_URL = simulator.base_url
        settings.WHATSAPP_TIMEOUT_SECONDS = 3
        settings.SITE_URL = "http://testserver"
        yield simulator


@pytest.fixture
def whatsapp(scoped, phone):
    account = WhatsAppAccount.objects.create(
        clinic=scoped,
        phone_number_id=PHONE_NUMBER_ID,
        business_account_id=WABA_ID,
        display_number="+91 80 4000 1234",
        access_token=TOKEN,
        app_secret=APP_SECRET,
        verify_token="verify-me",
    )
    make_template(
        scoped,
        sim=phone,
        name="vaidya_document_ready",
        purpose="document_ready",
        body=default_for("document_ready", "en").body,
    )
    make_template(
        scoped,
        sim=phone,
        name="vaidya_verification_code",
        purpose="verification_code",
        category="AUTHENTICATION",
        body=default_for("verification_code", "en").body,
    )
    return account


def issued_bill(patient, biller, items, capture) -> Bill:
    with capture(execute=True):
        bill = bill_draft_create(
            patient=patient, actor=biller.user, lines=[LineDraft(item_id=items["consultation"].pk)]
        )
        bill = bill_issue(bill=bill, actor=biller.user)
    bill.refresh_from_db()
    return bill


def send(web, bill, capture):
    with capture(execute=True):
        return web.post(f"/c/{bill.clinic.slug}/billing/{bill.pk}/send/", follow=True)


def test_the_patient_gets_the_bill_and_opens_its_pdf_from_the_link(
    scoped, whatsapp, phone, biller, items, client_for, django_capture_on_commit_callbacks
):
    patient = make_patient(scoped, full_name="Kavya Reddy")
    bill = issued_bill(patient, biller, items, django_capture_on_commit_callbacks)
    assert bill.pdf_status == PdfStatus.READY

    page = send(client_for(biller), bill, django_capture_on_commit_callbacks)

    assert f"{bill.number} sent to the patient on WhatsApp." in page.content.decode()
    (received,) = phone.received(PATIENT)
    assert received["body"].startswith(
        f"Hello Kavya, your bill {bill.number} from Asha Family Clinic is ready. Open it with "
        "this secure link: http://testserver/d/"
    )
    assert Message.objects.get().kind == MessageKind.TEMPLATE
    event = AuditEvent.objects.get(action=Actions.BILL_SENT)
    assert event.actor_id == biller.user.pk and event.patient_id == patient.pk

    # On the patient's phone: the link alone is not enough; the code sent to the registered
    # number opens the bill's PDF, and the opening is audited as the patient.
    path = urlsplit(re.search(r"http://testserver(/d/\S+/)", received["body"])[0]).path
    browser = Client()
    assert b"Send me a code on WhatsApp" in browser.get(path).content
    assert bill.number.encode() not in browser.get(path).content
    with django_capture_on_commit_callbacks(execute=True):
        browser.post(path, {"action": "send"})
    code = re.findall(r"\b(\d{6})\b", phone.received(PATIENT)[-1]["body"])[-1]
    assert browser.post(path, {"action": "check", "code": code}).status_code == 302
    pdf = browser.get(path)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content if pdf.streaming else [pdf.content])[:5] == b"%PDF-"
    opened = AuditEvent.objects.get(action=Actions.BILL_OPENED_BY_PATIENT)
    assert opened.actor_id is None and opened.patient_id == patient.pk
    # Staff following the link go to the bill's own PDF page, where their role decides.
    staff = client_for(biller).get(path)
    assert staff.status_code == 302 and staff["Location"].endswith(f"/billing/{bill.pk}/pdf/")


def test_a_draft_is_refused(
    scoped, whatsapp, phone, biller, items, client_for, django_capture_on_commit_callbacks
):
    patient = make_patient(scoped)
    draft = bill_draft_create(
        patient=patient, actor=biller.user, lines=[LineDraft(item_id=items["consultation"].pk)]
    )
    page = send(client_for(biller), draft, django_capture_on_commit_callbacks)
    assert "Issue the bill before sending it." in page.content.decode()
    assert (
        phone.received(PATIENT) == []
        and not AuditEvent.objects.filter(action=Actions.BILL_SENT).exists()
    )


def test_a_bill_whose_pdf_is_not_ready_is_refused(
    scoped, whatsapp, phone, biller, items, client_for, django_capture_on_commit_callbacks
):
    patient = make_patient(scoped)
    bill = issued_bill(patient, biller, items, django_capture_on_commit_callbacks)
    Bill.objects.filter(pk=bill.pk).update(pdf_status=PdfStatus.PREPARING)
    page = send(client_for(biller), bill, django_capture_on_commit_callbacks)
    assert "The bill&#x27;s PDF is not ready yet; try again in a moment." in page.content.decode()
    assert phone.received(PATIENT) == [] and not Message.objects.exists()


def test_no_message_without_the_patients_opt_in(
    scoped, whatsapp, phone, biller, items, client_for, django_capture_on_commit_callbacks
):
    patient = make_patient(scoped, consent=False)
    bill = issued_bill(patient, biller, items, django_capture_on_commit_callbacks)
    page = send(client_for(biller), bill, django_capture_on_commit_callbacks)
    assert "not agreed to WhatsApp messages" in page.content.decode()
    assert phone.received(PATIENT) == [] and not Message.objects.exists()
    assert not AuditEvent.objects.filter(action=Actions.BILL_SENT).exists()


def test_without_whatsapp_the_bill_is_not_sent(
    scoped, biller, items, client_for, django_capture_on_commit_callbacks
):
    patient = make_patient(scoped)
    bill = issued_bill(patient, biller, items, django_capture_on_commit_callbacks)
    page = send(client_for(biller), bill, django_capture_on_commit_callbacks)
    assert "Connect the clinic&#x27;s WhatsApp number in Settings first." in (page.content.decode())
    assert not AuditEvent.objects.filter(action=Actions.BILL_SENT).exists()


def test_the_plan_limit_is_told_to_staff_and_nothing_counts_as_sent(
    scoped, whatsapp, phone, biller, items, client_for, django_capture_on_commit_callbacks
):
    subscribe(scoped, max_whatsapp_messages_per_month=0)
    patient = make_patient(scoped)
    bill = issued_bill(patient, biller, items, django_capture_on_commit_callbacks)
    page = send(client_for(biller), bill, django_capture_on_commit_callbacks)
    assert "allows 0 WhatsApp messages a month" in page.content.decode()
    assert phone.received(PATIENT) == []
    assert not AuditEvent.objects.filter(action=Actions.BILL_SENT).exists()


def test_the_api_sends_an_issued_bill_and_refuses_a_draft(
    scoped, whatsapp, phone, biller, items, api_client_for, django_capture_on_commit_callbacks
):
    patient = make_patient(scoped)
    bill = issued_bill(patient, biller, items, django_capture_on_commit_callbacks)
    api = api_client_for(scoped, role=Role.BILLING)
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post(f"/api/v1/bills/{bill.pk}/send/", HTTP_IDEMPOTENCY_KEY="send-1")
    assert answer.status_code == 200, answer.content
    assert answer.json()["number"] == bill.number
    assert len(phone.received(PATIENT)) == 1
    draft = bill_draft_create(
        patient=patient, actor=biller.user, lines=[LineDraft(item_id=items["consultation"].pk)]
    )
    body = assert_error(api.post(f"/api/v1/bills/{draft.pk}/send/"), 409)
    assert body["detail"] == "Issue the bill before sending it."
    assert len(phone.received(PATIENT)) == 1
