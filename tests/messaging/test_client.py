"""The WhatsApp Cloud API client against the local simulator, over real HTTP."""

from __future__ import annotations

import hashlib
import logging
import socket
import time

import pytest
import requests

from messaging.whatsapp import (
    BadRequest,
    InvalidMessage,
    InvalidToken,
    MediaError,
    OutsideWindow,
    PairRateLimited,
    TemplateError,
    TransientError,
    Undeliverable,
    WhatsAppClient,
    classify,
    normalize_number,
)
from messaging.whatsapp.errors import from_error_payload
from messaging.whatsapp.session import shared_session
from tests.messaging.conftest import PATIENT, PATIENT_E164, PHONE_NUMBER_ID, TOKEN, WABA_ID

REMINDER = [
    {
        "type": "HEADER",
        "format": "TEXT",
        "text": "Reminder from {{1}}",
        "example": {"header_text": ["Asha Clinic"]},
    },
    {
        "type": "BODY",
        "text": "Hello {{1}}, your appointment with {{2}} is on {{3}}.",
        "example": {"body_text": [["Ravi", "Dr Rao", "12 Jan 2027"]]},
    },
    {"type": "FOOTER", "text": "Reply STOP to opt out"},
    {
        "type": "BUTTONS",
        "buttons": [
            {"type": "QUICK_REPLY", "text": "Confirm"},
            {"type": "QUICK_REPLY", "text": "Reschedule"},
        ],
    },
]


def open_window(sim, wa_id=PATIENT):
    sim.open_window(wa_id, PHONE_NUMBER_ID)


# --- sending: the exact wire format -----------------------------------------------------------
def test_send_text_posts_the_documented_body_and_returns_ids(sim, client):
    open_window(sim)
    result = client.send_text(PATIENT_E164, "Your report is ready.")

    assert sim.message_requests()[-1] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": PATIENT,
        "type": "text",
        "text": {"body": "Your report is ready.", "preview_url": False},
    }
    assert sim.requests[-1].path == f"/v25.0/{PHONE_NUMBER_ID}/messages"
    assert result.wamid.startswith("wamid.")
    assert result.wa_id == PATIENT
    assert result.message_status == "accepted"
    assert [m["body"] for m in sim.received(PATIENT)] == ["Your report is ready."]


def test_send_text_reply_in_thread_with_callback_data(sim, client):
    open_window(sim)
    first = client.send_text(PATIENT, "First")
    client.send_text(
        PATIENT,
        "See https://example.in",
        preview_url=True,
        reply_to=first.wamid,
        callback_data="msg:42",
    )

    assert sim.message_requests()[-1] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": PATIENT,
        "type": "text",
        "text": {"body": "See https://example.in", "preview_url": True},
        "context": {"message_id": first.wamid},
        "biz_opaque_callback_data": "msg:42",
    }


def test_send_template_with_header_body_and_quick_reply_buttons(sim, client):
    sim.add_template("appointment_reminder", "en", "UTILITY", REMINDER)
    client.send_template(
        PATIENT,
        "appointment_reminder",
        "en",
        header_params=["Asha Clinic"],
        body_params=["Ravi", "Dr Rao", "12 Jan 2027"],
        buttons=["confirm:981", "reschedule:981"],
        callback_data="reminder:981",
    )

    assert sim.message_requests()[-1] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": PATIENT,
        "type": "template",
        "template": {
            "name": "appointment_reminder",
            "language": {"code": "en"},
            "components": [
                {"type": "header", "parameters": [{"type": "text", "text": "Asha Clinic"}]},
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Ravi"},
                        {"type": "text", "text": "Dr Rao"},
                        {"type": "text", "text": "12 Jan 2027"},
                    ],
                },
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": "0",
                    "parameters": [{"type": "payload", "payload": "confirm:981"}],
                },
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": "1",
                    "parameters": [{"type": "payload", "payload": "reschedule:981"}],
                },
            ],
        },
        "biz_opaque_callback_data": "reminder:981",
    }
    shown = sim.received(PATIENT)[-1]
    assert shown["header"] == "Reminder from Asha Clinic"
    assert shown["body"] == "Hello Ravi, your appointment with Dr Rao is on 12 Jan 2027."
    assert shown["buttons"] == [
        {"text": "Confirm", "payload": "confirm:981"},
        {"text": "Reschedule", "payload": "reschedule:981"},
    ]


