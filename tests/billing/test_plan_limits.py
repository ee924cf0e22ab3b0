"""A plan's limits on WhatsApp messages (a calendar month in the clinic's time zone) and
storage, counted by the apps that hold the rows (`clinics.registry.usage_counters`) and
enforced where staff act: a message over the limit shows as not sent with the reason, a
reminder as "Not sent", an upload as a form error with nothing stored; the owner's dashboard
warns near a limit. Without a subscription nothing is limited."""

from __future__ import annotations

import itertools
from datetime import time, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.subscriptions.models import ClinicSubscription, Plan, SubStatus
from clinics.guards import LimitReached, limit_refusal, limit_status, require_within_limit
from clinics.roles import Role
from devtools.whatsapp_simulator import running_simulator
from messaging.models import (
    Conversation,
    Message,
    MessagePurpose,
    MessageStatus,
    MessagingSettings,
    Reminder,
    ReminderStatus,
    WhatsAppAccount,
)
from messaging.services import sending
from messaging.services.dispatch import reminders_dispatch
from patients.models import Document, DocumentKind, DocumentStatus
from tests.messaging.care_setup import make_doctor, make_reminder_templates
from tests.messaging.conftest import (
    APP_SECRET,
    PATIENT,
    PHONE_NUMBER_ID,
    TOKEN,
    WABA_ID,
    make_patient,
    make_template,
)
from tests.patients.test_documents import png_bytes, stored_files

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024
_ids = itertools.count(1)


def subscribe(clinic, **limits) -> ClinicSubscription:
    """An active subscription to a plan with these limits (Razorpay is not needed here)."""
    plan = Plan.objects.create(name="Starter", amount_paise=59_000, **limits)
    return ClinicSubscription.objects.create(
        clinic=clinic,
        plan=plan,
        status=SubStatus.ACTIVE,
        razorpay_subscription_id=f"sub_Limits{next(_ids):06d}",
        short_url="http://rzp.test/s/1",
    )


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
        yield simulator


@pytest.fixture
def account(scoped, phone):
    return WhatsAppAccount.objects.create(
        clinic=scoped,
        phone_number_id=PHONE_NUMBER_ID,
        business_account_id=WABA_ID,
        display_number="+91 80 4000 1234",
        access_token=TOKEN,
        app_secret=APP_SECRET,
        verify_token="verify-me",
    )


@pytest.fixture
def template(account, phone):
    return make_template(account.clinic, sim=phone)


def send(template, patient, capture) -> Message:
    with capture(execute=True):
        message = sending.message_queue_template(
            template=template,
            actor=None,
            patient=patient,
            body_params=["Kavya", "Mon 12 Jan, 10:30 AM"],
        )
    message.refresh_from_db()
    return message


# --- WhatsApp messages ---------------------------------------------------------------------
def test_messages_under_the_limit_go_and_the_one_over_it_shows_not_sent_with_the_reason(
    scoped, template, phone, owner, client_for, django_capture_on_commit_callbacks
):
    subscribe(scoped, max_whatsapp_messages_per_month=2)
    patient = make_patient(scoped)
    first = send(template, patient, django_capture_on_commit_callbacks)
    second = send(template, patient, django_capture_on_commit_callbacks)
    assert first.status == second.status == MessageStatus.SENT

    third = send(template, patient, django_capture_on_commit_callbacks)

    assert third.status == MessageStatus.FAILED and third.wamid is None
    reason = (
        "The clinic's plan (Starter) allows 2 WhatsApp messages a month; the clinic has sent 2 "
        "this month, so this message was not sent."
    )
    assert third.error_title.startswith(reason)
    assert len(phone.received(PATIENT)) == 2  # it never left
    # Staff see it in the thread, with the reason, where failures show.
    conversation = Conversation.objects.get()
    page = (
        client_for(owner)
        .get(reverse("messaging-thread", args=[scoped.slug, conversation.pk]))
        .content.decode()
    )
    assert "Not delivered: " + reason.replace("'", "&#x27;") in page


def test_a_reply_typed_in_the_inbox_past_the_limit_says_not_sent_and_stays_in_the_thread(
    scoped, account, phone, owner, client_for, django_capture_on_commit_callbacks
):
    from messaging.services import statuses

    subscribe(scoped, max_whatsapp_messages_per_month=0)
    patient = make_patient(scoped)
    conversation = sending.conversation_for_patient(patient=patient, account=account)
    statuses.conversation_window_refresh(
        conversation=conversation, at=timezone.now() - timedelta(hours=1)
    )
    phone.open_window(PATIENT)
    with django_capture_on_commit_callbacks(execute=True):
        page = client_for(owner).post(
            reverse("messaging-reply", args=[scoped.slug, conversation.pk]),
            {"body": "Your reports are ready."},
            follow=True,
        )
    body = page.content.decode()
    assert "Not sent: The clinic&#x27;s plan (Starter) allows 0 WhatsApp messages a month" in body
    assert "Your reports are ready." in body  # kept in the thread, not lost
    message = Message.objects.get()
    assert message.status == MessageStatus.FAILED and phone.received(PATIENT) == []


