"""Webhook deliveries left behind: a lost task is found again, failures are shown and replayed."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from clinics.tenancy import scopes_disabled
from messaging.models import Message, WebhookDelivery
from messaging.tasks import requeue_lost_webhooks
from messaging.whatsapp.signature import sign
from tests.messaging.conftest import APP_SECRET, PATIENT
from tests.messaging.test_inbound import PDF, make_relay
from tests.messaging.test_webhook import post, text_message


def stored() -> list[WebhookDelivery]:
    with scopes_disabled():
        return list(WebhookDelivery.objects.order_by("id"))


def post_and_lose_the_task(web, account, payload, capture) -> None:
    """Meta's delivery is stored and acknowledged, but its task never reaches a worker (the
    broker was down when it was enqueued after commit)."""
    body = json.dumps(payload).encode()
    with capture(execute=False):
        assert post(web, account, body, sign(body, APP_SECRET)).status_code == 200


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("whatsapp_webhooks", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def web():
    from django.test import Client

    return Client()


def test_a_delivery_whose_task_was_lost_is_processed_by_the_schedule(
    web, wa_account, patient, django_capture_on_commit_callbacks
):
    post_and_lose_the_task(
        web,
        wa_account,
        text_message("Fever since morning", wamid="wamid.L1"),
        (django_capture_on_commit_callbacks),
    )
    assert len(stored()) == 1 and not Message.objects.filter(wamid="wamid.L1").exists()

    # A task may still be on its way: a fresh delivery is left alone.
    assert requeue_lost_webhooks() == 0
    with (
        time_machine.travel(timezone.now() + timedelta(minutes=11)),
        django_capture_on_commit_callbacks(execute=True),  # enqueued once the sweep commits
    ):
        assert requeue_lost_webhooks() == 1

    assert stored() == []
    message = Message.objects.get(wamid="wamid.L1")
    assert message.patient_id == patient.pk and message.body == "Fever since morning"
    # Run again (the lost task was only slow after all): nothing twice.
    assert requeue_lost_webhooks() == 0
    assert Message.objects.filter(wamid="wamid.L1").count() == 1


def test_the_schedule_is_registered():
    from clinics.registry import waiting_work
    from clinics.schedules import declared_schedules

    # Lost webhook tasks are one kind of the lost-task sweep, which runs every minute.
    names = {spec["func"] for spec in declared_schedules()}
    assert "clinics.tasks.requeue_waiting_work" in names
    assert "messaging.webhook_deliveries" in {entry.name for entry in waiting_work}


def test_a_failing_delivery_is_reported_then_replayed_once_the_cause_is_gone(
    sim, wa_account, patient, receiver, web, django_capture_on_commit_callbacks
):
    relay = make_relay(web, wa_account, receiver, django_capture_on_commit_callbacks)
    wamid, media_id = sim.send_document_from_patient(PATIENT, PDF, filename="scan.pdf")
    good = sim.state.media[media_id].data
    sim.tamper_media(media_id)
    relay()
    (delivery,) = stored()
    assert delivery.attempts == 1

    # Failed, not lost: the schedule leaves it to an operator.
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert requeue_lost_webhooks() == 0

    out, _ = run("status")
    assert "0 waiting, 1 failed" in out
    assert f"delivery {delivery.pk}" in out and "MediaDownloadFailed" in out
    assert PATIENT not in out and "scan.pdf" not in out  # no personal data on the terminal

    with pytest.raises(CommandError, match="1 failed again") as failed:
        run("replay")
    assert failed.value.returncode == 1
    assert stored()[0].attempts == 2

    sim.state.media[media_id].data = good  # WhatsApp serves the file again
    out, _ = run("replay", "--clinic", wa_account.clinic.slug)
    assert "Replayed 1 webhook deliveries." in out
    assert stored() == []
    message = Message.objects.get(wamid=wamid)
    assert message.media_file and Message.objects.filter(wamid=wamid).count() == 1
    out, _ = run("status")
    assert "all processed" in out


def test_replay_of_one_delivery_and_bad_arguments(
    web, wa_account, patient, django_capture_on_commit_callbacks
):
    for n in (1, 2):
        post_and_lose_the_task(
            web,
            wa_account,
            text_message(f"Message {n}", wamid=f"wamid.R{n}"),
            django_capture_on_commit_callbacks,
        )
    first, second = stored()
    out, err = run("replay", "--id", str(first.pk), "--id", "999999")
    assert "Replayed 1" in out
    assert "Not stored" in err and "999999" in err
    assert [d.pk for d in stored()] == [second.pk]
    assert Message.objects.filter(wamid="wamid.R1").exists()
    assert not Message.objects.filter(wamid="wamid.R2").exists()

    out, _ = run("status")
    assert "1 waiting, 0 failed" in out

    with pytest.raises(CommandError, match="No clinic has the short name"):
        run("status", "--clinic", "nowhere")
    with pytest.raises(CommandError, match="positive number"):
        run("replay", "--id", "0")
    with pytest.raises(CommandError, match="--id is for replay"):
        run("status", "--id", str(second.pk))