def test_send_template_named_parameters_and_explicit_button_index(sim, client):
    sim.add_template(
        "bill_ready",
        "hi",
        components=[
            {
                "type": "BODY",
                "text": "{{patient_name}}, your bill of {{amount}} is ready.",
                "example": {
                    "body_text_named_params": [
                        {"param_name": "patient_name", "example": "Ravi"},
                        {"param_name": "amount", "example": "Rs 500.00"},
                    ]
                },
            },
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "URL", "text": "Pay"},
                    {"type": "QUICK_REPLY", "text": "Thanks"},
                ],
            },
        ],
    )
    client.send_template(
        PATIENT,
        "bill_ready",
        "hi",
        body_params={"patient_name": "Ravi", "amount": "Rs 1,200.00"},
        buttons=[(1, "thanks:7")],
    )

    template = sim.message_requests()[-1]["template"]
    assert template["language"] == {"code": "hi"}
    assert template["components"] == [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "parameter_name": "patient_name", "text": "Ravi"},
                {"type": "text", "parameter_name": "amount", "text": "Rs 1,200.00"},
            ],
        },
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": "1",
            "parameters": [{"type": "payload", "payload": "thanks:7"}],
        },
    ]
    assert sim.received(PATIENT)[-1]["body"] == "Ravi, your bill of Rs 1,200.00 is ready."


def test_send_document_by_media_id_and_by_link(sim, client):
    open_window(sim)
    media_id = client.upload_media(b"%PDF-1.7 bill", "application/pdf", "bill.pdf")
    client.send_document(PATIENT, media_id=media_id, filename="bill.pdf", caption="Your bill")
    by_id = sim.message_requests()[-1]
    client.send_document(PATIENT, link="https://files.example.in/d/abc", filename="report.pdf")
    by_link = sim.message_requests()[-1]

    assert by_id == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": PATIENT,
        "type": "document",
        "document": {"id": media_id, "filename": "bill.pdf", "caption": "Your bill"},
    }
    assert by_link["document"] == {
        "link": "https://files.example.in/d/abc",
        "filename": "report.pdf",
    }
    assert [m["document"]["filename"] for m in sim.received(PATIENT)] == ["bill.pdf", "report.pdf"]


# --- checks before sending --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("+919876543210", "919876543210"),
        ("+91 98765-43210", "919876543210"),
        ("14155550123", "14155550123"),
    ],
)
def test_numbers_are_sent_as_digits_without_plus(given, sent):
    assert normalize_number(given) == sent


@pytest.mark.parametrize(
    "bad", ["", "98765", "+91 98765 4321a", "0919876543210", "+1234567890123456"]
)
def test_malformed_numbers_are_refused_before_sending(sim, client, bad):
    with pytest.raises(InvalidMessage):
        client.send_text(bad, "hello")
    assert sim.requests == []


def test_length_limits_are_checked_before_sending(sim, client):
    open_window(sim)
    with pytest.raises(InvalidMessage, match="4,097 characters; WhatsApp allows at most 4,096"):
        client.send_text(PATIENT, "x" * 4097)
    with pytest.raises(InvalidMessage, match="caption"):
        client.send_document(
            PATIENT, link="https://x.example.in/a", filename="a.pdf", caption="c" * 1025
        )
    with pytest.raises(InvalidMessage, match="513 bytes"):
        client.send_text(PATIENT, "hi", callback_data="₹" * 171)  # 171 characters, 513 bytes
    with pytest.raises(InvalidMessage):
        client.send_document(PATIENT, media_id="1", link="https://x.example.in/a", filename="a.pdf")
    assert sim.requests == []

    client.send_text(PATIENT, "x" * 4096, callback_data="₹" * 170)
    assert len(sim.message_requests()[-1]["text"]["body"]) == 4096


