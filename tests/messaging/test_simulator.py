"""The WhatsApp simulator's webhooks, control API and phone page; webhook signatures."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from messaging.whatsapp import OutsideWindow, TransientError, Undeliverable
from messaging.whatsapp.errors import from_error_payload
from messaging.whatsapp.signature import sign, verify, verify_handshake
from tests.messaging.conftest import APP_SECRET, PATIENT, PHONE_NUMBER_ID, TOKEN, WABA_ID

REPO_ROOT = Path(__file__).resolve().parents[2]


def statuses_of(received):
    return [r.value["statuses"][0]["status"] for r in received if "statuses" in r.value]


def is_status(body):
    return "statuses" in body["entry"][0]["changes"][0]["value"]


def is_inbound(body):
    return "messages" in body["entry"][0]["changes"][0]["value"]


# --- status webhooks --------------------------------------------------------------------------
def test_a_send_is_followed_by_signed_sent_delivered_read_webhooks(sim, client, receiver):
    sim.open_window(PATIENT, PHONE_NUMBER_ID)
    result = client.send_text(PATIENT, "Your report is ready.", callback_data="msg:7")

    received = receiver.wait_for(3, is_status)
    assert statuses_of(received) == ["sent", "delivered", "read"]
    for delivery in received:
        assert verify(delivery.body, delivery.headers["X-Hub-Signature-256"], APP_SECRET)
    envelope = received[0].json
    assert envelope["object"] == "whatsapp_business_account"
    assert envelope["entry"][0]["id"] == WABA_ID
    change = envelope["entry"][0]["changes"][0]
    assert change["field"] == "messages"
    assert change["value"]["messaging_product"] == "whatsapp"
    assert change["value"]["metadata"] == {
        "display_phone_number": "919800000001",
        "phone_number_id": PHONE_NUMBER_ID,
    }
    status = change["value"]["statuses"][0]
    assert status["id"] == result.wamid
    assert status["recipient_id"] == PATIENT
    assert status["biz_opaque_callback_data"] == "msg:7"
    assert status["timestamp"].isdigit()
    assert status["pricing"]["category"] == "service"
    assert sim.received(PATIENT)[-1]["status"] == "read"


def test_tampered_body_or_wrong_secret_does_not_verify(sim, client, receiver):
    sim.add_template("follow_up", body="Hello")
    client.send_template(PATIENT, "follow_up", "en")
    delivery = receiver.wait_for(1, is_status)[0]
    header = delivery.headers["X-Hub-Signature-256"]

    assert header.startswith("sha256=")
    assert verify(delivery.body, header, APP_SECRET)
    assert not verify(delivery.body.replace(b'"sent"', b'"read"'), header, APP_SECRET)
    assert not verify(delivery.body + b" ", header, APP_SECRET)
    assert not verify(delivery.body, header, "another-app-secret")
    assert not verify(delivery.body, header, "")


def test_statuses_can_arrive_reversed_and_duplicated(sim, client, receiver):
    sim.add_template("follow_up", body="Hello")
    sim.configure_webhooks(order="reversed", duplicate=True)
    client.send_template(PATIENT, "follow_up", "en")
    received = receiver.wait_for(6, is_status)
    assert statuses_of(received) == ["read", "read", "delivered", "delivered", "sent", "sent"]


def test_statuses_can_skip_delivered(sim, client, receiver):
    sim.add_template("follow_up", body="Hello")
    sim.configure_webhooks(statuses=["sent", "read"])
    client.send_template(PATIENT, "follow_up", "en")
    assert statuses_of(receiver.wait_for(2, is_status)) == ["sent", "read"]


def test_failed_status_webhook_instead_of_an_error_response(sim, client, receiver):
    sim.add_template("follow_up", body="Hello")
    sim.inject(131026, via="webhook")
    result = client.send_template(PATIENT, "follow_up", "en", callback_data="msg:9")

    [failed] = receiver.wait_for(1, is_status)
    status = failed.value["statuses"][0]
    assert status["id"] == result.wamid
    assert status["status"] == "failed"
    assert status["biz_opaque_callback_data"] == "msg:9"
    assert status["errors"][0]["code"] == 131026
    assert isinstance(from_error_payload(status["errors"][0]), Undeliverable)
    assert sim.received(PATIENT) == []


def test_a_failing_webhook_receiver_gets_the_delivery_again(sim, client, receiver):
    receiver.fail_next = 1
    sim.reply(PATIENT, "Hello doctor")
    [delivery] = receiver.wait_for(1, is_inbound)
    assert delivery.value["messages"][0]["text"] == {"body": "Hello doctor"}
    # The simulator records the second answer only after the receiver has sent it: wait for it.
    sim.wait_for_deliveries(lambda d: d.status == 200)
    assert [d.status for d in sim.deliveries] == [500, 200]


# --- the patient's replies --------------------------------------------------------------------
def test_text_reply_through_the_control_api_is_a_signed_inbound_webhook(sim, client, receiver):
    answer = requests.post(
        f"{sim.base_url}/_control/reply",
        json={"wa_id": PATIENT, "text": "Can I come at 5?", "name": "Ravi Kumar"},
        timeout=5,
    )
    assert answer.status_code == 200

    [delivery] = receiver.wait_for(1, is_inbound)
    assert verify(delivery.body, delivery.headers["X-Hub-Signature-256"], APP_SECRET)
    value = delivery.value
    assert value["contacts"] == [{"profile": {"name": "Ravi Kumar"}, "wa_id": PATIENT}]
    message = value["messages"][0]
    assert message["id"] == answer.json()["id"]
    assert message["from"] == PATIENT
    assert message["type"] == "text"
    assert message["text"] == {"body": "Can I come at 5?"}
    assert message["timestamp"].isdigit()
    assert abs(int(message["timestamp"]) - time.time()) < 60
    # The reply opened the 24-hour window: free-form text now goes through.
    assert client.send_text(PATIENT, "Yes, 5 pm is free.").wamid


def test_quick_reply_button_comes_back_with_its_payload_and_context(sim, client, receiver):
    sim.add_template(
        "appointment_reminder",
        components=[
            {"type": "BODY", "text": "See you tomorrow."},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Confirm"}]},
        ],
    )
    sent = client.send_template(PATIENT, "appointment_reminder", "en", buttons=["confirm:appt-981"])
    button = sim.received(PATIENT)[-1]["buttons"][0]

    requests.post(
        f"{sim.base_url}/_control/reply",
        json={
            "wa_id": PATIENT,
            "button_payload": button["payload"],
            "button_text": button["text"],
            "context_id": sent.wamid,
        },
        timeout=5,
    ).raise_for_status()

    [delivery] = receiver.wait_for(1, is_inbound)
    message = delivery.value["messages"][0]
    assert message["type"] == "button"
    assert message["button"] == {"payload": "confirm:appt-981", "text": "Confirm"}
    assert message["context"] == {"from": "919800000001", "id": sent.wamid}


def test_patient_document_and_business_scoped_user_id(sim, client, receiver):
    _wamid, media_id = sim.send_document_from_patient(
        PATIENT, b"%PDF old report", filename="old.pdf"
    )
    [delivery] = receiver.wait_for(1, is_inbound)
    document = delivery.value["messages"][0]["document"]
    assert document["id"] == media_id
    assert document["filename"] == "old.pdf"
    assert document["mime_type"] == "application/pdf"
    assert client.download_media(media_id) == b"%PDF old report"

    sim.reply(PATIENT, "hi", user_id="IN.1234567890")
    [_, with_user] = receiver.wait_for(2, is_inbound)
    assert with_user.value["contacts"][0]["user_id"] == "IN.1234567890"


# --- control API ------------------------------------------------------------------------------
def test_control_api_injects_errors_for_the_next_requests(sim, client):
    sim.open_window(PATIENT, PHONE_NUMBER_ID)
    control = f"{sim.base_url}/_control/errors"
    requests.post(control, json={"code": "5xx", "count": 2}, timeout=5).raise_for_status()
    for _ in range(2):
        with pytest.raises(TransientError):
            client.send_text(PATIENT, "hello")
    assert client.send_text(PATIENT, "hello").wamid

    requests.post(control, json={"code": 131047, "count": None}, timeout=5).raise_for_status()
    with pytest.raises(OutsideWindow):
        client.send_text(PATIENT, "hello")
    requests.delete(control, timeout=5).raise_for_status()
    assert client.send_text(PATIENT, "hello").wamid


def test_control_api_closes_the_window(sim, client):
    sim.reply(PATIENT, "hi")
    assert client.send_text(PATIENT, "hello").wamid
    requests.post(
        f"{sim.base_url}/_control/window", json={"wa_id": PATIENT, "open": False}, timeout=5
    ).raise_for_status()
    with pytest.raises(OutsideWindow):
        client.send_text(PATIENT, "hello")


def test_a_window_older_than_24_hours_is_closed(sim, client):
    sim.open_window(PATIENT, PHONE_NUMBER_ID, at=time.time() - 24 * 3600 - 1)
    with pytest.raises(OutsideWindow):
        client.send_text(PATIENT, "hello")
    sim.open_window(PATIENT, PHONE_NUMBER_ID, at=time.time() - 23 * 3600)
    assert client.send_text(PATIENT, "hello").wamid


def test_control_api_only_takes_json(sim):
    """A form post from another site cannot drive the simulator (no CORS preflight passes)."""
    answer = requests.post(
        f"{sim.base_url}/_control/reply", data={"wa_id": PATIENT, "text": "x"}, timeout=5
    )
    assert answer.status_code == 400
    assert sim.deliveries == []


def test_the_patients_phone_page_shows_rendered_templates_and_buttons(sim, client):
    sim.add_template(
        "appointment_reminder",
        components=[
            {
                "type": "BODY",
                "text": "Hello {{1}}, see you at {{2}}.",
                "example": {"body_text": [["A", "B"]]},
            },
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Confirm"}]},
        ],
    )
    client.send_template(
        PATIENT, "appointment_reminder", "en", body_params=["Ravi", "10:30"], buttons=["c:1"]
    )

    page = requests.get(f"{sim.base_url}/", timeout=5)
    assert page.status_code == 200
    assert "text/html" in page.headers["Content-Type"]
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert '<script src="/static/phone.js"' in page.text and "<script>" not in page.text
    assert 'id="reply"' in page.text
    for asset in ("/static/phone.js", "/static/phone.css"):
        assert requests.get(sim.base_url + asset, timeout=5).status_code == 200

    state = requests.get(f"{sim.base_url}/_control/state", timeout=5).json()
    [conversation] = state["conversations"]
    assert conversation["wa_id"] == PATIENT
    assert conversation["window_open"] is False
    [message] = conversation["messages"]
    assert message["body"] == "Hello Ravi, see you at 10:30."
    assert message["buttons"] == [{"text": "Confirm", "payload": "c:1"}]
    assert TOKEN not in json.dumps(state)


# --- signatures and the subscription handshake ------------------------------------------------
def test_sign_matches_the_documented_hmac():
    body = b'{"object":"whatsapp_business_account"}'
    header = sign(body, "secret")
    assert header == "sha256=" + hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    assert verify(body, header, "secret")
    assert verify(body, header.upper().replace("SHA256=", "sha256="), "secret")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha1=abc",
        "sha256=zz" + "0" * 62,
        "sha256=" + "0" * 63,
        42,
        "sha256=" + "0" * 64,
    ],
)
def test_missing_or_malformed_signatures_do_not_verify(header):
    assert verify(b"{}", header, "secret") is False


def test_handshake_answers_the_challenge_only_to_our_verify_token():
    good = {"hub.mode": "subscribe", "hub.verify_token": "vt-123", "hub.challenge": "1158201444"}
    assert verify_handshake(good, "vt-123") == "1158201444"
    assert verify_handshake(good | {"hub.verify_token": "vt-124"}, "vt-123") is None
    assert verify_handshake(good | {"hub.mode": "unsubscribe"}, "vt-123") is None
    assert verify_handshake({"hub.mode": "subscribe", "hub.challenge": "1"}, "vt-123") is None
    assert verify_handshake(good, "") is None


def test_handshake_accepts_a_django_querydict():
    from django.http import QueryDict

    params = QueryDict("hub.mode=subscribe&hub.verify_token=vt-123&hub.challenge=42")
    assert verify_handshake(params, "vt-123") == "42"


# --- the management command -------------------------------------------------------------------
def test_management_command_runs_the_simulator(receiver):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test"}
    process = subprocess.Popen(  # noqa: S603 - our own manage.py
        [
            sys.executable,
            str(REPO_ROOT / "manage.py"),
            "whatsapp_simulator",
            "--port",
            str(port),
            "--webhook-url",
            receiver.url,
            "--app-secret",
            APP_SECRET,
            "--phone-number-id",
            PHONE_NUMBER_ID,
            "--token",
            "cmd-token",
            "--status-delay",
            "0.01",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                answer = requests.get(
                    f"{base}/v25.0/{PHONE_NUMBER_ID}",
                    headers={"Authorization": "Bearer cmd-token"},
                    timeout=1,
                )
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stderr.read()
                assert time.monotonic() < deadline, "the simulator did not start"
                time.sleep(0.1)
        assert answer.json()["id"] == PHONE_NUMBER_ID
        wrong = requests.get(
            f"{base}/v25.0/{PHONE_NUMBER_ID}", headers={"Authorization": "Bearer nope"}, timeout=2
        )
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == 190

        requests.post(f"{base}/_control/reply", json={"wa_id": PATIENT, "text": "hi"}, timeout=2)
        [delivery] = receiver.wait_for(1, is_inbound)
        assert verify(delivery.body, delivery.headers["X-Hub-Signature-256"], APP_SECRET)
    finally:
        process.send_signal(signal.SIGTERM)
        out, _err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert f"http://127.0.0.1:{port}/" in out
