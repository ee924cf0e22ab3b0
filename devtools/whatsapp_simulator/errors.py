"""The Cloud API's error answers: the codes the simulator uses and the body Meta sends with each."""

from __future__ import annotations

import secrets
from typing import Any

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
