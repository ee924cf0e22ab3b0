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

from devtools.whatsapp_simulator import Simulator, running_simulator
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


# --- clinic-side fixtures: a connected account, patients who agreed, approved templates ---------
VERIFY_TOKEN = "verify-me-7c1d"


@pytest.fixture
def wa_account(scoped, sim, settings):
    """The clinic's WhatsApp account, pointed at the simulator over real HTTP."""
    from messaging.models import WhatsAppAccount

    settings.WHATSAPP_API_BASE_URL = sim.base_url
    settings.WHATSAPP_TIMEOUT_SECONDS = 3
    return WhatsAppAccount.objects.create(
        clinic=scoped,
        phone_number_id=PHONE_NUMBER_ID,
        business_account_id=WABA_ID,
        display_number="+91 80 4000 1234",
        access_token=TOKEN,
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
    )


def make_patient(clinic, *, consent=True, marketing=False, phone=PATIENT_E164, **kwargs):
    """A patient of `clinic` (inside its scope), with WhatsApp care opt-in unless consent=False."""
    from clinics.roles import Role
    from compliance.models import ConsentMethod, ConsentPurpose
    from compliance.services import consent_grant
    from tests.factories import MembershipFactory, PatientFactory

    patient = PatientFactory(clinic=clinic, phone=phone, **kwargs)
    staff = MembershipFactory(clinic=clinic, role=Role.FRONT_DESK).user
    if consent:
        consent_grant(
            patient=patient,
            purpose=ConsentPurpose.WHATSAPP_CARE,
            method=ConsentMethod.VERBAL,
            actor=staff,
        )
    if marketing:
        consent_grant(
            patient=patient,
            purpose=ConsentPurpose.WHATSAPP_MARKETING,
            method=ConsentMethod.FORM,
            actor=staff,
        )
    return patient


@pytest.fixture
def patient(scoped):
    """An adult patient on the simulator's test number who agreed to care messages."""
    return make_patient(scoped)


AUTH_COMPONENTS = [
    {"type": "BODY", "add_security_recommendation": True},
    {"type": "FOOTER", "code_expiration_minutes": 10},
    {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]},
]


def make_template(
    clinic,
    *,
    sim=None,
    name="appointment_reminder",
    language="en",
    purpose="appointment_reminder",
    body="Hello {{1}}, this is a reminder of your appointment on {{2}}.",
    category="UTILITY",
    buttons=(),
):
    """An approved template in Vaidya (and, when `sim` is given, on the simulator too)."""
    from messaging.models import MessageTemplate, TemplateStatus
    from messaging.services.sending import PLACEHOLDER

    count = len(set(PLACEHOLDER.findall(body)))
    template = MessageTemplate.objects.create(
        clinic=clinic,
        name=name,
        language=language,
        category=category,
        purpose=purpose,
        body=body,
        buttons=[{"text": b, "payload": b.lower()} for b in buttons],
        parameter_count=count,
        status=TemplateStatus.APPROVED,
    )
    if sim is not None and category == "AUTHENTICATION":
        # Meta's authentication format: Meta writes the body and footer around the code.
        sim.add_template(
            name=name, language=language, category=category, components=AUTH_COMPONENTS
        )
    elif sim is not None:
        components = [{"type": "BODY", "text": body}]
        if count:
            components[0]["example"] = {"body_text": [[f"sample{i}" for i in range(count)]]}
        if buttons:
            components.append(
                {
                    "type": "BUTTONS",
                    "buttons": [{"type": "QUICK_REPLY", "text": b} for b in buttons],
                }
            )
        sim.add_template(name=name, language=language, category=category, components=components)
    return template
