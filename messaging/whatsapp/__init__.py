"""The WhatsApp Business Platform (Cloud API): client, errors, webhook signatures, send rate.

Free of clinic and patient models: `messaging` services build on these pieces.
"""

from messaging.whatsapp.client import WhatsAppClient
from messaging.whatsapp.errors import (
    AccountError,
    BadRequest,
    InvalidMessage,
    InvalidToken,
    MarketingOptedOut,
    MediaError,
    OutsideWindow,
    PairRateLimited,
    RateLimitTimeout,
    TemplateError,
    TransientError,
    Undeliverable,
    WhatsAppError,
    classify,
)
from messaging.whatsapp.payloads import SendResult, normalize_number

__all__ = [
    "AccountError",
    "BadRequest",
    "InvalidMessage",
    "InvalidToken",
    "MarketingOptedOut",
    "MediaError",
    "OutsideWindow",
    "PairRateLimited",
    "RateLimitTimeout",
    "SendResult",
    "TemplateError",
    "TransientError",
    "Undeliverable",
    "WhatsAppClient",
    "WhatsAppError",
    "classify",
    "normalize_number",
]
