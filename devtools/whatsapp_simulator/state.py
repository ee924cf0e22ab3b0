"""The simulator's world: business numbers, templates, media, conversations and injected faults.

Everything here is plain Python guarded by one lock; the HTTP layer (server.py) parses requests
and calls `SimulatorState` methods, which answer `(http_status, json_payload)` exactly as the
Cloud API would and queue webhooks through the `WebhookSender`.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from devtools.whatsapp_simulator.webhooks import WebhookSender

MAX_TEXT_CHARS = 4096
MAX_CAPTION_CHARS = 1024
MAX_CALLBACK_BYTES = 512
TEMPLATE_STATUSES = {"APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"}
TEMPLATE_CATEGORIES = {"MARKETING", "UTILITY", "AUTHENTICATION"}
SUPPORTED_MEDIA_TYPES = {
    "application/pdf",
    "text/plain",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "image/jpeg",
    "image/png",
    "image/webp",
    "audio/aac",
    "audio/amr",
    "audio/mpeg",
    "audio/mp4",
    "audio/ogg",
    "video/mp4",
    "video/3gpp",
}
_PLACEHOLDER = re.compile(r"{{\s*([A-Za-z0-9_]+)\s*}}")
_TEMPLATE_NAME = re.compile(r"[a-z0-9_]{1,512}")

# code -> (HTTP status, title, details) as the Cloud API answers them.
ERROR_CATALOGUE: dict[int, tuple[int, str, str]] = {
    1: (500, "An unknown error occurred", ""),
    2: (503, "Service temporarily unavailable", ""),
    100: (400, "Invalid parameter", ""),
    190: (401, "Invalid OAuth access token - Cannot parse access token", ""),
    130429: (400, "Rate limit hit", "Cloud API message throughput has been reached."),
    131000: (500, "Something went wrong", "Message failed to send because of an unknown error."),
    131026: (400, "Message undeliverable", "Message Undeliverable."),
    131047: (
        400,
        "Re-engagement message",
        "More than 24 hours have passed since the recipient last replied to the sender number.",
    ),
    131048: (400, "Spam rate limit hit", "Message failed to send because of restrictions."),
    131049: (400, "Meta chose not to deliver.", "This message was not delivered to maintain "),
    131050: (400, "Unable to deliver the message", "The user stopped marketing messages."),
    131052: (400, "Media download error", "Unable to download the media sent by the user."),
    131053: (400, "Media upload error", "Unable to upload the media used in the message."),
    131056: (
        400,
        "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone "
        "number to the same phone number in a short period of time.",
    ),
    132000: (
        400,
        "Number of parameters does not match the expected number of params",
        "The number of parameters provided does not match the template.",
    ),
    132001: (
        404,
        "Template name does not exist in the translation",
        "The template does not exist in this language or is not approved.",
    ),
    132015: (400, "Template is Paused", "The template is paused for low quality."),
    132016: (400, "Template is Disabled", "The template has been disabled."),
}
INJECTABLE_KINDS = {"5xx", "timeout"}
ENDPOINTS = {"messages", "media", "media_info", "download", "templates", "phone", "any"}


class SimulatedError(Exception):
    """Raised inside the simulator to answer with a Graph error body."""

    def __init__(self, code: int, details: str = "", *, http: int | None = None, subcode=None):
        status, title, default_details = ERROR_CATALOGUE.get(code, (400, f"Error {code}", ""))
        self.code = code
        self.http = http or status
        self.title = title
        self.details = details or default_details
        self.subcode = subcode
        super().__init__(title)

    def response(self) -> tuple[int, dict[str, Any]]:
        error: dict[str, Any] = {
            "message": f"(#{self.code}) {self.title}",
            "type": "OAuthException",
            "code": self.code,
            "fbtrace_id": "A" + secrets.token_urlsafe(16),
        }
        if self.details:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        return self.http, {"error": error}

    def webhook_error(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "message": self.title,
            "error_data": {"details": self.details},
        }


@dataclass(frozen=True)
class SimNumber:
    """A business phone number the simulator serves, with the token that may use it."""

    phone_number_id: str
    token: str
    waba_id: str = "200000000000001"
    display_phone_number: str = "919800000001"
    verified_name: str = "Vaidya Demo Clinic"


@dataclass
class Template:
    id: str
    waba_id: str
    name: str
    language: str
    category: str
    components: list[dict[str, Any]]
    status: str = "PENDING"

    def as_graph(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "id": self.id,
            "components": self.components,
        }

    def component(self, type_: str) -> dict[str, Any] | None:
        return next((c for c in self.components if str(c.get("type")).upper() == type_), None)


@dataclass
class Media:
    id: str
    owner: str  # phone_number_id
    data: bytes
    mime_type: str
    filename: str
    sha256: str


@dataclass
class Injection:
    """A fault to answer with: `code` (a Graph code), "5xx" or "timeout"."""

    code: int | str
    count: int | None = 1  # None: until cleared
    recipient: str | None = None
    endpoint: str = "messages"
    delay: float = 5.0  # seconds, for "timeout"
    via: str = "response"  # or "webhook": accept, then a `failed` status webhook

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "count": self.count,
            "recipient": self.recipient,
            "endpoint": self.endpoint,
            "delay": self.delay,
            "via": self.via,
        }


@dataclass
class Conversation:
    """What one business number and one WhatsApp user exchanged, as the user's phone shows it."""

    phone_number_id: str
    wa_id: str
    name: str = ""
    last_inbound_at: float | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)


