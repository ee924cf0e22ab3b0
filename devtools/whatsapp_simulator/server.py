"""The WhatsApp Cloud API simulator's Python API: start and stop it, see what it received, and
tell it how to behave. `handler.py` documents its HTTP endpoints.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from devtools.whatsapp_simulator.handler import (
    RecordedRequest,
    SimulatorHandler,
    SimulatorServer,
)
from devtools.whatsapp_simulator.records import (
    ENDPOINTS,
    INJECTABLE_KINDS,
    Injection,
    SimNumber,
    Template,
    new_numeric_id,
)
from devtools.whatsapp_simulator.state import SimulatorState
from devtools.whatsapp_simulator.templates import placeholders
from devtools.whatsapp_simulator.webhooks import Delivery, WebhookSender


class Simulator:
    """A local WhatsApp Cloud API for development and tests. See the module docstring."""

    def __init__(
        self,
        numbers: Iterable[SimNumber] | None = None,
        *,
        phone_number_id: str = "100000000000001",
        token: str = "simulator-token",  # noqa: S107 - a fake credential for local use
        waba_id: str = "200000000000001",
        display_phone_number: str = "919800000001",
        verified_name: str = "Vaidya Demo Clinic",
        app_secret: str = "simulator-app-secret",  # noqa: S107 - a fake secret for local use
        webhook_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        versions: Iterable[str] | None = None,
        window_hours: float = 24.0,
        status_delay: float = 0.05,
        auto_approve_templates: bool = False,
        templates: Iterable[dict[str, Any]] = (),
    ):
        if numbers is None:
            numbers = [
                SimNumber(phone_number_id, token, waba_id, display_phone_number, verified_name)
            ]
        self.host, self.port = host, port
        self.app_secret = app_secret
        self.versions = set(versions or ())
        self.webhooks = WebhookSender(
            url=webhook_url, app_secret=app_secret, status_delay=status_delay
        )
        self.state = SimulatorState(
            numbers,
            webhooks=self.webhooks,
            window_hours=window_hours,
            auto_approve_templates=auto_approve_templates,
        )
        self.webhooks.on_status = self.state.record_status
        self.requests: list[RecordedRequest] = []
        self.stopping = threading.Event()
        self._server: SimulatorServer | None = None
        self._thread: threading.Thread | None = None
        for template in templates:
            self.add_template(**template)

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> Simulator:
        self.stopping.clear()
        self._server = SimulatorServer((self.host, self.port), SimulatorHandler, self)
        self.port = self._server.server_address[1]
        self.webhooks.start()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="whatsapp-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            with self._server.sockets_lock:
                for sock in list(self._server.open_sockets):
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.webhooks.stop()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def numbers(self) -> list[SimNumber]:
        return list(self.state.numbers.values())

    # --- what happened --------------------------------------------------------------------------
    def message_requests(self) -> list[Any]:
        """The JSON bodies POSTed to /messages, in order."""
        return [r.json for r in self.requests if r.path.endswith("/messages")]

    def received(self, wa_id: str, phone_number_id: str | None = None) -> list[dict[str, Any]]:
        """What this person's phone shows from the business (accepted sends), oldest first."""
        with self.state.lock:
            return [
                dict(m)
                for (pnid, who), conv in self.state.conversations.items()
                if who == wa_id and phone_number_id in {None, pnid}
                for m in conv.messages
                if m["direction"] == "out"
            ]

    @property
    def deliveries(self) -> list[Delivery]:
        return self.webhooks.deliveries

    def wait_for_deliveries(self, predicate=None, *, count: int = 1, timeout: float = 5.0):
        """Wait until `count` webhook deliveries match `predicate`; return them."""
        deadline = time.monotonic() + timeout
        while True:
            found = [d for d in list(self.webhooks.deliveries) if predicate is None or predicate(d)]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.01)

    # --- control --------------------------------------------------------------------------------
    def inject(
        self,
        code: int | str,
        *,
        count: int | None = 1,
        recipient: str | None = None,
        endpoint: str = "messages",
        delay: float = 5.0,
        via: str = "response",
    ) -> Injection:
        """Answer the next `count` matching requests (None: all, until cleared) with `code`:
        a Graph error code, "5xx", "502" (a bare gateway page) or "timeout" (hang `delay` s)."""
        if not isinstance(code, int) and code not in INJECTABLE_KINDS | {"502"}:
            raise ValueError(f"Unknown fault {code!r}.")
        if endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint must be one of {sorted(ENDPOINTS)}.")
        if via not in {"response", "webhook"}:
            raise ValueError("via must be 'response' or 'webhook'.")
        if count is not None and int(count) < 1:
            raise ValueError("count must be at least 1 (or None: until cleared).")
        rule = Injection(
            code, None if count is None else int(count), recipient, endpoint, delay, via
        )
        with self.state.lock:
            self.state.injections.append(rule)
        return rule

    def clear_errors(self) -> None:
        with self.state.lock:
            self.state.injections.clear()

    def reply(
        self,
        wa_id: str,
        text: str = "",
        *,
        phone_number_id: str | None = None,
        button_payload: str | None = None,
        button_text: str | None = None,
        context_id: str | None = None,
        name: str = "",
        user_id: str | None = None,
    ) -> str:
        """The patient replies (text, or a quick-reply button when `button_payload` is given);
        opens the 24-hour window and sends the inbound webhook. Returns the inbound wamid."""
        if button_payload:
            return self.state.inbound(
                wa_id,
                phone_number_id=phone_number_id,
                kind="button",
                text=button_text or button_payload,
                button_payload=button_payload,
                context_id=context_id,
                name=name,
                user_id=user_id,
            )
        if not text:
            raise ValueError("A reply needs text or a button payload.")
        return self.state.inbound(
            wa_id,
            phone_number_id=phone_number_id,
            text=text,
            context_id=context_id,
            name=name,
            user_id=user_id,
        )

    def choose_from_list(
        self, wa_id: str, row_id: str, *, context_id: str | None = None, name: str = ""
    ) -> str:
        """The patient picks a row of the last list message Vaidya sent them (by its id); the
        webhook carries `interactive.list_reply` with the row's id and title, as Meta's does."""
        with self.state.lock:
            rows = [
                row
                for message in self.received(wa_id)
                for row in (message.get("list") or {}).get("rows", [])
            ]
        row = next((r for r in reversed(rows) if r["id"] == row_id), None)
        if row is None:
            raise ValueError(f"No list row {row_id!r} was sent to {wa_id}.")
        return self.state.inbound(
            wa_id,
            kind="interactive",
            text=row["title"],
            list_reply={"id": row["id"], "title": row["title"]},
            context_id=context_id,
            name=name,
        )

    def send_document_from_patient(
        self,
        wa_id: str,
        data: bytes,
        *,
        mime_type: str = "application/pdf",
        filename: str = "report.pdf",
        caption: str | None = None,
        phone_number_id: str | None = None,
    ) -> tuple[str, str]:
        """The patient sends a file; returns (wamid, media_id). The media downloads like Meta's."""
        owner = phone_number_id or self.state._last_number_for(wa_id)
        media = self.state.add_media(owner, data, mime_type, filename)
        wamid = self.state.inbound(
            wa_id,
            phone_number_id=owner,
            kind="document",
            media=media,
            caption=caption,
        )
        return wamid, media.id

    def open_window(self, wa_id: str, phone_number_id: str | None = None, *, at=None) -> None:
        """Open (or refresh) the 24-hour window without sending a webhook."""
        with self.state.lock:
            pnid = phone_number_id or next(iter(self.state.numbers))
            self.state.conversation(pnid, wa_id).last_inbound_at = at or time.time()

    def close_window(self, wa_id: str, phone_number_id: str | None = None) -> None:
        with self.state.lock:
            for (pnid, who), conv in self.state.conversations.items():
                if who == wa_id and phone_number_id in {None, pnid}:
                    conv.last_inbound_at = None

    def mark_unreachable(self, wa_id: str, unreachable: bool = True) -> None:
        """Sends to this number fail with 131026 (not on WhatsApp) until unmarked."""
        with self.state.lock:
            (self.state.unreachable.add if unreachable else self.state.unreachable.discard)(wa_id)

    def add_template(
        self,
        name: str,
        language: str = "en",
        category: str = "UTILITY",
        components: list[dict[str, Any]] | None = None,
        *,
        body: str | None = None,
        status: str = "APPROVED",
        waba_id: str | None = None,
    ) -> Template:
        """Register a template directly (APPROVED unless told otherwise). `body` is a shortcut
        for a single BODY component."""
        if components is None:
            text = body or "Hello {{1}}"
            count = text.count("{{")
            example = {"body_text": [[f"sample{i}" for i in range(1, count + 1)]]} if count else {}
            components = [
                {"type": "BODY", "text": text} | ({"example": example} if example else {})
            ]
        waba = waba_id or next(iter(self.state.numbers.values())).waba_id
        texts = " ".join(str(c.get("text", "")) for c in components)
        named = any(not p.isdigit() for p in placeholders(texts))
        request = {"name": name, "language": language, "category": category}
        request |= {"components": components} | ({"parameter_format": "NAMED"} if named else {})
        _status, created = self.state.create_template(waba, request, status=status.upper())
        return self.state.templates[created["id"]]

    def delete_template(self, name: str, language: str | None = None) -> int:
        """Remove a template as deleting it in WhatsApp Manager would (it leaves the list)."""
        with self.state.lock:
            doomed = [
                key
                for key, t in self.state.templates.items()
                if t.name == name and (language is None or t.language == language)
            ]
            for key in doomed:
                del self.state.templates[key]
        return len(doomed)

    def set_template_status(self, name: str, language: str | None, status: str) -> list[Template]:
        """Approve (or reject, pause, disable) a template, with its status webhook."""
        return self.state.set_template_status(name, language, status)

    def configure_webhooks(self, **options) -> None:
        """statuses=(...), order="in_order"|"reversed"|"shuffled", duplicate=bool, delay=s,
        seed=int, url=str."""
        self.webhooks.configure(**options)

    def tamper_media(self, media_id: str) -> None:
        """Corrupt a stored file but keep its advertised sha256 (to test download checks)."""
        with self.state.lock:
            media = self.state.media[media_id]
            media.data = bytes([media.data[0] ^ 0xFF]) + media.data[1:]
            assert hashlib.sha256(media.data).hexdigest() != media.sha256

    def reset(self) -> None:
        """Forget conversations, media, templates, faults, requests and deliveries."""
        with self.state.lock:
            self.state.conversations.clear()
            self.state.media.clear()
            self.state.templates.clear()
            self.state.injections.clear()
            self.state.unreachable.clear()
        self.requests.clear()
        self.webhooks.deliveries.clear()


@contextlib.contextmanager
def running_simulator(**options) -> Iterator[Simulator]:
    """A simulator on 127.0.0.1 and a free port for the duration of the block."""
    options.setdefault("host", "127.0.0.1")
    options.setdefault("port", 0)
    simulator = Simulator(**options)
    simulator.start()
    try:
        yield simulator
    finally:
        simulator.stop()


__all__ = ["RecordedRequest", "SimNumber", "Simulator", "new_numeric_id", "running_simulator"]
