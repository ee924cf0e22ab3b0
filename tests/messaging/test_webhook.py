"""The WhatsApp webhook endpoint: handshake, signatures, routing, duplicates, order.

Deliveries are posted as Meta posts them (signed raw bytes) to /webhooks/whatsapp/<key>/, with
the Django test client or, at the end, by the simulator over real HTTP to a live server.
"""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from clinics.tenancy import scopes_disabled
from messaging.models import (
    Conversation,
    Message,
    MessageStatus,
    MessageStatusEvent,
    WebhookDelivery,
)
from messaging.services.sending import message_deliver, message_queue_template
from messaging.whatsapp.signature import sign
from tests.messaging.conftest import (
    APP_SECRET,
    PATIENT,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    WABA_ID,
    make_template,
)

OTHER_PHONE_NUMBER_ID = "109876543219999"


# --- helpers (also used by test_inbound and test_optout) ----------------------------------------
def webhook_path(account) -> str:
    return f"/webhooks/whatsapp/{account.webhook_key}/"


def envelope(value: dict, *, phone_number_id: str = PHONE_NUMBER_ID, field="messages") -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "918040001234", "phone_number_id": phone_number_id},
    } | value
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"field": field, "value": value}]}],
    }


def text_message(text: str, *, wamid: str, wa_id: str = PATIENT, name: str = "Ravi") -> dict:
    return envelope(
        {
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [
                {
                    "from": wa_id,
                    "id": wamid,
                    "timestamp": str(int(time.time())),
                    "type": "text",
                    "text": {"body": text},
                }
            ],
        }
    )


def status_update(wamid: str, status: str, *, at: int | None = None) -> dict:
    item = {
        "id": wamid,
        "status": status,
        "timestamp": str(at or int(time.time())),
        "recipient_id": PATIENT,
    }
    return envelope({"statuses": [item]})


def post(web, account, body: bytes, signature: str | None, *, capture=None):
    headers = {"HTTP_X_HUB_SIGNATURE_256": signature} if signature is not None else {}
    return web.post(webhook_path(account), data=body, content_type="application/json", **headers)


