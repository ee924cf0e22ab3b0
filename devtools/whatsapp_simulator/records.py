"""What the simulator keeps: business numbers, templates, media, injected faults, conversations."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from typing import Any

INJECTABLE_KINDS = {"5xx", "timeout"}
ENDPOINTS = {"messages", "media", "media_info", "download", "templates", "phone", "any"}


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
