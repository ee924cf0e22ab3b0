"""Reading phone numbers the way people type them (Indian default region)."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException

DEFAULT_REGION = "IN"


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """'098765 43210', '+91-98765-43210', '9876543210' -> '+919876543210'; None if invalid."""
    if not raw or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def digits_only(raw: str) -> str:
    return re.sub(r"\D", "", raw or "")