def deliver(web, account, payload, capture, *, secret: str = APP_SECRET):
    """POST a signed delivery and run what was queued on commit (the processing task)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    with capture(execute=True):
        response = post(web, account, body, sign(body, secret))
    return response


def deliveries_stored() -> int:
    with scopes_disabled():
        return WebhookDelivery.objects.count()


@pytest.fixture
def web():
    return Client()


# --- the handshake ------------------------------------------------------------------------------
def test_handshake_with_our_verify_token_echoes_the_challenge(web, wa_account):
    response = web.get(
        webhook_path(wa_account),
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
    ],
    ids=["wrong token", "wrong mode", "no mode"],
)
def test_handshake_refused(web, wa_account, params):
    response = web.get(webhook_path(wa_account), params)
    assert response.status_code == 403
    assert b"1" not in response.content


def test_unknown_webhook_key_is_not_found(web, wa_account):
    body = json.dumps(text_message("hi", wamid="wamid.X1")).encode()
    response = web.post(
        "/webhooks/whatsapp/not-a-key/",
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=sign(body, APP_SECRET),
    )
    assert response.status_code == 404
    assert web.get("/webhooks/whatsapp/not-a-key/", {"hub.mode": "subscribe"}).status_code == 404
    assert deliveries_stored() == 0


# --- signatures ---------------------------------------------------------------------------------
def test_a_signed_delivery_is_stored_once_and_processed_after_commit(
    web, wa_account, django_capture_on_commit_callbacks
):
    body = json.dumps(text_message("Hello doctor", wamid="wamid.S1")).encode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(web, wa_account, body, sign(body, APP_SECRET))
    assert response.status_code == 200
    assert deliveries_stored() == 1
    assert not Message.objects.exists()  # acknowledged first, processed in the task
    assert len(callbacks) == 1

    callbacks[0]()
    assert deliveries_stored() == 0
    assert Message.objects.get(wamid="wamid.S1").body == "Hello doctor"


@pytest.mark.parametrize("case", ["tampered body", "missing header", "wrong secret", "garbage"])
def test_bad_signatures_are_refused_and_nothing_is_stored(
    web, wa_account, django_capture_on_commit_callbacks, case
):
    body = json.dumps(text_message("Hello", wamid="wamid.BAD")).encode()
    signature = {
        "tampered body": sign(body, APP_SECRET),
        "missing header": None,
        "wrong secret": sign(body, "someone-elses-secret"),
        "garbage": "sha256=xyz",
    }[case]
    if case == "tampered body":
        body = body.replace(b"Hello", b"Hellp")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(web, wa_account, body, signature)
    assert response.status_code == 403
    assert deliveries_stored() == 0
    assert not Message.objects.exists()
    assert not Conversation.objects.exists()


def test_signed_but_not_whatsapp_json_is_a_bad_request(
    web, wa_account, django_capture_on_commit_callbacks
):
    for body in (b"not json", json.dumps({"object": "page", "entry": []}).encode()):
        with django_capture_on_commit_callbacks(execute=True):
            response = post(web, wa_account, body, sign(body, APP_SECRET))
        assert response.status_code == 400
    assert deliveries_stored() == 0


def test_a_signed_body_nested_50000_levels_deep_is_a_json_bad_request(
    web, wa_account, django_capture_on_commit_callbacks
):
    deep = b"[" * 50_000 + b"]" * 50_000
    envelope_deep = json.dumps(text_message("Hi", wamid="wamid.DEEP")).encode()[:-1]
    envelope_deep += b', "extra": ' + deep + b"}"
    for body in (deep, envelope_deep):
        with django_capture_on_commit_callbacks(execute=True):
            response = post(web, wa_account, body, sign(body, APP_SECRET))
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        assert response.json() == {
            "type": "invalid_request",
            "code": "too_deep",
            "detail": "The JSON is nested more than 32 levels deep.",
            "fields": {},
        }
    assert deliveries_stored() == 0


def test_refused_deliveries_answer_in_the_error_shape(
    web, wa_account, django_capture_on_commit_callbacks
):
    body = b"not json"
    unsigned = post(web, wa_account, body, None)
    assert unsigned.status_code == 403 and unsigned.json()["code"] == "bad_signature"
    refused = post(web, wa_account, body, sign(body, APP_SECRET))
    assert refused.status_code == 400
    assert set(refused.json()) == {"type", "code", "detail", "fields"}


def test_a_signed_body_over_the_size_limit_is_413_json(
    web, wa_account, django_capture_on_commit_callbacks, settings
):
    payload = text_message("x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE, wamid="wamid.BIG")
    body = json.dumps(payload).encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(web, wa_account, body, sign(body, APP_SECRET))
    assert response.status_code == 413
    assert response.json() == {
        "type": "invalid_request",
        "code": "too_large",
        "detail": "The request body is too large: send at most 2,621,440 bytes.",
        "fields": {},
    }
    assert deliveries_stored() == 0


def test_an_unknown_webhook_key_is_404_json(web, wa_account):
    response = web.post("/webhooks/whatsapp/not-a-key/", data=b"{}", content_type="text/plain")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_delivery_for_an_unknown_phone_number_id_is_refused(
    web, wa_account, django_capture_on_commit_callbacks, caplog
):
    payload = text_message("Hello", wamid="wamid.OTHER", name="Sunita Rao")
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = (
        OTHER_PHONE_NUMBER_ID
    )
    response = deliver(web, wa_account, payload, django_capture_on_commit_callbacks)
    assert response.status_code == 403
    assert deliveries_stored() == 0
    assert not Message.objects.exists()
    assert "Sunita" not in caplog.text and PATIENT not in caplog.text


def test_get_and_post_need_no_login_or_csrf(wa_account, django_capture_on_commit_callbacks):
    web = Client(enforce_csrf_checks=True)
    response = deliver(
        web, wa_account, text_message("hi", wamid="wamid.C1"), django_capture_on_commit_callbacks
    )
    assert response.status_code == 200


# --- duplicates and order -----------------------------------------------------------------------
def test_the_same_inbound_message_twice_is_stored_once(
    web, wa_account, patient, django_capture_on_commit_callbacks
):
    payload = text_message("Is the clinic open on Sunday?", wamid="wamid.D1")
    for _ in range(2):
        assert (
            deliver(web, wa_account, payload, django_capture_on_commit_callbacks).status_code == 200
        )
    assert Message.objects.filter(wamid="wamid.D1").count() == 1
    conversation = Conversation.objects.get()
    assert conversation.unread_count == 1
    assert deliveries_stored() == 0


def _sent_template(sim, patient):
    template = make_template(patient.clinic, sim=sim)
    message = message_queue_template(
        template=template,
        actor=None,
        patient=patient,
        body_params=["Ravi", "12 Jan"],
        enqueue=False,
    )
    return message_deliver(message_id=message.pk)


def test_the_same_status_twice_is_recorded_once(
    web, sim, wa_account, patient, django_capture_on_commit_callbacks
):
    message = _sent_template(sim, patient)
    for _ in range(2):
        deliver(
            web,
            wa_account,
            status_update(message.wamid, "delivered"),
            django_capture_on_commit_callbacks,
        )
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert MessageStatusEvent.objects.filter(message=message, status="delivered").count() == 1


def test_read_then_delivered_keeps_read(
    web, sim, wa_account, patient, django_capture_on_commit_callbacks
):
    message = _sent_template(sim, patient)
    now = int(time.time())
    deliver(
        web,
        wa_account,
        status_update(message.wamid, "read", at=now),
        django_capture_on_commit_callbacks,
    )
    deliver(
        web,
        wa_account,
        status_update(message.wamid, "delivered", at=now - 5),
        django_capture_on_commit_callbacks,
    )
    message.refresh_from_db()
    assert message.status == MessageStatus.READ
    assert message.read_at is not None and message.delivered_at is not None
    assert set(message.status_events.values_list("status", flat=True)) == {"read", "delivered"}


def test_a_status_with_our_callback_data_settles_a_message_without_wamid(
    web, sim, wa_account, patient, django_capture_on_commit_callbacks
):
    template = make_template(patient.clinic, sim=sim)
    message = message_queue_template(
        template=template,
        actor=None,
        patient=patient,
        body_params=["Ravi", "12 Jan"],
        enqueue=False,
    )
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.SENDING, uncertain=True)
    payload = status_update("wamid.LOST", "delivered")
    payload["entry"][0]["changes"][0]["value"]["statuses"][0]["biz_opaque_callback_data"] = str(
        message.public_id
    )
    deliver(web, wa_account, payload, django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert (message.wamid, message.status, message.uncertain) == ("wamid.LOST", "delivered", False)


def test_template_review_updates_the_clinics_template(
    web, wa_account, django_capture_on_commit_callbacks
):
    template = make_template(wa_account.clinic, name="bill_ready", purpose="")
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "time": int(time.time()),
                "changes": [
                    {
                        "field": "message_template_status_update",
                        "value": {
                            "event": "REJECTED",
                            "message_template_id": 1234,
                            "message_template_name": "bill_ready",
                            "message_template_language": "en",
                            "reason": "INCORRECT_CATEGORY",
                        },
                    }
                ],
            }
        ],
    }
    assert deliver(web, wa_account, payload, django_capture_on_commit_callbacks).status_code == 200
    template.refresh_from_db()
    assert (template.status, template.rejected_reason) == ("REJECTED", "INCORRECT_CATEGORY")

    payload["entry"][0]["id"] = "999"  # another business account: not ours
    assert deliver(web, wa_account, payload, django_capture_on_commit_callbacks).status_code == 403


def test_system_errors_are_counted_without_their_details(
    web, wa_account, django_capture_on_commit_callbacks, caplog
):
    payload = envelope(
        {"errors": [{"code": 131051, "title": "Unsupported message type", "message": "Ravi"}]}
    )
    assert deliver(web, wa_account, payload, django_capture_on_commit_callbacks).status_code == 200
    assert "1 system errors" in caplog.text
    assert "Ravi" not in caplog.text
    assert deliveries_stored() == 0


# --- end to end: the simulator over real HTTP to a live server ----------------------------------
@pytest.mark.django_db(transaction=True)
def test_simulator_reply_reaches_the_endpoint_over_http(sim, wa_account, patient, live_server):
    sim.configure_webhooks(url=live_server.url + webhook_path(wa_account))
    wamid = sim.reply(PATIENT, "Namaste, is my report ready?", name="Ravi Kumar")

    delivered = sim.wait_for_deliveries(lambda d: d.kind == "messages", timeout=10)
    assert delivered and delivered[0].status == 200
    message = Message.objects.get(wamid=wamid)
    assert message.body == "Namaste, is my report ready?"
    assert message.direction == "in" and message.patient_id == patient.pk
    conversation = message.conversation
    assert conversation.profile_name == "Ravi Kumar"
    assert conversation.window_open() and conversation.needs_reply
    assert deliveries_stored() == 0


# --- the ORM broker: the delivery and its task commit together ----------------------------------
@pytest.fixture
def orm_broker(monkeypatch):
    """The embedded setup's queue: django-q2's ORM broker, with no synchronous shortcut."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", "default")


def test_with_the_orm_broker_the_task_is_queued_with_the_delivery(web, wa_account, orm_broker):
    from django_q.models import OrmQ

    from messaging.tasks import process_webhook

    body = json.dumps(text_message("Hello", wamid="wamid.Q1")).encode()
    bad = post(web, wa_account, body, sign(body, "wrong-secret"))
    assert bad.status_code == 403 and not OrmQ.objects.exists()

    assert post(web, wa_account, body, sign(body, APP_SECRET)).status_code == 200
    queued = OrmQ.objects.get()
    with scopes_disabled():
        delivery = WebhookDelivery.objects.get()
    assert queued.func() == "messaging.tasks.process_webhook"
    assert queued.args() == (delivery.pk,)

    process_webhook(*queued.args())  # what the worker does with it
    assert Message.objects.get(wamid="wamid.Q1").body == "Hello"
    assert deliveries_stored() == 0
    assert process_webhook(*queued.args()) == "gone"  # a second run is harmless