# --- errors: each code maps to what the caller must do ----------------------------------------
@pytest.mark.parametrize(
    ("fault", "expected", "http_status"),
    [
        ("5xx", TransientError, 500),
        ("502", TransientError, 502),
        (131000, TransientError, 500),
        (130429, TransientError, 400),
        (131056, PairRateLimited, 400),
        (131026, Undeliverable, 400),
        (131047, OutsideWindow, 400),
        (190, InvalidToken, 401),
        (132000, TemplateError, 400),
        (132001, TemplateError, 404),
        (131053, MediaError, 400),
        (100, BadRequest, 400),
    ],
)
def test_injected_errors_raise_the_matching_exception(sim, client, fault, expected, http_status):
    open_window(sim)
    sim.inject(fault)
    with pytest.raises(expected) as caught:
        client.send_text(PATIENT, "hello")
    error = caught.value
    assert type(error) is expected
    assert error.http_status == http_status
    if fault != "502":
        assert error.code == (1 if fault == "5xx" else fault)
        assert error.fbtrace_id
    assert TOKEN not in str(error) and TOKEN not in repr(error.__dict__)
    # The fault was used up: the next send goes through.
    assert client.send_text(PATIENT, "hello again").wamid


def test_transient_errors_carry_retry_information(sim, client):
    open_window(sim)
    sim.inject(130429)
    with pytest.raises(TransientError) as throughput:
        client.send_text(PATIENT, "hello")
    assert throughput.value.retryable and throughput.value.retry_after == 1.0
    assert [throughput.value.backoff_seconds(n) for n in range(3)] == [1.0, 2.0, 4.0]

    sim.inject("5xx")
    with pytest.raises(TransientError) as server_error:
        client.send_text(PATIENT, "hello")
    assert server_error.value.retry_after > 0

    sim.inject(131056)
    with pytest.raises(PairRateLimited) as pair:
        client.send_text(PATIENT, "hello")
    assert [pair.value.backoff_seconds(n) for n in range(4)] == [1.0, 4.0, 16.0, 64.0]


def test_faults_for_one_recipient_leave_others_alone(sim, client):
    other = "919812345678"
    open_window(sim)
    open_window(sim, other)
    sim.inject(131026, recipient=PATIENT, count=None)
    for _ in range(2):
        with pytest.raises(Undeliverable):
            client.send_text(PATIENT, "hello")
    assert client.send_text(other, "hello").wa_id == other


def test_free_form_text_outside_the_window_is_refused_but_a_template_is_not(sim, client):
    sim.add_template("follow_up", body="Hello {{1}}, how are you feeling?")
    with pytest.raises(OutsideWindow) as caught:
        client.send_text(PATIENT, "How are you feeling?")
    assert caught.value.code == 131047
    assert "template" in caught.value.action

    assert client.send_template(PATIENT, "follow_up", "en", body_params=["Ravi"]).wamid
    sim.reply(PATIENT, "Better, thanks")
    assert client.send_text(PATIENT, "Glad to hear it.").wamid


def test_unreachable_number_is_undeliverable(sim, client):
    sim.add_template("follow_up", body="Hello")
    sim.mark_unreachable(PATIENT)
    with pytest.raises(Undeliverable) as caught:
        client.send_template(PATIENT, "follow_up", "en")
    assert not caught.value.retryable


def test_template_missing_in_language_or_wrong_parameter_count(sim, client):
    sim.add_template("appointment_reminder", "en", "UTILITY", REMINDER)
    with pytest.raises(TemplateError) as missing:
        client.send_template(PATIENT, "appointment_reminder", "ta", body_params=["a", "b", "c"])
    assert missing.value.code == 132001
    with pytest.raises(TemplateError) as mismatch:
        client.send_template(
            PATIENT, "appointment_reminder", "en", header_params=["A"], body_params=["a"]
        )
    assert mismatch.value.code == 132000