def test_last_months_messages_and_ones_that_never_left_do_not_count(
    scoped, template, phone, django_capture_on_commit_callbacks
):
    subscribe(scoped, max_whatsapp_messages_per_month=1)
    patient = make_patient(scoped)
    sent = send(template, patient, django_capture_on_commit_callbacks)
    # The clinic's month starts at midnight on the 1st in Asia/Kolkata: a second before it
    # is last month.
    local = timezone.localtime(timezone.now(), scoped.tzinfo)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    Message.objects.filter(pk=sent.pk).update(created_at=month_start - timedelta(seconds=1))
    this_month = send(template, patient, django_capture_on_commit_callbacks)
    assert this_month.status == MessageStatus.SENT  # last month's did not count
    held = send(template, patient, django_capture_on_commit_callbacks)
    assert held.status == MessageStatus.FAILED
    # The message held back is not counted either: still one this month.
    assert limit_status(scoped.pk, "whatsapp_messages").used == 1


def test_without_a_subscription_messages_are_unlimited(
    scoped, template, phone, django_capture_on_commit_callbacks
):
    Plan.objects.create(name="Tiny", amount_paise=100, max_whatsapp_messages_per_month=1)
    patient = make_patient(scoped)
    for _ in range(3):
        assert send(template, patient, django_capture_on_commit_callbacks).status == (
            MessageStatus.SENT
        )
    assert limit_refusal(scoped.pk, "whatsapp_messages", adding=1000) is None


def test_alerts_to_staff_are_never_held_back_by_the_plan(scoped, account):
    subscribe(scoped, max_whatsapp_messages_per_month=0)
    patient = make_patient(scoped)
    conversation = sending.conversation_for_patient(patient=patient, account=account)
    staff = sending.outgoing_message(
        conversation, patient_id=None, kind="text", purpose=MessagePurpose.STAFF, body="Alert"
    ).message
    care = sending.outgoing_message(
        conversation, patient_id=patient.pk, kind="text", purpose=MessagePurpose.CARE, body="Hi"
    ).message
    sending.hold_to_plan([staff, care], clinic_id=scoped.pk)
    assert staff.status == MessageStatus.QUEUED
    assert care.status == MessageStatus.FAILED and "allows 0 WhatsApp messages" in care.error_title


def test_reminders_over_the_limit_are_not_sent_with_the_reason_on_the_list(scoped, account, phone):
    from patients.services.appointments import appointment_book

    MessagingSettings.objects.create(
        clinic=scoped, quiet_hours_start=time(0), quiet_hours_end=time(0)
    )
    doctor = make_doctor(scoped)
    make_reminder_templates(scoped, sim=phone)
    subscribe(scoped, max_whatsapp_messages_per_month=1)
    for hour in (10, 11):
        patient = make_patient(scoped, phone=f"+9198450{hour}1234")
        local = timezone.localtime(timezone.now(), scoped.tzinfo) + timedelta(days=2)
        appointment_book(
            patient=patient,
            doctor=doctor,
            actor=doctor.user,
            starts_at=local.replace(hour=hour, minute=0, second=0, microsecond=0),
        )

    result = reminders_dispatch()

    assert result.statuses == {ReminderStatus.SENT: 1, ReminderStatus.SKIPPED: 1}
    held = Reminder.objects.get(status=ReminderStatus.SKIPPED)
    assert held.outcome.startswith("The clinic's plan (Starter) allows 1 WhatsApp messages")
    assert held.message is None
    assert Message.objects.count() == 1


# --- storage ---------------------------------------------------------------------------------
def upload(client, clinic, patient, data: bytes):
    return client.post(
        reverse("patient-documents", args=[clinic.slug, patient.pk]),
        {"kind": "lab_report", "title": "CBC", "file": SimpleUploadedFile("cbc.png", data)},
    )


def stored(clinic, patient, size: int) -> Document:
    """A document already stored (its size is what counts)."""
    return Document.objects.create(
        clinic=clinic,
        patient=patient,
        kind=DocumentKind.OTHER,
        title="Old scan",
        status=DocumentStatus.FAILED,
        size=size,
    )


