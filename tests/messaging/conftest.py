"""Fixtures for the WhatsApp client tests: a running simulator and a webhook receiver, both on
127.0.0.1 and free ports, over real HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from messaging.simulator import Simulator, running_simulator
from messaging.whatsapp import WhatsAppClient

PHONE_NUMBER_ID = "109876543210001"
TOKEN = "EAAGtestTokenForTheSimulator0123456789"
WABA_ID = "209876543210001"
APP_SECRET = "test-app-secret-9f2c"
PATIENT = "919876543210"
PATIENT_E164 = "+91 98765 43210"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def value(self) -> dict:
        return self.json["entry"][0]["changes"][0]["value"]


class WebhookReceiver:
    """A tiny HTTP endpoint that keeps every POST's raw body and headers."""

    def __init__(self):
        self.received: list[Received] = []
        self.fail_next = 0  # answer this many POSTs with 500 first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = 200
                if receiver.fail_next > 0:
                    receiver.fail_next -= 1
                    status = 500
                else:
                    receiver.received.append(Received(dict(self.headers.items()), body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/whatsapp/webhook"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def wait_for(self, count: int, predicate=None, timeout: float = 5.0) -> list[Received]:
        """Wait until `count` received webhooks match `predicate` (a function of the parsed
        JSON body); return the matching ones."""
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in list(self.received) if predicate is None or predicate(r.json)]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.01)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def sim(receiver) -> Iterator[Simulator]:
    with running_simulator(
        phone_number_id=PHONE_NUMBER_ID,
        token=TOKEN,
        waba_id=WABA_ID,
        app_secret=APP_SECRET,
        webhook_url=receiver.url,
        status_delay=0.01,
    ) as simulator:
        yield simulator


@pytest.fixture
def client(sim) -> WhatsAppClient:
    return WhatsAppClient(PHONE_NUMBER_ID, TOKEN, base_url=sim.base_url, timeout=3)