def test_wrong_token_is_invalid_token_and_never_shown(sim, caplog):
    bad_token = "EAAGwrongTokenWrongTokenWrongToken99"
    client = WhatsAppClient(PHONE_NUMBER_ID, bad_token, base_url=sim.base_url, timeout=3)
    with caplog.at_level(logging.DEBUG), pytest.raises(InvalidToken) as caught:
        client.send_text(PATIENT, "Private: your HbA1c result")
    assert caught.value.code == 190
    assert caught.value.http_status == 401
    assert bad_token not in str(caught.value)
    assert bad_token not in caplog.text and "HbA1c" not in caplog.text
    assert PATIENT not in caplog.text
    assert bad_token not in repr(client)

    with pytest.raises(InvalidToken):
        client.test_connection()


def test_graph_messages_that_echo_a_token_are_redacted():
    response = requests.Response()
    response.status_code = 400
    response.headers["Content-Type"] = "application/json"
    response._content = (
        b'{"error": {"message": "Malformed access token EAAGsecretsecretsecretsecret12",'
        b' "type": "OAuthException", "code": 190, "fbtrace_id": "AbC"}}'
    )
    error = classify(response, secrets=("EAAGsecretsecretsecretsecret12",))
    assert isinstance(error, InvalidToken)
    assert "EAAGsecret" not in str(error) and "[redacted]" in error.message


def test_webhook_status_errors_map_like_api_errors():
    error = from_error_payload(
        {"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable"}
    )
    assert isinstance(error, Undeliverable)
    assert isinstance(
        from_error_payload({"code": 131047, "title": "Re-engagement message"}), OutsideWindow
    )
    assert isinstance(
        from_error_payload({"code": 0, "type": "OAuthException"}, http_status=401), InvalidToken
    )


def test_timeout_is_transient_and_may_have_been_sent(sim):
    open_window(sim)
    client = WhatsAppClient(PHONE_NUMBER_ID, TOKEN, base_url=sim.base_url, timeout=0.3)
    sim.inject("timeout", delay=3)
    started = time.monotonic()
    with pytest.raises(TransientError) as caught:
        client.send_text(PATIENT, "hello")
    assert time.monotonic() - started < 2
    assert caught.value.title == "Timeout"
    assert caught.value.maybe_sent is True
    assert caught.value.__cause__ is None  # no request (and so no token) kept on the exception


def test_connection_refused_is_transient_and_not_sent():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = WhatsAppClient(PHONE_NUMBER_ID, TOKEN, base_url=f"http://127.0.0.1:{port}", timeout=1)
    with pytest.raises(TransientError) as caught:
        client.send_text(PATIENT, "hello")
    assert caught.value.maybe_sent is False


# --- media ------------------------------------------------------------------------------------
def test_media_upload_and_download_round_trip(sim, client):
    data = b"%PDF-1.7\n" + bytes(range(256)) * 300
    media_id = client.upload_media(data, "application/pdf", "lab-report.pdf")

    upload = sim.requests[-1]
    assert upload.form == {"messaging_product": "whatsapp", "type": "application/pdf"}
    assert upload.files == [
        {"filename": "lab-report.pdf", "mime_type": "application/pdf", "size": len(data)}
    ]

    info = client.media_info(media_id)
    assert info["sha256"] == hashlib.sha256(data).hexdigest()
    assert info["file_size"] == len(data)
    assert info["mime_type"] == "application/pdf"
    assert client.download_media(media_id) == data


def test_tampered_download_is_refused(sim, client):
    media_id = client.upload_media(b"original bytes of a prescription", "application/pdf", "rx.pdf")
    sim.tamper_media(media_id)
    with pytest.raises(MediaError, match="sha256"):
        client.download_media(media_id)