def new_wamid() -> str:
    return "wamid." + base64.b64encode(b"\x15\x02\x00\x11" + secrets.token_bytes(20)).decode()


def new_numeric_id() -> str:
    return str(10**15 + secrets.randbelow(9 * 10**15))


def placeholders(text: str) -> list[str]:
    seen: list[str] = []
    for name in _PLACEHOLDER.findall(text or ""):
        if name not in seen:
            seen.append(name)
    return seen


def parameter_text(param: dict[str, Any]) -> str:
    type_ = param.get("type")
    if type_ == "text":
        return str(param.get("text", ""))
    if type_ in {"currency", "date_time"}:
        return str((param.get(type_) or {}).get("fallback_value", ""))
    return f"[{type_}]"


def render(text: str, params: list[dict[str, Any]]) -> str:
    """A template text with its {{1}} / {{name}} placeholders filled in."""
    by_name = {p["parameter_name"]: parameter_text(p) for p in params if p.get("parameter_name")}
    positional = [parameter_text(p) for p in params if not p.get("parameter_name")]

    def fill(match: re.Match) -> str:
        key = match.group(1)
        if key.isdigit() and 0 < int(key) <= len(positional):
            return positional[int(key) - 1]
        return by_name.get(key, match.group(0))

    return _PLACEHOLDER.sub(fill, text or "")


