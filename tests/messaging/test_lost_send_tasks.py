"""A queued WhatsApp message whose send task was lost (its worker killed) is sent by the
lost-task sweep, once; a message that may already have gone out is never sent again by it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from clinics.tasks import requeue_waiting_work
from messaging.models import AccountStatus, Message, MessageStatus, WhatsAppAccount
from messaging.services import sending
from messaging.services.recovery import messages_requeue_for_account
from messaging.tasks import retry_due_messages
from tests.messaging.conftest import make_template

pytestmark = pytest.mark.django_db

LOST = timedelta(seconds=settings.TASK_LOST_AFTER_SECONDS)
KIND = "messaging.messages"


@pytest.fixture
def lost_message(wa_account, sim, patient, django_capture_on_commit_callbacks):
    """A template message queued for a worker whose task never ran."""
    template = make_template(wa_account.clinic, sim=sim, buttons=("Confirm", "Cancel"))
    with django_capture_on_commit_callbacks(execute=False) as lost:
        message = sending.message_queue_template(
            template=template, actor=None, patient=patient, body_params=["K", "Mon"]
        )
    assert lost
    return message


def age(message: Message, extra: timedelta = timedelta(seconds=5)) -> None:
    """Make the message look queued longer than a send task can take. (Not by moving the
    clock: a send under a moved clock would leave the shared rate limiter's slot in the
    future for the tests after this one.)"""
    Message.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - LOST - extra, queued_at=None
    )


def sweep(capture) -> int:
    with capture(execute=True):
        return requeue_waiting_work().get(KIND, 0)


def test_a_message_whose_send_task_was_lost_is_sent_once(
    lost_message, sim, django_capture_on_commit_callbacks
):
    assert sweep(django_capture_on_commit_callbacks) == 0  # its task may still be queued
    assert sim.message_requests() == []
    age(lost_message)
    assert sweep(django_capture_on_commit_callbacks) == 1
    lost_message.refresh_from_db()
    assert lost_message.status == MessageStatus.SENT and lost_message.wamid
    age(lost_message, LOST * 3)  # however long ago: it is not queued any more
    assert sweep(django_capture_on_commit_callbacks) == 0
    assert len(sim.message_requests()) == 1


def test_a_message_that_may_have_gone_out_goes_to_the_check_flow_not_out_again(
    lost_message, sim, django_capture_on_commit_callbacks
):
    # The worker claimed it ("sending") and died, maybe after Meta took it.
    Message.objects.filter(pk=lost_message.pk).update(status=MessageStatus.SENDING)
    age(lost_message, timedelta(minutes=10))
    assert sweep(django_capture_on_commit_callbacks) == 0
    retry_due_messages()
    lost_message.refresh_from_db()
    assert lost_message.status == MessageStatus.SENDING and lost_message.uncertain
    assert sim.message_requests() == []


def test_messages_waiting_for_an_account_or_a_back_off_are_left_to_their_own_flow(
    lost_message, wa_account, sim, django_capture_on_commit_callbacks
):
    age(lost_message)
    WhatsAppAccount.objects.filter(pk=wa_account.pk).update(status=AccountStatus.TOKEN_INVALID)
    assert sweep(django_capture_on_commit_callbacks) == 0
    WhatsAppAccount.objects.filter(pk=wa_account.pk).update(status=AccountStatus.ACTIVE)
    Message.objects.filter(pk=lost_message.pk).update(
        next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    assert sweep(django_capture_on_commit_callbacks) == 0
    assert sim.message_requests() == []


def test_a_reconnect_stamps_what_it_enqueues_so_the_sweep_does_not_double_it(
    lost_message, wa_account, django_capture_on_commit_callbacks
):
    age(lost_message)
    with django_capture_on_commit_callbacks(execute=False):
        assert messages_requeue_for_account(account=wa_account) == 1
    assert sweep(django_capture_on_commit_callbacks) == 0
