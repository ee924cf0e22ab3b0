"""Webhook authenticity: the `X-Hub-Signature-256` HMAC and the subscription handshake.

Meta signs every webhook POST with HMAC-SHA256 over the raw body bytes, keyed with the app
secret, and sends `sha256=<hex>`. Verify on the raw bytes before parsing anything; compare in
constant time. An empty secret or verify token never verifies: a clinic that has not finished
setting up must not accept unsigned deliveries.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


def _key(app_secret: str | bytes) -> bytes:
    return app_secret if isinstance(app_secret, bytes) else app_secret.encode("utf-8")


def sign(body: bytes, app_secret: str | bytes) -> str:
    """The header value Meta would send for `body`: "sha256=<lowercase hex>"."""
    digest = hmac.new(_key(app_secret), body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify(body: bytes, header: str | None, app_secret: str | bytes) -> bool:
    """True only if `header` is a valid signature of the raw `body` under `app_secret`."""
    if not app_secret or not isinstance(header, str) or not isinstance(body, bytes | bytearray):
        return False
    header = header.strip()
    if not header.lower().startswith(_PREFIX):
        return False
    given = header[len(_PREFIX) :].lower()
    if len(given) != 64 or any(c not in "0123456789abcdef" for c in given):
        return False
    expected = sign(bytes(body), app_secret)[len(_PREFIX) :]
    return hmac.compare_digest(given.encode("ascii"), expected.encode("ascii"))


def verify_handshake(params: Mapping[str, Any], verify_token: str) -> str | None:
    """The challenge to echo back (as a plain-text 200) if this GET is Meta subscribing with
    our verify token; None otherwise (answer 403)."""
    if not verify_token:
        return None
    mode = params.get("hub.mode")
    token = params.get("hub.verify_token")
    challenge = params.get("hub.challenge")
    if mode != "subscribe" or not isinstance(token, str) or not isinstance(challenge, str):
        return None
    if not hmac.compare_digest(token.encode("utf-8"), verify_token.encode("utf-8")):
        return None
    return challenge
