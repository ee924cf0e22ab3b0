"""The simulator's world: business numbers, templates, media, conversations and injected faults.

Everything here is plain Python guarded by one lock; the HTTP layer (handler.py) parses requests
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
from typing import Any

from devtools.whatsapp_simulator.checks import (
    MAX_CAPTION_CHARS,
    SUPPORTED_MEDIA_TYPES,
    check_list,
    check_text,
    checked_envelope,
)
from devtools.whatsapp_simulator.errors import SimulatedError
from devtools.whatsapp_simulator.records import (
    Conversation,
    Injection,
    Media,
    SimNumber,
    Template,
    new_numeric_id,
    new_wamid,
)
from devtools.whatsapp_simulator.templates import (
    TEMPLATE_STATUSES,
    UNSENDABLE_STATUSES,
    shown_template,
    template_from_request,
    template_reference,
)
from devtools.whatsapp_simulator.webhooks import WebhookSender


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
        to, type_, callback, context = checked_envelope(body)
        with self.lock:
            if to in self.unreachable:
                raise SimulatedError(131026)
            shown, category = self._shown_message(number, to, type_, body[type_])
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
            code = webhook_fault.code
            error = SimulatedError(int(code) if str(code).isdigit() else 131000)
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

    def _shown_message(
        self, number: SimNumber, to: str, type_: str, content: dict[str, Any]
    ) -> tuple[dict[str, Any], str]:
        """What the phone shows for this message, and its pricing category. A template may
        start a conversation; text and documents need the 24-hour window open."""
        if type_ == "template":
            template = self._sendable_template(number, content)
            return shown_template(template, content), template.category.lower()
        if type_ == "text":
            shown = check_text(content)
        elif type_ == "interactive":
            shown = check_list(content)
        else:
            shown = self._check_document(number, content)
        if not self.window_open(number.phone_number_id, to):
            raise SimulatedError(131047)
        return shown, "service"

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

    def _sendable_template(self, number: SimNumber, sent: dict[str, Any]) -> Template:
        """The approved template a template message names (132001, 132015 or 132016 if not)."""
        name, language = template_reference(sent)
        template = self.find_template(number.waba_id, name, language)
        if template is None:
            raise SimulatedError(132001)
        if template.status in UNSENDABLE_STATUSES:
            raise SimulatedError(UNSENDABLE_STATUSES[template.status])
        return template

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
        template = template_from_request(
            waba_id,
            body,
            status=status or ("APPROVED" if self.auto_approve_templates else "PENDING"),
        )
        with self.lock:
            if self.find_template(waba_id, template.name, template.language):
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
        list_reply: dict[str, str] | None = None,
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
            elif kind == "interactive" and list_reply:
                message["interactive"] = {"type": "list_reply", "list_reply": dict(list_reply)}
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
