"""Errors from the WhatsApp Cloud API, sorted by what the caller must do about them.

Graph answers a failed call with `{"error": {"message", "type", "code", "error_subcode",
"error_data": {"details"}, "fbtrace_id"}}`; the same codes come back in `failed` status webhooks
as `{"code", "title", "message", "error_data": {"details"}}`. `classify()` turns a response into
one of the classes below, `from_error_payload()` does the same for a webhook's error object, and
`from_request_exception()` covers timeouts and connection failures.

Each exception carries only plain values (code, title, message, fbtrace_id, HTTP status): never
the response or request objects, whose headers hold the clinic's access token, and never the
message body we tried to send. Access tokens echoed in Graph's messages are redacted.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

import requests
from urllib3.exceptions import NameResolutionError, NewConnectionError

# Meta's long-lived and system-user tokens start with "EAA"; Graph sometimes echoes a malformed one.
_TOKEN_PATTERN = re.compile(r"EAA[A-Za-z0-9]{16,}")
REDACTED = "[redacted]"
_CODE_PREFIX = re.compile(r"^\(#\d+\)\s*")


class WhatsAppError(Exception):
    """A WhatsApp Cloud API call failed. `retryable` and `action` say what the caller must do."""

    retryable = False
    action = "Do not retry; check the request."

    def __init__(
        self,
        message: str = "",
        *,
        code: int | None = None,
        subcode: int | None = None,
        title: str = "",
        details: str = "",
        fbtrace_id: str = "",
        http_status: int | None = None,
    ):
        self.code = code
        self.subcode = subcode
        self.title = title
        self.message = message
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.http_status = http_status
        super().__init__(self._summary())

    def _summary(self) -> str:
        parts = []
        if self.code is not None:
            parts.append(f"[{self.code}]")
        message = _CODE_PREFIX.sub("", self.message)
        if self.title and message and message != self.title:
            parts.append(f"{self.title}: {message}")
        elif self.title or message:
            parts.append(self.title or message)
        if self.details and self.details != self.message:
            parts.append(f"({self.details})")
        if self.fbtrace_id:
            parts.append(f"fbtrace_id={self.fbtrace_id}")
        return " ".join(parts) or type(self).__name__


class InvalidMessage(WhatsAppError, ValueError):
    """Refused before sending: the message breaks a documented limit (length, number format)."""

    action = "Fix the message; it was not sent."


class TransientError(WhatsAppError):
    """Temporary failure (5xx, 131000, 130429 throughput, timeouts, connection errors).

    Retry with backoff no sooner than `retry_after` seconds (`backoff_seconds(attempt)` gives an
    exponential schedule). `maybe_sent` is true when the request may have reached Meta before
    it failed (a read timeout): a retry can then deliver the message twice.
    """

    retryable = True
    action = "Retry later with exponential backoff."

    def __init__(
        self, message: str = "", *, retry_after: float = 1.0, maybe_sent: bool = False, **kw
    ):
        self.retry_after = float(retry_after)
        self.maybe_sent = maybe_sent
        super().__init__(message, **kw)

    def backoff_seconds(self, attempt: int, *, cap: float = 600.0) -> float:
        """Seconds to wait before retry number `attempt` (0 for the first retry)."""
        return min(cap, self.retry_after * (2 ** max(0, attempt)))


class RateLimitTimeout(TransientError):
    """Our own send-rate limiter had no free slot within the caller's timeout."""

    action = "Retry later: this number is sending at its limit."


class PairRateLimited(WhatsAppError):
    """131056: too many messages to this one recipient. Back off for that recipient only."""

    retryable = True
    action = "Back off for this recipient: 4^n seconds, n = failed attempts so far."

    def __init__(self, message: str = "", *, retry_after: float = 1.0, **kw):
        self.retry_after = float(retry_after)
        super().__init__(message, **kw)

    def backoff_seconds(self, attempt: int, *, cap: float = 3600.0) -> float:
        """Meta's advice: wait 4^attempt seconds (attempt 0, 1, 2, ... -> 1, 4, 16, ... s)."""
        return min(cap, float(4 ** max(0, attempt)))


class Undeliverable(WhatsAppError):
    """131026: the number cannot receive this message (not on WhatsApp, old app, ...)."""

    action = "Never retry; mark the number unreachable on WhatsApp."


class OutsideWindow(WhatsAppError):
    """131047: free-form message outside the 24-hour customer service window."""

    action = "Send an approved template instead."


class AccountError(WhatsAppError):
    """The clinic's WhatsApp account cannot send (131031 locked, 131042 payment problem,
    133010 number not registered)."""

    action = "Stop sending for this number and alert the clinic."


class InvalidToken(AccountError):
    """190 (or 0 / 10 / 2xx auth and permission failures): the access token no longer works."""

    action = "Stop sending for this number and alert the clinic to reconnect WhatsApp."


class TemplateError(WhatsAppError):
    """132xxx: template missing in that language (132001), wrong parameter count (132000),
    paused, disabled or otherwise unusable."""

    action = "Do not retry as is; fix the template or its parameters."


class MediaError(WhatsAppError):
    """131052/131053: media could not be downloaded or uploaded, or failed its sha256 check."""

    action = "Do not retry as is; check the file."


class MarketingOptedOut(WhatsAppError):
    """131050: the person stopped marketing messages from this business."""

    action = "Do not send marketing messages to this person."


class BadRequest(WhatsAppError):
    """100 and any other 4xx: the request was wrong."""