class SimulatorState:
    """All mutable simulator state and the Cloud API's rules, behind one lock."""

    def __init__(
        self,
        numbers: Iterable[SimNumber],
        *,
        webhooks: WebhookSender,
        window_hours: float = 24.0,
        auto_approve_templates: bool = False,
    ):
        self.lock = threading.RLock()
        self.numbers = {n.phone_number_id: n for n in numbers}
        if not self.numbers:
            raise ValueError("The simulator needs at least one business number.")
        self.webhooks = webhooks
        self.window_seconds = window_hours * 3600
        self.auto_approve_templates = auto_approve_templates
        self.templates: dict[str, Template] = {}
        self.media: dict[str, Media] = {}
        self.conversations: dict[tuple[str, str], Conversation] = {}
        self.injections: list[Injection] = []
        self.unreachable: set[str] = set()

    # --- lookups --------------------------------------------------------------------------------
    def number_for_token(self, token: str | None) -> list[SimNumber]:
        if not token:
            return []
        return [
            n
            for n in self.numbers.values()
            if secrets.compare_digest(n.token.encode(), token.encode())
        ]

    def conversation(self, phone_number_id: str, wa_id: str) -> Conversation:
        key = (phone_number_id, wa_id)
        if key not in self.conversations:
            self.conversations[key] = Conversation(phone_number_id, wa_id)
        return self.conversations[key]

    def window_open(self, phone_number_id: str, wa_id: str) -> bool:
        conv = self.conversations.get((phone_number_id, wa_id))
        return bool(
            conv
            and conv.last_inbound_at
            and time.time() - conv.last_inbound_at < self.window_seconds
        )

    def find_template(self, waba_id: str, name: str, language: str) -> Template | None:
        return next(
            (
                t
                for t in self.templates.values()
                if t.waba_id == waba_id and t.name == name and t.language == language
            ),
            None,
        )

    # --- fault injection ------------------------------------------------------------------------
    def take_injection(self, endpoint: str, recipient: str | None = None) -> Injection | None:
        """The first matching fault (using up one of its count), or None."""
        with self.lock:
            for rule in list(self.injections):
                if rule.endpoint not in {endpoint, "any"}:
                    continue
                if rule.recipient and rule.recipient != recipient:
                    continue
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self.injections.remove(rule)
                return rule
        return None

    # --- sending --------------------------------------------------------------------------------
    def send(self, number: SimNumber, body: Any, *, webhook_fault: Injection | None = None):
        """POST /{phone_number_id}/messages. Returns (status, payload); raises SimulatedError."""
        if not isinstance(body, dict):
            raise SimulatedError(100, "The request body must be a JSON object.")
        if body.get("messaging_product") != "whatsapp":
            raise SimulatedError(100, "messaging_product must be 'whatsapp'.")
        if body.get("recipient_type", "individual") != "individual":
            raise SimulatedError(100, "recipient_type must be 'individual'.")
        to = body.get("to")
        if not isinstance(to, str) or not re.fullmatch(r"[1-9]\d{7,14}", to):
            raise SimulatedError(100, "'to' must be the recipient's number: E.164 digits, no '+'.")
        type_ = body.get("type")
        if type_ not in {"text", "template", "document"} or not isinstance(body.get(type_), dict):
            raise SimulatedError(100, "type must be text, template or document, with its object.")
        callback = body.get("biz_opaque_callback_data")
        if callback is not None and (
            not isinstance(callback, str) or len(callback.encode()) > MAX_CALLBACK_BYTES
        ):
            raise SimulatedError(100, "biz_opaque_callback_data is limited to 512 bytes.")
        context = body.get("context")
        if context is not None and not (
            isinstance(context, dict) and isinstance(context.get("message_id"), str)
        ):
            raise SimulatedError(100, "context needs a message_id.")

        with self.lock:
            if to in self.unreachable:
                raise SimulatedError(131026)
            if type_ == "text":
                shown = self._check_text(body["text"])
                if not self.window_open(number.phone_number_id, to):
                    raise SimulatedError(131047)
                category = "service"
            elif type_ == "document":
                shown = self._check_document(number, body["document"])
                if not self.window_open(number.phone_number_id, to):
                    raise SimulatedError(131047)
                category = "service"
            else:
                shown, template = self._check_template(number, body["template"])
                category = template.category.lower()

            wamid = new_wamid()
            if webhook_fault is None:
                message = {
                    "id": wamid,
                    "direction": "out",
                    "type": type_,
                    "timestamp": int(time.time()),
                    "status": "accepted",
                    "callback_data": callback,
                    "context_id": (context or {}).get("message_id"),
                    "request": body,
                    **shown,
                }
                self.conversation(number.phone_number_id, to).messages.append(message)
        if webhook_fault is None:
            self.webhooks.message_statuses(
                number, wamid=wamid, recipient=to, category=category, callback_data=callback
            )
        else:
            error = (
                SimulatedError(int(webhook_fault.code))
                if str(webhook_fault.code).isdigit()
                else (SimulatedError(131000))
            )
            self.webhooks.message_failed(
                number,
                wamid=wamid,
                recipient=to,
                error=error.webhook_error(),
                callback_data=callback,
            )
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": wamid, "message_status": "accepted"}],
        }

    def _check_text(self, text: dict[str, Any]) -> dict[str, Any]:
        body = text.get("body")
        if not isinstance(body, str) or not body:
            raise SimulatedError(100, "text.body is required.")
        if len(body) > MAX_TEXT_CHARS:
            raise SimulatedError(100, "text.body is limited to 4096 characters.")
        if "preview_url" in text and not isinstance(text["preview_url"], bool):
            raise SimulatedError(100, "text.preview_url must be true or false.")
        return {"body": body}

    def _check_document(self, number: SimNumber, document: dict[str, Any]) -> dict[str, Any]:
        media_id, link = document.get("id"), document.get("link")
        if bool(media_id) == bool(link):
            raise SimulatedError(100, "document needs exactly one of id and link.")
        if media_id:
            media = self.media.get(str(media_id))
            if media is None or media.owner != number.phone_number_id:
                raise SimulatedError(131053, "The media id is unknown to this phone number.")
        elif not re.match(r"https?://", str(link)):
            raise SimulatedError(100, "document.link must be an http(s) URL.")
        caption = document.get("caption")
        if caption is not None and (
            not isinstance(caption, str) or len(caption) > MAX_CAPTION_CHARS
        ):
            raise SimulatedError(100, "document.caption is limited to 1024 characters.")
        return {
            "body": caption or "",
            "document": {
                "media_id": media_id,
                "link": link,
                "filename": document.get("filename") or "",
            },
        }

    def _check_template(self, number: SimNumber, sent: dict[str, Any]):
        name = sent.get("name")
        language = (sent.get("language") or {}).get("code")
        if not isinstance(name, str) or not isinstance(language, str):
            raise SimulatedError(100, "template needs a name and language.code.")
        template = self.find_template(number.waba_id, name, language)
        if template is None or template.status in {"PENDING", "REJECTED"}:
            raise SimulatedError(132001)
        if template.status == "PAUSED":
            raise SimulatedError(132015)
        if template.status == "DISABLED":
            raise SimulatedError(132016)
        given: dict[str, list[dict[str, Any]]] = {"header": [], "body": []}
        payloads: dict[int, str] = {}
        for component in sent.get("components") or []:
            kind = str(component.get("type", "")).lower()
            params = component.get("parameters") or []
            if kind in given:
                given[kind] = params
            elif kind == "button":
                if component.get("sub_type") != "quick_reply":
                    continue
                try:
                    index = int(component.get("index"))
                    payloads[index] = str(params[0]["payload"])
                except (TypeError, ValueError, IndexError, KeyError):
                    raise SimulatedError(
                        100, "A quick_reply button needs index and a payload."
                    ) from None
            else:
                raise SimulatedError(100, f"Unknown template component type {kind!r}.")
        header = template.component("HEADER")
        body = template.component("BODY") or {}
        header_text = ""
        if header is not None:
            if str(header.get("format", "TEXT")).upper() == "TEXT":
                header_text = header.get("text", "")
                expected_header = len(placeholders(header_text))
            else:
                expected_header = 1
        else:
            expected_header = 0
        if len(given["header"]) != expected_header:
            raise SimulatedError(132000, "The header's parameters do not match the template.")
        if len(given["body"]) != len(placeholders(body.get("text", ""))):
            raise SimulatedError(132000)
        buttons = []
        quick_replies = [
            b
            for b in ((template.component("BUTTONS") or {}).get("buttons") or [])
            if str(b.get("type")).upper() == "QUICK_REPLY"
        ]
        all_buttons = (template.component("BUTTONS") or {}).get("buttons") or []
        for index in payloads:
            if not 0 <= index < len(all_buttons):
                raise SimulatedError(100, "A button index is beyond the template's buttons.")
        for index, button in enumerate(all_buttons):
            if button in quick_replies:
                text = str(button.get("text", ""))
                buttons.append({"text": text, "payload": payloads.get(index, text)})
        if header is not None and not header_text and given["header"]:
            shown_header = parameter_text(given["header"][0])  # a media header: "[document]"
        else:
            shown_header = render(header_text, given["header"])
        shown = {
            "template": {"name": name, "language": language, "category": template.category},
            "header": shown_header,
            "body": render(body.get("text", ""), given["body"]),
            "footer": (template.component("FOOTER") or {}).get("text", ""),
            "buttons": buttons,
        }
        return shown, template

    # --- media ----------------------------------------------------------------------------------
    def upload(
        self, number: SimNumber, fields: dict[str, str], file: tuple[str, str, bytes] | None
    ):
        if fields.get("messaging_product") != "whatsapp":
            raise SimulatedError(100, "messaging_product must be 'whatsapp'.")
        if file is None or not file[2]:
            raise SimulatedError(100, "A non-empty 'file' part is required.")
        filename, part_type, data = file
        mime_type = fields.get("type") or part_type
        if mime_type not in SUPPORTED_MEDIA_TYPES:
            raise SimulatedError(131053, f"Unsupported media type {mime_type!r}.")
        media = Media(
            id=new_numeric_id(),
            owner=number.phone_number_id,
            data=data,
            mime_type=mime_type,
            filename=filename,
            sha256=hashlib.sha256(data).hexdigest(),
        )
        with self.lock:
            self.media[media.id] = media
        return 200, {"id": media.id}

    def add_media(self, owner: str, data: bytes, mime_type: str, filename: str) -> Media:
        media = Media(
            id=new_numeric_id(),
            owner=owner,
            data=data,
            mime_type=mime_type,
            filename=filename,
            sha256=hashlib.sha256(data).hexdigest(),
        )
        with self.lock:
            self.media[media.id] = media
        return media

    # --- templates ------------------------------------------------------------------------------
    def list_templates(self, waba_id: str, query: dict[str, str], base_url: str):
        try:
            limit = max(1, min(int(query.get("limit") or 25), 1000))
            start = (
                int(base64.urlsafe_b64decode(query["after"]).decode()) if "after" in query else 0
            )
        except (ValueError, UnicodeDecodeError):
            raise SimulatedError(100, "Invalid limit or cursor.") from None
        with self.lock:
            rows = [t.as_graph() for t in self.templates.values() if t.waba_id == waba_id]
        for key in ("name", "status", "category", "language"):
            if query.get(key):
                rows = [r for r in rows if str(r[key]).lower() == query[key].lower()]
        page = rows[start : start + limit]
        payload: dict[str, Any] = {"data": page}
        if page:
            cursor = lambda n: base64.urlsafe_b64encode(str(n).encode()).decode()  # noqa: E731
            payload["paging"] = {
                "cursors": {"before": cursor(start), "after": cursor(start + len(page))}
            }
            if start + len(page) < len(rows):
                payload["paging"]["next"] = (
                    f"{base_url}/message_templates?limit={limit}&after={cursor(start + len(page))}"
                )
        return 200, payload

    def create_template(self, waba_id: str, body: Any, *, status: str | None = None):
        if not isinstance(body, dict):
            raise SimulatedError(100, "The request body must be a JSON object.")
        name, language = body.get("name"), body.get("language")
        category = str(body.get("category", "")).upper()
        components = body.get("components")
        if not isinstance(name, str) or not _TEMPLATE_NAME.fullmatch(name):
            raise SimulatedError(100, "name: lowercase letters, digits and underscores only.")
        if not isinstance(language, str) or not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", language):
            raise SimulatedError(100, "language must be a code like 'en' or 'en_US'.")
        if category not in TEMPLATE_CATEGORIES:
            raise SimulatedError(100, "category must be MARKETING, UTILITY or AUTHENTICATION.")
        if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
            raise SimulatedError(100, "components must be a list of objects.")
        template = Template(
            id=new_numeric_id(),
            waba_id=waba_id,
            name=name,
            language=language,
            category=category,
            components=components,
            status=status or ("APPROVED" if self.auto_approve_templates else "PENDING"),
        )
        body_component = template.component("BODY")
        if body_component is None or not body_component.get("text"):
            raise SimulatedError(100, "A template needs a BODY component with text.")
        named = str(body.get("parameter_format") or "POSITIONAL").upper() == "NAMED"
        for component in (body_component, template.component("HEADER")):
            names = placeholders((component or {}).get("text", ""))
            if any(n.isdigit() for n in names) if named else not all(n.isdigit() for n in names):
                raise SimulatedError(
                    100, "Placeholders must match parameter_format (NAMED or POSITIONAL)."
                )
        for component in (body_component, template.component("HEADER")):
            if component and placeholders(component.get("text", "")):
                example_key = "body_text" if component is body_component else "header_text"
                example = component.get("example") or {}
                if not (example.get(example_key) or example.get(f"{example_key}_named_params")):
                    raise SimulatedError(
                        100, "Variables need sample values (example).", subcode=2388043
                    )
        with self.lock:
            if self.find_template(waba_id, name, language):
                raise SimulatedError(
                    100, "Content in this language already exists.", subcode=2388024
                )
            self.templates[template.id] = template
        return 200, {"id": template.id, "status": template.status, "category": template.category}

    def set_template_status(self, name: str, language: str | None, status: str) -> list[Template]:
        status = status.upper()
        if status not in TEMPLATE_STATUSES:
            raise ValueError(f"Unknown template status {status!r}.")
        with self.lock:
            changed = [
                t
                for t in self.templates.values()
                if t.name == name and (language is None or t.language == language)
            ]
            for template in changed:
                template.status = status
        for template in changed:
            self.webhooks.template_status(template)
        return changed

    # --- the patient's side ---------------------------------------------------------------------
    def inbound(
        self,
        wa_id: str,
        *,
        phone_number_id: str | None = None,
        kind: str = "text",
        text: str = "",
        button_payload: str = "",
        context_id: str | None = None,
        name: str = "",
        user_id: str | None = None,
        media: Media | None = None,
        caption: str | None = None,
    ) -> str:
        """The patient sends a message: it opens the 24-hour window and goes out as a webhook."""
        if not re.fullmatch(r"[1-9]\d{7,14}", wa_id or ""):
            raise ValueError("wa_id must be E.164 digits without '+'.")
        with self.lock:
            if phone_number_id is None:
                phone_number_id = self._last_number_for(wa_id)
            number = self.numbers.get(phone_number_id)
            if number is None:
                raise ValueError("Unknown business phone number id.")
            conv = self.conversation(phone_number_id, wa_id)
            conv.name = name or conv.name or "Patient"
            conv.last_inbound_at = time.time()
            wamid = new_wamid()
            message: dict[str, Any] = {
                "from": wa_id,
                "id": wamid,
                "timestamp": str(int(time.time())),
                "type": kind,
            }
            if kind == "text":
                message["text"] = {"body": text}
            elif kind == "button":
                message["button"] = {"payload": button_payload or text, "text": text}
            elif kind in {"document", "image"} and media is not None:
                message[kind] = {
                    "id": media.id,
                    "mime_type": media.mime_type,
                    "sha256": media.sha256,
                }
                if kind == "document":
                    message[kind]["filename"] = media.filename
                if caption:
                    message[kind]["caption"] = caption
            else:
                raise ValueError(f"Unsupported inbound message type {kind!r}.")
            if context_id:
                message["context"] = {"from": number.display_phone_number, "id": context_id}
            conv.messages.append(
                {
                    "id": wamid,
                    "direction": "in",
                    "type": kind,
                    "timestamp": int(time.time()),
                    "body": text or caption or (media.filename if media else ""),
                    "context_id": context_id,
                    "webhook": message,
                }
            )
            contact: dict[str, Any] = {"profile": {"name": conv.name}, "wa_id": wa_id}
            if user_id:
                contact["user_id"] = user_id
        self.webhooks.inbound_message(number, contact=contact, message=message)
        return wamid

    def _last_number_for(self, wa_id: str) -> str:
        latest, when = None, -1
        for (pnid, who), conv in self.conversations.items():
            if who == wa_id and conv.messages and conv.messages[-1]["timestamp"] >= when:
                latest, when = pnid, conv.messages[-1]["timestamp"]
        return latest or next(iter(self.numbers))

    def record_status(self, recipient: str, wamid: str, status: str) -> None:
        """Keep the furthest status on the phone's copy (as the phone page shows ticks)."""
        order = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}
        with self.lock:
            for conv in self.conversations.values():
                if conv.wa_id != recipient:
                    continue
                for message in conv.messages:
                    if message["id"] == wamid and order[status] > order.get(message["status"], 0):
                        message["status"] = status

    def snapshot(self) -> dict[str, Any]:
        """Everything the patient's-phone page shows (JSON-safe; no tokens)."""
        with self.lock:
            return {
                "numbers": [
                    {
                        "phone_number_id": n.phone_number_id,
                        "display_phone_number": n.display_phone_number,
                        "verified_name": n.verified_name,
                        "waba_id": n.waba_id,
                    }
                    for n in self.numbers.values()
                ],
                "conversations": [
                    {
                        "phone_number_id": c.phone_number_id,
                        "wa_id": c.wa_id,
                        "name": c.name,
                        "window_open": self.window_open(c.phone_number_id, c.wa_id),
                        "unreachable": c.wa_id in self.unreachable,
                        "messages": [
                            {k: v for k, v in m.items() if k not in {"request", "webhook"}}
                            for m in c.messages
                        ],
                    }
                    for c in self.conversations.values()
                ],
                "templates": [
                    t.as_graph() | {"waba_id": t.waba_id} for t in self.templates.values()
                ],
                "injections": [i.as_dict() for i in self.injections],
            }
