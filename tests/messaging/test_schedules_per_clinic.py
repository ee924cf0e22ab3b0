"""The messaging schedules visit the clinics one by one, each in its own scope, instead of
writing with the clinic scopes switched off."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from clinics.tenancy import current_clinic_id
from messaging.models import Message, MessageStatus
from messaging.services import sending
from messaging.tasks import care_sweep, requeue_lost_webhooks, retry_due_messages
from tests.messaging.conftest import make_template

pytestmark = pytest.mark.django_db


def test_the_retry_schedule_flags_an_interrupted_send_inside_its_clinic(
    wa_account, sim, patient, other_clinic
):
    template = make_template(wa_account.clinic, sim=sim, buttons=("Confirm", "Cancel"))
    message = sending.message_queue_template(
        template=template, actor=None, patient=patient, body_params=["K", "Mon"], enqueue=False
    )
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.SENDING)  # worker died
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert retry_due_messages() == 0  # nothing due for a retry, in either clinic
    message.refresh_from_db()
    assert message.uncertain  # for staff to check; never re-sent on its own
    assert current_clinic_id() == wa_account.clinic_id  # the caller's scope is back


def test_the_other_schedules_run_with_nothing_to_do_in_several_clinics(scoped, other_clinic):
    assert requeue_lost_webhooks() == 0
    assert care_sweep() == {"unanswered": 0}
    assert current_clinic_id() == scoped.pk