_TRANSIENT_CODES = {
    1,  # API unknown
    2,  # API service temporarily unavailable
    4,  # application request limit
    80007,  # WhatsApp Business Account rate limit
    130429,  # throughput reached
    131000,  # something went wrong
    131048,  # spam rate limit
    131049,  # ecosystem engagement limit ("retry with increasing intervals")
    133004,  # server temporarily unavailable
}
# Meta's guidance on how long to wait before the first retry, in seconds.
_RETRY_AFTER_DEFAULTS = {4: 60.0, 80007: 60.0, 130429: 1.0, 131048: 60.0, 131049: 3600.0}
_INVALID_TOKEN_CODES = {190, 10, 102, 104}
_ACCOUNT_CODES = {131031, 131042, 133010}
_MEDIA_CODES = {131052, 131053}
_TEMPLATE_CODES = {132000, 132001}
# Codes that name one situation each: recipient paused, unreachable, outside the window, or
# opted out of marketing.
_CLASS_FOR_CODE: dict[int, type[WhatsAppError]] = {
    131056: PairRateLimited,
    131026: Undeliverable,
    131047: OutsideWindow,
    131050: MarketingOptedOut,
}


def exception_class_for(code: int | None, *, http_status: int | None = None, type_: str = ""):
    """The exception class for a Graph error code (and HTTP status when the code says little)."""
    by_code = _class_for_code(code)
    if by_code is not None:
        return by_code
    if code == 0 and (http_status == 401 or type_ == "OAuthException"):
        return InvalidToken  # "AuthException": code 0 with an authentication failure
    if http_status == 401:
        return InvalidToken
    if http_status is not None and (http_status == 429 or http_status >= 500):
        return TransientError
    return BadRequest


def _class_for_code(code: int | None) -> type[WhatsAppError] | None:
    """The class a Graph error code alone decides, or None."""
    if code is None:
        return None
    if code in _TRANSIENT_CODES:
        return TransientError
    if code in _CLASS_FOR_CODE:
        return _CLASS_FOR_CODE[code]
    if code in _INVALID_TOKEN_CODES or 200 <= code <= 299:
        return InvalidToken
    if code in _ACCOUNT_CODES:
        return AccountError
    if code in _TEMPLATE_CODES or 132000 <= code <= 132999:
        return TemplateError
    if code in _MEDIA_CODES:
        return MediaError
    return None


def redact(text: Any, secrets: Iterable[str] = ()) -> str:
    """`text` with access tokens (ours, and anything shaped like a Meta token) removed."""
    out = "" if text is None else str(text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            out = out.replace(secret, REDACTED)
    return _TOKEN_PATTERN.sub(REDACTED, out)


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds or HTTP date); None when absent or unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def from_error_payload(
    error: Mapping[str, Any],
    *,
    http_status: int | None = None,
    retry_after: float | None = None,
    secrets: Iterable[str] = (),
) -> WhatsAppError:
    """The exception for one Graph error object (API response) or webhook `errors[]` item."""
    secrets = tuple(secrets)
    code = _as_int(error.get("code"))
    type_ = str(error.get("type") or "")
    error_data = error.get("error_data")
    details = error_data.get("details", "") if isinstance(error_data, Mapping) else ""
    kwargs: dict[str, Any] = {
        "code": code,
        "subcode": _as_int(error.get("error_subcode")),
        "title": redact(
            error.get("error_user_title")
            or error.get("title")
            or _CODE_PREFIX.sub("", str(error.get("message") or ""))
            or type_,
            secrets,
        ),
        "details": redact(details, secrets),
        "fbtrace_id": redact(error.get("fbtrace_id") or "", secrets),
        "http_status": http_status,
    }
    message = redact(error.get("message") or error.get("error_user_msg") or "", secrets)
    cls = exception_class_for(code, http_status=http_status, type_=type_)
    if issubclass(cls, TransientError | PairRateLimited):
        if retry_after is None:
            retry_after = _RETRY_AFTER_DEFAULTS.get(code, 2.0)
        kwargs["retry_after"] = retry_after
    return cls(message, **kwargs)


def classify(response: requests.Response, *, secrets: Iterable[str] = ()) -> WhatsAppError | None:
    """None for a 2xx response, else the exception that describes the failure (not raised)."""
    if 200 <= response.status_code < 300:
        return None
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    try:
        payload = response.json()
    except ValueError:
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, Mapping):
        return from_error_payload(
            error, http_status=response.status_code, retry_after=retry_after, secrets=secrets
        )
    reason = redact(response.reason or "", secrets)
    cls = exception_class_for(None, http_status=response.status_code)
    kwargs: dict[str, Any] = {
        "http_status": response.status_code,
        "title": f"HTTP {response.status_code}",
    }
    if issubclass(cls, TransientError):
        kwargs["retry_after"] = 2.0 if retry_after is None else retry_after
    return cls(reason, **kwargs)


def from_request_exception(exc: requests.RequestException) -> TransientError:
    """A timeout or connection failure as a TransientError (no URL, headers or body kept)."""
    if isinstance(exc, requests.ConnectTimeout):
        return TransientError("Timed out connecting to WhatsApp.", title="Timeout", retry_after=2.0)
    if isinstance(exc, requests.Timeout):
        return TransientError(
            "WhatsApp did not answer in time.", title="Timeout", retry_after=2.0, maybe_sent=True
        )
    return TransientError(
        f"Could not reach WhatsApp ({type(exc).__name__}).",
        title="Connection error",
        retry_after=2.0,
        maybe_sent=not _failed_before_sending(exc),
    )


def _failed_before_sending(exc: requests.RequestException) -> bool:
    """True when the connection was never opened (refused, DNS), so nothing reached Meta."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError | NameResolutionError)
