"""The simulator's HTTP side: a threaded stdlib server that parses requests and answers them.

Graph endpoints (Bearer token checked against the configured numbers; 190 otherwise):
    POST /{version}/{phone_number_id}/messages        send text, template, document or an
                                                      interactive list
    POST /{version}/{phone_number_id}/media           upload (multipart: file, type,
                                                      messaging_product)
    GET  /{version}/{media_id}                        {url, mime_type, sha256, file_size, id}
    GET  /_media/{media_id}?hash=...                  the download url (same Bearer token)
    GET  /{version}/{waba_id}/message_templates       list (limit, after cursor, name, status)
    POST /{version}/{waba_id}/message_templates       create (starts PENDING)
    GET  /{version}/{phone_number_id}                 the number (test connection)
Control API (JSON bodies with Content-Type application/json, so other sites cannot post to it):
    GET  /_control/state                              conversations, templates, faults, settings
    POST /_control/reply        {wa_id, text | button_payload+button_text | list_reply_id,
                                 context_id?, name?, phone_number_id?, user_id?}
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

import email.parser
import email.policy
import json
import re
import socket
import threading
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from devtools.whatsapp_simulator.control import control
from devtools.whatsapp_simulator.errors import SimulatedError
from devtools.whatsapp_simulator.records import Injection, SimNumber
from devtools.whatsapp_simulator.reply import Hangup, Reply

if TYPE_CHECKING:
    from devtools.whatsapp_simulator.server import Simulator

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


class SimulatorServer(ThreadingHTTPServer):
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


class SimulatorHandler(BaseHTTPRequestHandler):
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
                raise Reply(204, b"", "image/x-icon")
            if url.path in STATIC_FILES and method == "GET":
                self._static(url.path)
                return
            if url.path.startswith("/_control/"):
                action = url.path.removeprefix("/_control/")
                raise control(self.sim, method, action, lambda: self._json(body))
            if url.path.startswith("/_media/"):
                raise self._download(url.path.removeprefix("/_media/"))
            segments = [s for s in url.path.split("/") if s]
            if len(segments) < 2 or not _VERSION.fullmatch(segments[0]):
                raise Reply(404, {"error": {"message": "Unknown path", "code": 100}})
            record = RecordedRequest(method, url.path, segments[0], query)
            self.sim.requests.append(record)
            raise self._graph(method, segments[0], segments[1:], query, body, record)
        except SimulatedError as exc:
            status, payload = exc.response()
            reply = Reply(status, payload)
        except Reply as exc:
            reply = exc
        except Hangup:
            self.close_connection = True
            return
        except Exception:  # a simulator bug: say so loudly rather than drop the connection
            traceback.print_exc()
            reply = Reply(500, {"error": {"message": "Simulator error", "code": 1}})
        if record is not None:
            record.status, record.response = reply.status, reply.body
        self._send(reply)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise Reply(413, {"error": {"message": "Request too large", "code": 100}})
        return self.rfile.read(length) if length else b""

    def _send(self, reply: Reply) -> None:
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
        data = resources.files(__package__).joinpath("static", name).read_bytes()
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
    def _graph(self, method, version, rest, query, body, record) -> Reply:
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
            return Reply(*sim.state.send(number, payload, webhook_fault=fault))
        if len(rest) == 2 and rest[1] == "media" and method == "POST":
            self._own(number, target)
            fields, file = self._multipart(body)
            record.form = fields
            if file:
                record.files = [{"filename": file[0], "mime_type": file[1], "size": len(file[2])}]
            self._fault("media")
            return Reply(*sim.state.upload(number, fields, file))
        if len(rest) == 2 and rest[1] == "message_templates" and method in {"GET", "POST"}:
            if target not in {n.waba_id for n in allowed}:
                raise SimulatedError(100, "Unknown WhatsApp Business Account.", subcode=33)
            self._fault("templates")
            if method == "GET":
                base = f"{sim.base_url}/{version}/{target}"
                return Reply(*sim.state.list_templates(target, query, base))
            payload = self._json(body)
            record.json = payload
            return Reply(*sim.state.create_template(target, payload))
        if len(rest) == 1 and method == "GET":
            if number is not None:
                self._fault("phone")
                return Reply(200, self._phone_object(number, query.get("fields")))
            media = sim.state.media.get(target)
            if media is not None and media.owner in {n.phone_number_id for n in allowed}:
                self._fault("media_info")
                return Reply(
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
                raise Hangup
            return None
        if rule.code == "502":
            raise Reply(502, "<html><body>502 Bad Gateway</body></html>", "text/html")
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

    def _download(self, media_id: str) -> Reply:
        media = self.sim.state.media.get(media_id)
        allowed = self.sim.state.number_for_token(self._bearer())
        if not allowed:
            raise SimulatedError(190)
        if media is None or media.owner not in {n.phone_number_id for n in allowed}:
            raise Reply(404, {"error": {"message": "Not found", "code": 100}})
        self._fault("download")
        return Reply(200, media.data, media.mime_type)