def test_an_upload_that_would_pass_the_storage_limit_is_refused_and_nothing_is_stored(
    scoped, client_for, member_factory
):
    from tests.factories import PatientFactory

    subscribe(scoped, max_storage_mb=1)
    patient = PatientFactory(clinic=scoped)
    stored(scoped, patient, MIB - 100)
    data = png_bytes()
    assert len(data) > 100
    response = upload(client_for(member_factory(scoped, Role.ASSISTANT)), scoped, patient, data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "The clinic&#x27;s plan (Starter) allows 1 MB of storage; the clinic stores 1.0 MB" in (
        body
    )
    assert Document.objects.count() == 1 and stored_files(scoped) == []


def test_an_upload_under_the_storage_limit_is_kept(scoped, client_for, member_factory):
    from tests.factories import PatientFactory

    subscribe(scoped, max_storage_mb=1)
    patient = PatientFactory(clinic=scoped)
    stored(scoped, patient, MIB // 2)
    response = upload(
        client_for(member_factory(scoped, Role.ASSISTANT)), scoped, patient, png_bytes()
    )
    assert response.status_code == 302
    assert Document.objects.filter(kind="lab_report").count() == 1


def test_without_a_subscription_storage_is_unlimited(scoped, client_for, member_factory):
    from tests.factories import PatientFactory

    patient = PatientFactory(clinic=scoped)
    stored(scoped, patient, 50 * 1024 * MIB)
    response = upload(
        client_for(member_factory(scoped, Role.ASSISTANT)), scoped, patient, png_bytes()
    )
    assert response.status_code == 302


def test_the_storage_limit_counts_documents_bill_pdfs_and_patients_media(scoped):
    from tests.factories import PatientFactory

    subscribe(scoped, max_storage_mb=1)
    patient = PatientFactory(clinic=scoped)
    stored(scoped, patient, 300_000)
    assert limit_status(scoped.pk, "storage_mb").used == 300_000
    with pytest.raises(LimitReached, match="allows 1 MB of storage"):
        require_within_limit(scoped.pk, "storage_mb", adding=MIB - 299_999)
    require_within_limit(scoped.pk, "storage_mb", adding=MIB - 300_000)


# --- cheap to ask ----------------------------------------------------------------------------
def queries(clinic_id: int, resource: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        limit_refusal(clinic_id, resource, adding=1)
    return len(captured)


def test_asking_a_limit_takes_the_same_few_queries_however_much_is_stored_or_sent(scoped, account):
    from tests.factories import PatientFactory

    patient = make_patient(scoped)
    assert queries(scoped.pk, "whatsapp_messages") == 1  # no subscription: one query
    assert queries(scoped.pk, "storage_mb") == 1
    subscribe(scoped, max_whatsapp_messages_per_month=1000, max_storage_mb=1000)
    conversation = sending.conversation_for_patient(patient=patient, account=account)
    few_messages, few_files = (
        queries(scoped.pk, "whatsapp_messages"),
        queries(scoped.pk, "storage_mb"),
    )
    # subscription + time zone + one COUNT; subscription + one SUM per app storing files
    assert (few_messages, few_files) == (3, 4)
    other = PatientFactory(clinic=scoped)
    for _ in range(30):
        stored(scoped, other, 1000)
        sending.messages_write(
            [
                sending.outgoing_message(
                    conversation, patient_id=patient.pk, kind="text", body="Hello"
                )
            ]
        )
    assert queries(scoped.pk, "whatsapp_messages") == few_messages
    assert queries(scoped.pk, "storage_mb") == few_files
    assert limit_status(scoped.pk, "whatsapp_messages").used == 30


# --- the owner's dashboard -----------------------------------------------------------------
def test_the_owner_is_warned_near_and_at_the_message_limit(
    scoped, account, owner, client_for, member_factory
):
    subscribe(scoped, max_whatsapp_messages_per_month=10)
    patient = make_patient(scoped)
    conversation = sending.conversation_for_patient(patient=patient, account=account)

    def write(count):
        sending.messages_write(
            [
                sending.outgoing_message(
                    conversation, patient_id=patient.pk, kind="text", body="Hello"
                )
                for _ in range(count)
            ]
        )

    dashboard = reverse("dashboard", args=[scoped.slug])
    write(7)
    assert "plan-limits" not in client_for(owner).get(dashboard).content.decode()
    write(1)
    page = client_for(owner).get(dashboard).content.decode()
    assert "Near the WhatsApp message limit: 8 of 10 WhatsApp messages sent this month." in page
    write(2)
    page = client_for(owner).get(dashboard).content.decode()
    assert "WhatsApp message limit reached: 10 of 10 WhatsApp messages sent this month." in page
    # Front desk do not manage the plan: no warning for them.
    desk = client_for(member_factory(scoped, Role.FRONT_DESK)).get(dashboard).content.decode()
    assert "plan-limits" not in desk


def test_a_new_logo_past_the_storage_limit_is_refused_on_its_field(scoped, owner):
    from clinics.services import clinic_update
    from tests.factories import PatientFactory

    subscribe(scoped, max_storage_mb=1)
    stored(scoped, PatientFactory(clinic=scoped), MIB)
    logo = SimpleUploadedFile("logo.png", png_bytes(), content_type="image/png")
    with pytest.raises(LimitReached, match="allows 1 MB of storage") as refused:
        clinic_update(clinic=scoped, actor=owner.user, logo=logo)
    assert refused.value.field == "logo"
    scoped.refresh_from_db()
    assert not scoped.logo
