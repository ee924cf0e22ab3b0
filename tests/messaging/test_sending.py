"""Sending: the rules that protect patients, and every Cloud API error path, over real HTTP
against the simulator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clinics.errors import DomainError
from compliance.models import ConsentMethod, ConsentPurpose
from compliance.services import consent_withdraw
from messaging.models import (
    AccountStatus,
    Conversation,
    Message,
    MessagePurpose,
    MessageStatus,
    MessageStatusEvent,
)
from messaging.services import recovery, sending, statuses
from tests.messaging.conftest import PATIENT, make_patient, make_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def template(wa_account, sim):
    return make_template(wa_account.clinic, sim=sim, buttons=("Confirm", "Cancel"))


def queue(template, patient, capture, **kwargs):
    kwargs.setdefault("body_params", ["Kavya", "Mon 12 Jan, 10:30 AM"])
    with capture(execute=True):
        message = sending.message_queue_template(
            template=template, actor=None, patient=patient, **kwargs
        )
    message.refresh_from_db()
    return message


def open_window(conversation, hours_ago=1):
    statuses.conversation_window_refresh(
        conversation=conversation, at=timezone.now() - timedelta(hours=hours_ago)
    )
    conversation.refresh_from_db()
    return conversation


# --- the rules ----------------------------------------------------------------------------------
def test_a_reminder_reaches_the_patient_with_its_buttons(
    template, patient, sim, django_capture_on_commit_callbacks
):
    message = queue(
        template,
        patient,
        django_capture_on_commit_callbacks,
        buttons=["appt_confirm:1", "appt_cancel:1"],
    )
    assert message.status == MessageStatus.SENT
    assert message.wamid.startswith("wamid.")
    received = sim.received(PATIENT)
    assert received[-1]["body"] == "Hello Kavya, this is a reminder of your appointment on " + (
        "Mon 12 Jan, 10:30 AM."
    )
    assert [b["payload"] for b in received[-1]["buttons"]] == ["appt_confirm:1", "appt_cancel:1"]
    # Our id travels with the message, so a status webhook can always find it.
    assert received[-1]["callback_data"] == str(message.public_id)
    assert message.body == received[-1]["body"]


def test_no_message_without_the_patients_opt_in(
    scoped, template, sim, django_capture_on_commit_callbacks
):
    patient = make_patient(scoped, consent=False)
    with pytest.raises(DomainError, match="not agreed to WhatsApp messages"):
        queue(template, patient, django_capture_on_commit_callbacks)
    assert not Message.objects.exists()
    assert sim.received(PATIENT) == []


def test_consent_withdrawn_while_queued_stops_the_message(
    template, patient, sim, django_capture_on_commit_callbacks
):
    message = sending.message_queue_template(
        template=template, actor=None, patient=patient, body_params=["K", "Mon"], enqueue=False
    )
    consent_withdraw(
        patient=patient,
        purpose=ConsentPurpose.WHATSAPP_CARE,
        method=ConsentMethod.WHATSAPP_REPLY,
        actor=None,
        words="STOP",
    )
    message = sending.message_deliver(message_id=message.pk)
    assert message.status == MessageStatus.FAILED
    assert "not agreed" in message.error_title
    assert sim.received(PATIENT) == []


def test_marketing_needs_its_own_opt_in_and_never_goes_to_a_minor(
    scoped, wa_account, sim, django_capture_on_commit_callbacks
):
    camp = make_template(
        scoped,
        sim=sim,
        name="health_camp",
        purpose="",
        category="MARKETING",
        # Marketing templates say how to stop them (test_optout_phrasings).
        body="Free eye camp on {{1}}. Reply STOP to stop these messages.",
    )
    adult = make_patient(scoped)  # care only
    with pytest.raises(DomainError, match="news and offers"):
        sending.message_queue_template(
            template=camp, actor=None, patient=adult, body_params=["Sunday"]
        )
    child = make_patient(
        scoped, phone="+919812345678", date_of_birth=timezone.localdate().replace(year=2018)
    )
    with pytest.raises(DomainError, match="under 18"):
        sending.message_queue_template(
            template=camp, actor=None, patient=child, body_params=["Sunday"]
        )
    agreed = make_patient(scoped, phone="+919811112222", marketing=True)
    message = queue(camp, agreed, django_capture_on_commit_callbacks, body_params=["Sunday"])
    assert message.status == MessageStatus.SENT
    assert message.purpose == MessagePurpose.MARKETING


def test_free_text_only_inside_the_24_hour_window(
    template, patient, wa_account, sim, django_capture_on_commit_callbacks
):
    conversation = sending.conversation_for_patient(patient=patient, account=wa_account)
    with pytest.raises(DomainError, match="24-hour window has closed"):
        sending.message_queue_text(conversation=conversation, body="Hello", actor=None)
    open_window(conversation, hours_ago=23)
    sim.open_window(PATIENT)
    with django_capture_on_commit_callbacks(execute=True):
        message = sending.message_queue_text(
            conversation=conversation, body="Your report is normal.", actor=None
        )
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert sim.received(PATIENT)[-1]["body"] == "Your report is normal."


def test_template_parameters_are_checked_before_anything_is_stored(template, patient):
    with pytest.raises(DomainError, match="needs 2 values; 1 given"):
        sending.message_queue_template(
            template=template, actor=None, patient=patient, body_params=["Kavya"]
        )
    with pytest.raises(DomainError, match="new lines"):
        sending.message_queue_template(
            template=template, actor=None, patient=patient, body_params=["Kavya", "a\nb"]
        )
    assert not Message.objects.exists()


# --- error codes --------------------------------------------------------------------------------
def test_a_server_error_is_retried_with_backoff(
    template, patient, sim, django_capture_on_commit_callbacks
):
    sim.inject("5xx", count=1)
    message = queue(template, patient, django_capture_on_commit_callbacks)
    assert message.status == MessageStatus.QUEUED
    assert message.next_attempt_at > timezone.now()
    assert message.attempts == 1
    # Not before its time...
    assert sending.message_deliver(message_id=message.pk).status == MessageStatus.QUEUED
    # ...then the retry goes through.
    later = message.next_attempt_at + timedelta(seconds=1)
    assert sending.message_deliver(message_id=message.pk, now=later).status == MessageStatus.SENT
    assert len(sim.received(PATIENT)) == 1


def test_throughput_limit_130429_is_retried(
    template, patient, sim, django_capture_on_commit_callbacks
):
    sim.inject(130429, count=1)
    message = queue(template, patient, django_capture_on_commit_callbacks)
    assert message.status == MessageStatus.QUEUED
    assert message.error_code == 130429
    later = message.next_attempt_at + timedelta(seconds=1)
    assert sending.message_deliver(message_id=message.pk, now=later).status == MessageStatus.SENT


def test_pair_rate_131056_pauses_only_that_recipient(
    scoped, template, patient, sim, django_capture_on_commit_callbacks
):
    sim.inject(131056, count=1, recipient=PATIENT)
    message = queue(template, patient, django_capture_on_commit_callbacks)
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert message.status == MessageStatus.QUEUED
    assert conversation.paused_until > timezone.now()
    other = make_patient(scoped, phone="+919811112222")
    assert queue(template, other, django_capture_on_commit_callbacks).status == MessageStatus.SENT


def test_undeliverable_131026_is_never_retried_and_marks_the_number(
    template, patient, sim, django_capture_on_commit_callbacks
):
    sim.inject(131026, count=1)
    message = queue(template, patient, django_capture_on_commit_callbacks)
    assert message.status == MessageStatus.FAILED
    assert message.error_code == 131026
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert conversation.unreachable_at is not None
    with pytest.raises(DomainError, match="could not deliver to this number"):
        queue(template, patient, django_capture_on_commit_callbacks)
    assert len(sim.message_requests()) == 1


def test_outside_the_window_131047_fails_and_asks_for_a_template(
    template, patient, wa_account, sim, django_capture_on_commit_callbacks
):
    conversation = open_window(
        sending.conversation_for_patient(patient=patient, account=wa_account)
    )
    # The simulator's window is closed: Meta refuses the free-form text.
    with django_capture_on_commit_callbacks(execute=True):
        message = sending.message_queue_text(conversation=conversation, body="Hi", actor=None)
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.error_code == 131047
    assert "send an approved template" in message.error_title
    conversation.refresh_from_db()
    assert not conversation.window_open()
    # The template goes through.
    assert queue(template, patient, django_capture_on_commit_callbacks).status == "sent"


def test_an_invalid_token_stops_sending_and_keeps_the_message(
    template, patient, wa_account, sim, django_capture_on_commit_callbacks
):
    sim.inject(190, count=1)
    message = queue(template, patient, django_capture_on_commit_callbacks)
    wa_account.refresh_from_db()
    assert wa_account.status == AccountStatus.TOKEN_INVALID
    assert message.status == MessageStatus.QUEUED
    assert message.next_attempt_at is None
    # Nothing more is queued while the account is refused...
    with pytest.raises(DomainError, match="WhatsApp is not working"):
        queue(template, patient, django_capture_on_commit_callbacks)
    # ...and the waiting message goes once the clinic reconnects.
    wa_account.status = AccountStatus.ACTIVE
    wa_account.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert recovery.messages_requeue_for_account(account=wa_account) == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_a_timeout_leaves_the_message_uncertain_and_never_resends_it(
    template, patient, sim, settings, django_capture_on_commit_callbacks
):
    settings.WHATSAPP_TIMEOUT_SECONDS = 0.5
    sim.inject("timeout", count=1, delay=1.5)
    message = queue(template, patient, django_capture_on_commit_callbacks)
    assert message.uncertain is True
    assert message.status == MessageStatus.SENDING
    # No worker sends it again on its own.
    later = timezone.now() + timedelta(hours=1)
    assert sending.message_deliver(message_id=message.pk, now=later).status == "sending"
    assert recovery.messages_retry_due(now=later) == 0


def test_a_crash_mid_send_is_flagged_for_staff(template, patient):
    message = sending.message_queue_template(
        template=template, actor=None, patient=patient, body_params=["K", "Mon"], enqueue=False
    )
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.SENDING)  # worker died
    assert recovery.messages_flag_uncertain() == 0  # too recent to tell
    assert recovery.messages_flag_uncertain(now=timezone.now() + timedelta(minutes=6)) == 1
    message.refresh_from_db()
    assert message.uncertain


# --- statuses -----------------------------------------------------------------------------------
def test_statuses_only_move_forward_and_duplicates_change_nothing(
    template, patient, wa_account, django_capture_on_commit_callbacks
):
    message = queue(template, patient, django_capture_on_commit_callbacks)
    now = timezone.now()

    def record(status, seconds):
        return statuses.message_status_record(
            account=wa_account,
            wamid=message.wamid,
            status=status,
            occurred_at=now + timedelta(seconds=seconds),
        )

    assert record("read", 5).status == MessageStatus.READ
    assert record("delivered", 3).status == MessageStatus.READ  # late, out of order
    assert record("read", 5).status == MessageStatus.READ  # duplicate
    message.refresh_from_db()
    assert message.delivered_at == now + timedelta(seconds=3)
    assert message.read_at == now + timedelta(seconds=5)
    assert MessageStatusEvent.objects.filter(message=message).count() == 2
    assert (
        statuses.message_status_record(
            account=wa_account, wamid="wamid.unknown", status="read", occurred_at=now
        )
        is None
    )


def test_a_status_with_our_id_settles_an_uncertain_message(template, patient, wa_account):
    message = sending.message_queue_template(
        template=template, actor=None, patient=patient, body_params=["K", "Mon"], enqueue=False
    )
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.SENDING, uncertain=True)
    settled = statuses.message_status_record(
        account=wa_account,
        wamid="wamid.HBgMOTE5ODc2NTQzMjEw",
        status="delivered",
        occurred_at=timezone.now(),
        callback_data=str(message.public_id),
    )
    assert settled.pk == message.pk
    assert settled.wamid == "wamid.HBgMOTE5ODc2NTQzMjEw"
    assert settled.status == MessageStatus.DELIVERED
    assert settled.uncertain is False


def test_failed_is_final(template, patient, wa_account, django_capture_on_commit_callbacks):
    message = queue(template, patient, django_capture_on_commit_callbacks)
    now = timezone.now()
    failed = statuses.message_status_record(
        account=wa_account,
        wamid=message.wamid,
        status="failed",
        occurred_at=now,
        errors=[{"code": 131026, "title": "Message undeliverable"}],
    )
    assert failed.status == MessageStatus.FAILED
    assert failed.error_code == 131026
    later = statuses.message_status_record(
        account=wa_account, wamid=message.wamid, status="read", occurred_at=now
    )
    assert later.status == MessageStatus.FAILED
    assert Conversation.objects.get(pk=message.conversation_id).unreachable_at is not None


def test_staff_can_send_an_uncertain_message_again_once(
    template, patient, owner, django_capture_on_commit_callbacks
):
    message = sending.message_queue_template(
        template=template, actor=None, patient=patient, body_params=["K", "Mon"], enqueue=False
    )
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.SENDING, uncertain=True)
    with django_capture_on_commit_callbacks(execute=True):
        copy = recovery.message_resend(message=message, actor=owner.user)
    copy.refresh_from_db()
    assert copy.status == MessageStatus.SENT
    assert copy.purpose == MessagePurpose.CARE
    with pytest.raises(DomainError, match="nothing to send again"):
        recovery.message_resend(message=message, actor=owner.user)
