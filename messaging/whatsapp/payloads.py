"""What the WhatsApp client sends, checked before it leaves: the recipient's number, texts and
their limits, template components and interactive lists (Meta's documented limits), and what
Meta answers to a send."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from messaging.whatsapp.errors import InvalidMessage

MAX_TEXT_CHARS = 4096
MAX_CAPTION_CHARS = 1024
MAX_CALLBACK_DATA_BYTES = 512
# Interactive list messages (Meta's documented limits).
MAX_LIST_ROWS = 10
MAX_LIST_BUTTON_CHARS = 20
MAX_ROW_TITLE_CHARS = 24
MAX_ROW_ID_CHARS = 200
MAX_ROW_DESCRIPTION_CHARS = 72

_DIGITS = re.compile(r"\d{8,15}")
_NUMBER_SEPARATORS = re.compile(r"[\s\-().]")
_GRAPH_ID = re.compile(r"[A-Za-z0-9_.:-]+")


@dataclass(frozen=True)
class SendResult:
    """What Meta accepted. `accepted` is not delivered: delivery comes in status webhooks."""

    wamid: str
    wa_id: str
    input: str = ""
    message_status: str = ""


def normalize_number(number: str) -> str:
    """E.164 ("+91 98765 43210") or bare digits -> the digits WhatsApp expects ("919876543210")."""
    if not isinstance(number, str):
        raise InvalidMessage("The recipient's number must be text.", title="Invalid number")
    digits = _NUMBER_SEPARATORS.sub("", number.strip())
    digits = digits.removeprefix("+")
    if not _DIGITS.fullmatch(digits) or digits.startswith("0"):
        raise InvalidMessage(
            "The recipient's number must be in international format, like +919876543210.",
            title="Invalid number",
        )
    return digits


def check_text(value: str, *, limit: int, what: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidMessage(f"The {what} is empty.", title=f"Invalid {what}")
    if len(value) > limit:
        raise InvalidMessage(
            f"The {what} has {len(value):,} characters; WhatsApp allows at most {limit:,}.",
            title=f"{what.capitalize()} too long",
        )


def check_callback_data(callback_data: str | None) -> None:
    if callback_data is None:
        return
    size = len(callback_data.encode("utf-8"))
    if size > MAX_CALLBACK_DATA_BYTES:
        raise InvalidMessage(
            f"The callback data is {size} bytes; WhatsApp allows at most "
            f"{MAX_CALLBACK_DATA_BYTES}.",
            title="Callback data too long",
        )


def check_graph_id(value: str, what: str) -> str:
    value = str(value or "").strip()
    if not _GRAPH_ID.fullmatch(value):
        raise InvalidMessage(f"The {what} is missing or malformed.", title=f"Invalid {what}")
    return value


def template_parameters(params: Sequence[Any] | Mapping[str, Any]) -> list[dict[str, Any]]:
    """Template parameters: text values become `{"type": "text", "text": ...}`; a mapping gives
    named parameters; a dict item (currency, date_time, document, ...) is sent as given."""
    if isinstance(params, Mapping):
        return [
            {"type": "text", "parameter_name": str(name), "text": str(value)}
            for name, value in params.items()
        ]
    out = []
    for value in params:
        if isinstance(value, Mapping):
            out.append(dict(value))
        else:
            out.append({"type": "text", "text": str(value)})
    return out


def template_components(
    *,
    header_params: Sequence[Any] | Mapping[str, Any] = (),
    body_params: Sequence[Any] | Mapping[str, Any] = (),
    buttons: Sequence[str | tuple[int, str]] = (),
    copy_code: str | None = None,
) -> list[dict[str, Any]]:
    """A template's header, body and quick-reply button components, and an authentication
    template's copy-code button carrying `copy_code` (see `WhatsAppClient.send_template`)."""
    components: list[dict[str, Any]] = []
    if header_params:
        components.append({"type": "header", "parameters": template_parameters(header_params)})
    if body_params:
        components.append({"type": "body", "parameters": template_parameters(body_params)})
    for position, button in enumerate(buttons):
        index, payload = button if isinstance(button, tuple) else (position, button)
        check_callback_data(payload)  # payloads share the 512-byte cap in practice
        components.append(
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [{"type": "payload", "payload": payload}],
            }
        )
    if copy_code:
        components.append(
            {
                "type": "button",
                "sub_type": "url",
                "index": "0",
                "parameters": [{"type": "text", "text": copy_code}],
            }
        )
    return components


def list_interactive(
    *, body: str, button: str, rows: Sequence[Mapping[str, str]], section_title: str = ""
) -> dict[str, Any]:
    """The `interactive` object of a list message (see `WhatsAppClient.send_list`)."""
    check_text(body, limit=MAX_TEXT_CHARS, what="list text")
    check_text(button, limit=MAX_LIST_BUTTON_CHARS, what="list button")
    if not rows or len(rows) > MAX_LIST_ROWS:
        raise InvalidMessage(f"A list has 1 to {MAX_LIST_ROWS} rows.", title="Invalid list message")
    checked = []
    for row in rows:
        check_text(row.get("id", ""), limit=MAX_ROW_ID_CHARS, what="row id")
        check_text(row.get("title", ""), limit=MAX_ROW_TITLE_CHARS, what="row title")
        item = {"id": row["id"], "title": row["title"]}
        if row.get("description"):
            check_text(row["description"], limit=MAX_ROW_DESCRIPTION_CHARS, what="row description")
            item["description"] = row["description"]
        checked.append(item)
    section: dict[str, Any] = {"rows": checked}
    if section_title:
        check_text(section_title, limit=MAX_ROW_TITLE_CHARS, what="section title")
        section["title"] = section_title
    return {
        "type": "list",
        "body": {"text": body},
        "action": {"button": button, "sections": [section]},
    }
