"""The Razorpay simulator speaks Razorpay's shapes to the official SDK, signs what it sends,
and its pages and control calls work over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
import razorpay
import requests

from devtools.razorpay_simulator import running_simulator

KEY, SECRET, WEBHOOK_SECRET = "rzp_test_sim000001", "sim-key-secret", "sim-webhook-secret"


class Receiver:
    """A tiny webhook receiver that keeps what it got."""

    def __init__(self) -> None:
        self.got: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.got.append((dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def sim(receiver):
    with running_simulator() as simulator:
        simulator.add_account(KEY, SECRET, webhook_secret=WEBHOOK_SECRET, webhook_url=receiver.url)
        yield simulator


def sdk(sim, secret=SECRET) -> razorpay.Client:
    return razorpay.Client(auth=(KEY, secret), base_url=sim.base_url)


def new_link(sim) -> dict:
    return sdk(sim).payment_link.create(
        {
            "amount": 29_900,
            "currency": "INR",
            "reference_id": "BL/1",
            "description": "Consultation",
            "callback_url": "http://clinic.example/done/",
            "callback_method": "get",
        }
    )


def test_the_sdk_creates_fetches_and_cancels_a_link(sim):
    link = new_link(sim)
    assert link["id"].startswith("plink_") and link["status"] == "created"
    assert link["short_url"] == f"{sim.base_url}/pay/{link['id']}"
    assert sdk(sim).payment_link.fetch(link["id"])["amount"] == 29_900
    assert sdk(sim).payment_link.cancel(link["id"])["status"] == "cancelled"
    with pytest.raises(razorpay.errors.BadRequestError, match="cannot be cancelled"):
        sdk(sim).payment_link.cancel(link["id"])


def test_wrong_keys_and_bad_input_get_razorpays_error_shape(sim):
    with pytest.raises(razorpay.errors.BadRequestError, match="Authentication failed"):
        sdk(sim, "wrong").payment_link.all({"count": 1})
    with pytest.raises(razorpay.errors.BadRequestError, match=r"at least INR 1\.00"):
        sdk(sim).payment_link.create({"amount": 50, "currency": "INR"})
    sim.fail_next_api_calls(500)
    with pytest.raises(razorpay.errors.ServerError):
        sdk(sim).payment_link.all({"count": 1})


def test_the_pay_page_pays_signs_the_callback_and_sends_signed_webhooks(sim, receiver):
    link = new_link(sim)
    page = requests.get(link["short_url"], timeout=5)
    assert "Pay Rs 299.00" in page.text
    answer = requests.post(link["short_url"], allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert location.startswith("http://clinic.example/done/?")
    query = dict(parse_qsl(urlsplit(location).query))
    message = f"{link['id']}|BL/1|paid|{query['razorpay_payment_id']}"
    expected = hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    assert query["razorpay_signature"] == expected
    events = []
    for headers, body in receiver.got:
        signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Razorpay-Signature"] == signature
        assert headers["X-Razorpay-Event-Id"].startswith("evt_")
        events.append(json.loads(body)["event"])
    assert events == ["payment.captured", "payment_link.paid"]


def test_control_calls_duplicate_hold_and_reorder_webhooks(sim, receiver):
    link = new_link(sim)
    control = f"{sim.base_url}/_control"
    assert requests.post(f"{control}/webhooks", data="{}", timeout=5).status_code == 415
    requests.post(f"{control}/webhooks", json={"hold": True, "duplicate": True}, timeout=5)
    requests.post(f"{control}/links/{link['id']}/pay", json={"amount": 10_000}, timeout=5)
    requests.post(f"{control}/links/{link['id']}/pay", json={}, timeout=5)
    assert receiver.got == []
    released = requests.post(f"{control}/webhooks/release", json={"reverse": True}, timeout=10)
    assert released.json() == {"sent": 8}
    names = [json.loads(body)["event"] for _, body in receiver.got]
    assert names[:2] == ["payment_link.paid", "payment_link.paid"]  # the newest first, twice
    ids = [headers["X-Razorpay-Event-Id"] for headers, _ in receiver.got]
    assert ids[0] == ids[1] and len(set(ids)) == 4
    state = requests.get(f"{control}/state", timeout=5).json()
    assert state["links"][0]["status"] == "paid" and state["links"][0]["amount_paid"] == 29_900
