"""The Cloud API's checks on what a business sends, as the simulator applies them: the envelope
of a send request, texts, interactive lists and their limits, and the media types Meta accepts."""

from __future__ import annotations

import re
from typing import Any

from devtools.whatsapp_simulator.errors import SimulatedError

MAX_TEXT_CHARS = 4096
MAX_CAPTION_CHARS = 1024
# Interactive list messages: Meta's documented limits.
MAX_LIST_ROWS = 10
MAX_LIST_BUTTON_CHARS = 20
MAX_ROW_TITLE_CHARS = 24
MAX_ROW_ID_CHARS = 200
MAX_ROW_DESCRIPTION_CHARS = 72
MAX_CALLBACK_BYTES = 512
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


def checked_envelope(body: Any) -> tuple[str, str, str | None, dict[str, Any] | None]:
    """(to, type, callback data, context) of a send request, each checked as Meta does."""
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
    if type_ not in {"text", "template", "document", "interactive"} or not isinstance(
        body.get(type_), dict
    ):
        raise SimulatedError(
            100, "type must be text, template, document or interactive, with its object."
        )
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
    return to, type_, callback, context


def check_list(interactive: dict[str, Any]) -> dict[str, Any]:
    """An interactive list checked as Meta does; what the phone shows (body and rows)."""
    if interactive.get("type") != "list":
        raise SimulatedError(100, "This simulator sends interactive messages of type list.")
    body = (interactive.get("body") or {}).get("text")
    if not isinstance(body, str) or not body or len(body) > MAX_TEXT_CHARS:
        raise SimulatedError(100, "interactive.body.text is required (at most 4096 characters).")
    action = interactive.get("action") or {}
    button = action.get("button")
    if not isinstance(button, str) or not button or len(button) > MAX_LIST_BUTTON_CHARS:
        raise SimulatedError(100, "action.button is required (at most 20 characters).")
    sections = action.get("sections")
    if not isinstance(sections, list) or not sections:
        raise SimulatedError(100, "action.sections needs at least one section.")
    if len(sections) > 1 and not all(isinstance(x, dict) and x.get("title") for x in sections):
        raise SimulatedError(100, "Every section needs a title when there are several.")
    rows: list[dict[str, str]] = []
    for section in sections:
        title = section.get("title") if isinstance(section, dict) else None
        if title is not None and (not isinstance(title, str) or len(title) > MAX_ROW_TITLE_CHARS):
            raise SimulatedError(100, "A section title is at most 24 characters.")
        rows += [
            check_row(row) for row in (section.get("rows") if isinstance(section, dict) else [])
        ]
    if not rows or len(rows) > MAX_LIST_ROWS:
        raise SimulatedError(100, "A list has 1 to 10 rows.")
    if len({r["id"] for r in rows}) != len(rows):
        raise SimulatedError(100, "Row ids must be unique.")
    return {"body": body, "list": {"button": button, "rows": rows}}


def check_row(row: Any) -> dict[str, str]:
    row = row if isinstance(row, dict) else {}
    row_id, row_title = row.get("id"), row.get("title")
    if not isinstance(row_id, str) or not row_id or len(row_id) > MAX_ROW_ID_CHARS:
        raise SimulatedError(100, "A row id is required (at most 200 characters).")
    if not isinstance(row_title, str) or not row_title:
        raise SimulatedError(100, "A row title is required.")
    if len(row_title) > MAX_ROW_TITLE_CHARS:
        raise SimulatedError(100, "A row title is at most 24 characters.")
    description = row.get("description")
    if description is not None and len(str(description)) > MAX_ROW_DESCRIPTION_CHARS:
        raise SimulatedError(100, "A row description is at most 72 characters.")
    return {"id": row_id, "title": row_title}


def check_text(text: dict[str, Any]) -> dict[str, Any]:
    """A text message checked as Meta does; what the phone shows."""
    body = text.get("body")
    if not isinstance(body, str) or not body:
        raise SimulatedError(100, "text.body is required.")
    if len(body) > MAX_TEXT_CHARS:
        raise SimulatedError(100, "text.body is limited to 4096 characters.")
    if "preview_url" in text and not isinstance(text["preview_url"], bool):
        raise SimulatedError(100, "text.preview_url must be true or false.")
    return {"body": body}
