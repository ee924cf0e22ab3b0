"""How much of each value in a WhatsApp webhook Vaidya keeps: the one table of bounds.

Webhooks are signed by Meta, but what is inside them is written by whoever messages the clinic
(a text, a caption, a profile name, a file name): nothing a sender controls is stored unbounded.
The raw body is kept as it came (bounded by the request size limit, `DATA_UPLOAD_MAX_MEMORY_SIZE`)
and every value read from it goes through `clip` or `cut_text` here before it is stored.

A patient's own words (a text, a caption) longer than WhatsApp allows are kept up to Meta's limit
and end with a visible note, so staff reading the inbox, the patient's timeline or an export know
the patient wrote more and can ask. A note in the text itself, rather than a flag beside it,
travels with the words wherever they are shown. Short labels (a name, a button title, a mime type)
that exceed their bound end with an ellipsis instead.
"""

from __future__ import annotations

from typing import Any

# Meta's limits (/work/shared/spec/whatsapp.md): a text body at most 4,096 characters, a caption
# at most 1,024. The other bounds are far above anything WhatsApp sends (profile names are at most
# 25 characters in the app, reply-button titles 20, list titles 24, reply ids 256) and at or below
# the column that stores the value.
TEXT_BODY = 4096
CAPTION = 1024
PROFILE_NAME = 100  # Conversation.profile_name holds 200
REPLY_TITLE = 100  # a quick-reply button's text, an interactive reply's title
REPLY_ID = 256  # a quick-reply payload, an interactive reply's id (Message.payload)
LOCATION_PART = 300  # a shared location's name, and its address
REACTION = 32  # one emoji, however many code points it is made of
MIME_TYPE = 100  # Message.media_mime_type
FILENAME = 255  # Message.media_filename
ERROR_TITLE = 300  # Message.error_title, MessageStatusEvent.error_title
WAMID = 200  # Message.wamid, Message.context_wamid
WA_ID = 20  # Conversation.wa_id (digits of an E.164 number)
BSUID = 80  # Conversation.bsuid
CALLBACK_DATA = 512  # biz_opaque_callback_data: our own id comes back, at most 512 bytes
PREFERENCE_DETAIL = 1000  # the patient's words kept on the consent ledger
TEMPLATE_NAME = 512  # MessageTemplate.name
TEMPLATE_LANGUAGE = 10  # MessageTemplate.language
TEMPLATE_REASON = 300  # MessageTemplate.rejected_reason
STATUS_WORD = 20  # sent, delivered, read, failed
ERROR_CODE = 20  # a number
COORDINATE = 30  # a latitude or longitude, as text

ELLIPSIS = "…"


def cut_note(limit: int, what: str = "message") -> str:
    """The note that ends a patient's text Vaidya did not keep whole."""
    return f"\n…[{what} cut at {limit:,} characters]"


def text_of(value: Any) -> str:
    """A webhook value as text: only strings and numbers count, anything else is empty."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def clip(value: Any, limit: int, *, mark: bool = True) -> str:
    """`value` as text of at most `limit` characters; a cut one ends with an ellipsis when
    `mark` (labels a person reads), else is simply shortened (ids Vaidya matches on)."""
    text = text_of(value)
    if len(text) <= limit:
        return text
    return text[: limit - 1] + ELLIPSIS if mark else text[:limit]


def cut_text(value: Any, limit: int = TEXT_BODY, *, what: str = "message") -> str:
    """A patient's words: at most `limit` of them, followed by a note when more were sent."""
    text = text_of(value)
    if len(text) <= limit:
        return text
    return text[:limit] + cut_note(limit, what)
