"""The WhatsApp Cloud API simulator: a threaded stdlib HTTP server and its Python API.

Graph endpoints (Bearer token checked against the configured numbers; 190 otherwise):
    POST /{version}/{phone_number_id}/messages        send text, template or document
    POST /{version}/{phone_number_id}/media           upload (multipart: file, type,
                                                      messaging_product)
    GET  /{version}/{media_id}                        {url, mime_type, sha256, file_size, id}
    GET  /_media/{media_id}?hash=...                  the download url (same Bearer token)
    GET  /{version}/{waba_id}/message_templates       list (limit, after cursor, name, status)
    POST /{version}/{waba_id}/message_templates       create (starts PENDING)
    GET  /{version}/{phone_number_id}                 the number (test connection)
Control API (JSON bodies with Content-Type application/json, so other sites cannot post to it):
    GET  /_control/state                              conversations, templates, faults, settings
    POST /_control/reply        {wa_id, text | button_payload+button_text, context_id?, name?,
                                 phone_number_id?, user_id?}
    POST /_control/errors       {code: 131047 | "5xx" | "502" | "timeout", count?, recipient?,
                                 endpoint?, delay?, via?: "response" | "webhook"}
    DELETE /_control/errors
    POST /_control/templates/status {name, language?, status}
    POST /_control/window       {wa_id, phone_number_id?, open: true | false}
    POST /_control/unreachable  {wa_id, unreachable: true | false}
    POST /_control/webhooks     {statuses?, order?: in_order | reversed | shuffled, duplicate?,
                                 delay?, seed?, url?}
    POST /_control/reset
    GET  /_control/media/{id}   a file's bytes, for the phone page
The patient's phone: GET / (static page that polls /_control/state).
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import hashlib
import json
import re
import socket
import threading
import time
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from devtools.whatsapp_simulator.state import (
    ENDPOINTS,
    INJECTABLE_KINDS,
    Injection,
    SimNumber,
    SimulatedError,
    SimulatorState,
    Template,
    new_numeric_id,
    placeholders,
)
from devtools.whatsapp_simulator.webhooks import Delivery, WebhookSender

_VERSION = re.compile(r"v\d+\.\d+")
MAX_BODY_BYTES = 120 * 1024 * 1024
STATIC_FILES = {
    "/": ("phone.html", "text/html; charset=utf-8"),
    "/phone": ("phone.html", "text/html; charset=utf-8"),
    "/static/phone.js": ("phone.js", "text/javascript; charset=utf-8"),
    "/static/phone.css": ("phone.css", "text/css; charset=utf-8"),
}


@dataclass
class RecordedRequest:
    """One Graph API call as the simulator received it (never the token)."""

    method: str
    path: str
    version: str
    query: dict[str, str]
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    status: int = 0
    response: Any = None


class _Reply(Exception):
    """Answer the current request with this status, body and content type."""

    def __init__(self, status: int, body: Any, content_type: str = "application/json"):
        self.status, self.body, self.content_type = status, body, content_type


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address, handler, simulator: Simulator):
        self.simulator = simulator
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request_thread(self, request, client_address):
        with self.sockets_lock:
            self.open_sockets.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.sockets_lock:
                self.open_sockets.discard(request)

    def handle_error(self, request, client_address):
        pass  # a client that hung up (e.g. after its own timeout) is expected here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "VaidyaWhatsAppSimulator/1"
    timeout = 60  # idle keep-alive connections
    # The response's headers and body are separate writes: with Nagle's algorithm on, the
    # body waits for the client's delayed ACK (about 40 ms a message on Linux).
    disable_nagle_algorithm = True

    def log_message(self, format, *args):
        pass

    @property
    def sim(self) -> Simulator:
        return self.server.simulator  # type: ignore[attr-defined]

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    # --- plumbing -------------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        record: RecordedRequest | None = None
        try:
            body = self._read_body()
            if url.path == "/favicon.ico":
                raise _Reply(204, b"", "image/x-icon")
            if url.path in STATIC_FILES and method == "GET":
                self._static(url.path)
                return
            if url.path.startswith("/_control/"):
                raise self._control(method, url.path, body)
            if url.path.startswith("/_media/"):
                raise self._download(url.path.removeprefix("/_media/"))
            segments = [s for s in url.path.split("/") if s]
            if len(segments) < 2 or not _VERSION.fullmatch(segments[0]):
                raise _Reply(404, {"error": {"message": "Unknown path", "code": 100}})
            record = RecordedRequest(method, url.path, segments[0], query)
            self.sim.requests.append(record)
            raise self._graph(method, segments[0], segments[1:], query, body, record)
        except SimulatedError as exc:
            status, payload = exc.response()
            reply = _Reply(status, payload)
        except _Reply as exc:
            reply = exc
        except _Hangup:
            self.close_connection = True
            return
        except Exception:  # a simulator bug: say so loudly rather than drop the connection
            traceback.print_exc()
            reply = _Reply(500, {"error": {"message": "Simulator error", "code": 1}})
        if record is not None:
            record.status, record.response = reply.status, reply.body
        self._send(reply)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise _Reply(413, {"error": {"message": "Request too large", "code": 100}})
        return self.rfile.read(length) if length else b""

    def _send(self, reply: _Reply) -> None:
        if isinstance(reply.body, bytes):
            data = reply.body
        elif isinstance(reply.body, str):
            data = reply.body.encode("utf-8")
        else:
            data = json.dumps(reply.body).encode("utf-8")
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def _static(self, path: str) -> None:
        name, content_type = STATIC_FILES[path]
        data = resources.files("devtools.whatsapp_simulator").joinpath("static", name).read_bytes()
        try:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def _bearer(self) -> str | None:
        header = self.headers.get("Authorization") or ""
        return header[7:].strip() if header.startswith("Bearer ") else None

    def _json(self, body: bytes) -> Any:
        if not (self.headers.get("Content-Type") or "").startswith("application/json"):
            raise SimulatedError(100, "Send JSON with Content-Type: application/json.")
        try:
            return json.loads(body or b"null")
        except ValueError:
            raise SimulatedError(100, "The body is not valid JSON.") from None

    # --- Graph API ------------------------------------------------------------------------------
    def _graph(self, method, version, rest, query, body, record) -> _Reply:
        sim = self.sim
        if sim.versions and version not in sim.versions:
            raise SimulatedError(2635, f"Graph API {version} is not served here.", http=400)
        allowed = sim.state.number_for_token(self._bearer())
        if not allowed:
            raise SimulatedError(190)
        target = rest[0]
        number = next((n for n in allowed if n.phone_number_id == target), None)
        if len(rest) == 2 and rest[1] == "messages" and method == "POST":
            self._own(number, target)
            payload = self._json(body)
            record.json = payload
            recipient = payload.get("to") if isinstance(payload, dict) else None
            fault = self._fault("messages", recipient)
            return _Reply(*sim.state.send(number, payload, webhook_fault=fault))
        if len(rest) == 2 and rest[1] == "media" and method == "POST":
            self._own(number, target)
            fields, file = self._multipart(body)
            record.form = fields
            if file:
                record.files = [{"filename": file[0], "mime_type": file[1], "size": len(file[2])}]
            self._fault("media")
            return _Reply(*sim.state.upload(number, fields, file))
        if len(rest) == 2 and rest[1] == "message_templates" and method in {"GET", "POST"}:
            if target not in {n.waba_id for n in allowed}:
                raise SimulatedError(100, "Unknown WhatsApp Business Account.", subcode=33)
            self._fault("templates")
            if method == "GET":
                base = f"{sim.base_url}/{version}/{target}"
                return _Reply(*sim.state.list_templates(target, query, base))
            payload = self._json(body)
            record.json = payload
            return _Reply(*sim.state.create_template(target, payload))
        if len(rest) == 1 and method == "GET":
            if number is not None:
                self._fault("phone")
                return _Reply(200, self._phone_object(number, query.get("fields")))
            media = sim.state.media.get(target)
            if media is not None and media.owner in {n.phone_number_id for n in allowed}:
                self._fault("media_info")
                return _Reply(
                    200,
                    {
                        "messaging_product": "whatsapp",
                        "url": f"{sim.base_url}/_media/{media.id}?hash={media.sha256[:16]}",
                        "mime_type": media.mime_type,
                        "sha256": media.sha256,
                        "file_size": len(media.data),
                        "id": media.id,
                    },
                )
        raise SimulatedError(100, "Object does not exist or lacks permission.", subcode=33)

    @staticmethod
    def _own(number: SimNumber | None, target: str) -> None:
        if number is None:
            raise SimulatedError(
                100, f"Object with ID '{target}' does not exist or lacks permission.", subcode=33
            )

    def _fault(self, endpoint: str, recipient: str | None = None) -> Injection | None:
        """Apply an injected fault: raise its error, hang, or hand back a webhook-only fault."""
        rule = self.sim.state.take_injection(endpoint, recipient)
        if rule is None:
            return None
        if rule.code == "timeout":
            if self.sim.stopping.wait(rule.delay):
                raise _Hangup
            return None
        if rule.code == "502":
            raise _Reply(502, "<html><body>502 Bad Gateway</body></html>", "text/html")
        if rule.code == "5xx":
            raise SimulatedError(1, http=500)
        if rule.via == "webhook" and endpoint == "messages":
            return rule
        raise SimulatedError(int(rule.code))

    def _phone_object(self, number: SimNumber, fields: str | None) -> dict[str, Any]:
        full = {
            "id": number.phone_number_id,
            "display_phone_number": number.display_phone_number,
            "verified_name": number.verified_name,
            "quality_rating": "GREEN",
            "code_verification_status": "VERIFIED",
            "platform_type": "CLOUD_API",
            "throughput": {"level": "STANDARD"},
        }
        if not fields:
            return full
        wanted = {f.strip() for f in fields.split(",")} | {"id"}
        return {k: v for k, v in full.items() if k in wanted}

    def _multipart(self, body: bytes) -> tuple[dict[str, str], tuple[str, str, bytes] | None]:
        content_type = self.headers.get("Content-Type") or ""
        if not content_type.startswith("multipart/form-data"):
            raise SimulatedError(100, "Upload media as multipart/form-data.")
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        fields: dict[str, str] = {}
        file = None
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            data = part.get_payload(decode=True) or b""
            if name == "file":
                filename = part.get_filename() or ""
                file = (filename, part.get_content_type(), data)
            elif name:
                fields[name] = data.decode("utf-8", "replace")
        return fields, file

    def _download(self, media_id: str) -> _Reply:
        media = self.sim.state.media.get(media_id)
        allowed = self.sim.state.number_for_token(self._bearer())
        if not allowed:
            raise SimulatedError(190)
        if media is None or media.owner not in {n.phone_number_id for n in allowed}:
            raise _Reply(404, {"error": {"message": "Not found", "code": 100}})
        self._fault("download")
        return _Reply(200, media.data, media.mime_type)

    # --- control API ----------------------------------------------------------------------------
    def _control(self, method: str, path: str, body: bytes) -> _Reply:
        sim = self.sim
        action = path.removeprefix("/_control/")
        if method == "GET" and action == "state":
            return _Reply(200, sim.state.snapshot() | {"webhooks": sim.webhooks.settings()})
        if method == "GET" and action.startswith("media/"):
            media = sim.state.media.get(action.removeprefix("media/"))
            if media is None:
                return _Reply(404, {"detail": "No such media."})
            return _Reply(200, media.data, media.mime_type)
        if method == "DELETE" and action == "errors":
            sim.clear_errors()
            return _Reply(200, {"ok": True})
        if method != "POST":
            return _Reply(405, {"detail": "Method not allowed."})
        data = self._json(body) or {}
        if not isinstance(data, dict):
            return _Reply(400, {"detail": "Send a JSON object."})
        try:
            if action == "reply":
                wamid = sim.reply(
                    str(data.get("wa_id", "")),
                    data.get("text") or "",
                    phone_number_id=data.get("phone_number_id") or None,
                    button_payload=data.get("button_payload") or None,
                    button_text=data.get("button_text") or None,
                    context_id=data.get("context_id") or None,
                    name=data.get("name") or "",
                    user_id=data.get("user_id") or None,
                )
                return _Reply(200, {"id": wamid})
            if action == "errors":
                code = data.get("code")
                sim.inject(
                    int(code) if str(code).isdigit() and str(code) != "502" else str(code),
                    count=data.get("count", 1),
                    recipient=data.get("recipient") or None,
                    endpoint=data.get("endpoint") or "messages",
                    delay=float(data.get("delay", 5.0)),
                    via=data.get("via") or "response",
                )
                return _Reply(200, {"injections": [i.as_dict() for i in sim.state.injections]})
            if action == "templates/status":
                changed = sim.set_template_status(
                    str(data.get("name", "")), data.get("language") or None, str(data["status"])
                )
                return _Reply(200 if changed else 404, {"changed": len(changed)})
            if action == "window":
                if data.get("open", True):
                    sim.open_window(str(data["wa_id"]), data.get("phone_number_id"))
                else:
                    sim.close_window(str(data["wa_id"]), data.get("phone_number_id"))
                return _Reply(200, {"ok": True})
            if action == "unreachable":
                sim.mark_unreachable(str(data["wa_id"]), bool(data.get("unreachable", True)))
                return _Reply(200, {"ok": True})
            if action == "webhooks":
                sim.configure_webhooks(
                    **{
                        k: data[k]
                        for k in ("statuses", "order", "duplicate", "delay", "seed", "url")
                        if k in data
                    }
                )
                return _Reply(200, sim.webhooks.settings())
            if action == "reset":
                sim.reset()
                return _Reply(200, {"ok": True})
        except (KeyError, TypeError, ValueError) as exc:
            return _Reply(400, {"detail": str(exc) or "Invalid request."})
        return _Reply(404, {"detail": "Unknown control action."})


class _Hangup(Exception):
    """Close the connection without answering (the simulator is stopping mid-timeout)."""


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
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        for template in templates:
            self.add_template(**template)

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> Simulator:
        self.stopping.clear()
        self._server = _Server((self.host, self.port), _Handler, self)
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