def test_inbound_media_from_the_patient_downloads_with_the_token(sim, client):
    _wamid, media_id = sim.send_document_from_patient(PATIENT, b"old report", filename="old.pdf")
    assert client.download_media(media_id) == b"old report"
    other = WhatsAppClient(
        PHONE_NUMBER_ID, "EAAGnotTheRightTokenAtAll000000", base_url=sim.base_url
    )
    with pytest.raises(InvalidToken):
        other.download_media(media_id)


def test_unsupported_upload_type_is_a_media_error(client):
    with pytest.raises(MediaError) as caught:
        client.upload_media(b"MZ\x90\x00", "application/x-msdownload", "setup.exe")
    assert caught.value.code == 131053


# --- templates and account --------------------------------------------------------------------
def test_create_template_starts_pending_until_approved(sim, client, receiver):
    created = client.create_template(
        WABA_ID,
        "visit_follow_up",
        "en",
        "UTILITY",
        [
            {
                "type": "BODY",
                "text": "Hello {{1}}, how are you today?",
                "example": {"body_text": [["Ravi"]]},
            }
        ],
    )
    assert created["status"] == "PENDING" and created["category"] == "UTILITY"
    assert sim.requests[-1].json == {
        "name": "visit_follow_up",
        "language": "en",
        "category": "UTILITY",
        "components": [
            {
                "type": "BODY",
                "text": "Hello {{1}}, how are you today?",
                "example": {"body_text": [["Ravi"]]},
            }
        ],
    }
    with pytest.raises(TemplateError):
        client.send_template(PATIENT, "visit_follow_up", "en", body_params=["Ravi"])

    approve = requests.post(
        f"{sim.base_url}/_control/templates/status",
        json={"name": "visit_follow_up", "language": "en", "status": "APPROVED"},
        timeout=5,
    )
    assert approve.status_code == 200
    assert [t["status"] for t in client.list_templates(WABA_ID)] == ["APPROVED"]
    assert client.send_template(PATIENT, "visit_follow_up", "en", body_params=["Ravi"]).wamid

    [event] = receiver.wait_for(
        1, lambda body: body["entry"][0]["changes"][0]["field"] == "message_template_status_update"
    )
    assert event.value["event"] == "APPROVED"
    assert event.value["message_template_name"] == "visit_follow_up"


def test_create_template_without_sample_values_is_refused(client):
    with pytest.raises(BadRequest) as caught:
        client.create_template(
            WABA_ID, "no_samples", "en", "UTILITY", [{"type": "BODY", "text": "Hi {{1}}"}]
        )
    assert caught.value.code == 100


def test_list_templates_follows_pages(sim, client):
    for n in range(5):
        sim.add_template(f"template_{n}", body="Hello")
    templates = client.list_templates(WABA_ID, page_size=2)
    assert sorted(t["name"] for t in templates) == [f"template_{n}" for n in range(5)]
    assert len([r for r in sim.requests if r.path.endswith("/message_templates")]) == 3


def test_test_connection_returns_the_number(sim, client):
    number = client.test_connection()
    assert number["id"] == PHONE_NUMBER_ID
    assert number["verified_name"] == "Vaidya Demo Clinic"


def test_another_numbers_id_with_this_token_is_refused(sim):
    client = WhatsAppClient("555555555555555", TOKEN, base_url=sim.base_url)
    with pytest.raises(BadRequest):
        client.test_connection()


def test_graph_version_and_base_url_come_from_settings(sim, settings):
    settings.WHATSAPP_GRAPH_VERSION = "v26.0"
    settings.WHATSAPP_API_BASE_URL = sim.base_url
    client = WhatsAppClient(PHONE_NUMBER_ID, TOKEN)
    client.test_connection()
    assert sim.requests[-1].version == "v26.0"


def test_clients_share_one_pooled_session(sim):
    first = WhatsAppClient(PHONE_NUMBER_ID, TOKEN, base_url=sim.base_url)
    second = WhatsAppClient(PHONE_NUMBER_ID, TOKEN, base_url=sim.base_url)
    assert first.session is second.session is shared_session()
    assert shared_session().get_adapter("https://graph.facebook.com").max_retries.total == 0
