"""Error tracking that never carries a patient's data.

Sentry starts only when SENTRY_DSN is set. `send_default_pii` stays off, and `scrub_event`
removes request bodies, cookies, headers that identify a person, and any value whose key names
personal or clinical data, wherever it sits in the event (extra, contexts, breadcrumbs, frames).
"""

from __future__ import annotations

import re
from typing import Any

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration

FILTERED = "[filtered]"

# Keys whose values are personal or clinical data, or secrets. Matched as substrings of the
# lower-cased key, so "patient_phone" and "guardian_name" are caught too.
SENSITIVE_KEY_PARTS = (
    "name",
    "phone",
    "whatsapp",
    "email",
    "dob",
    "birth",
    "address",
    "abha",
    "aadhaar",
    "allerg",
    "condition",
    "diagnos",
    "complaint",
    "note",
    "prescription",
    "blood",
    "emergency",
    "guardian",
    "password",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "cookie",
    "session",
    "csrf",
    "otp",
    "text",
    "body",
)
_SENSITIVE_RE = re.compile("|".join(re.escape(p) for p in SENSITIVE_KEY_PARTS))
# Exact keys that contain a sensitive part but are safe and useful to keep.
SAFE_KEYS = frozenset({"filename", "module", "function", "abs_path", "context_line"})


def _is_sensitive(key: Any) -> bool:
    if not isinstance(key, str) or key in SAFE_KEYS:
        return False
    return bool(_SENSITIVE_RE.search(key.lower()))


def _scrub(value: Any, depth: int = 0) -> Any:
    if depth > 20:
        return FILTERED
    if isinstance(value, dict):
        return {
            k: (FILTERED if _is_sensitive(k) else _scrub(v, depth + 1)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(v, depth + 1) for v in value]
    return value


KEPT_HEADERS = frozenset({"content-type", "content-length", "accept", "user-agent", "host"})


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Remove personal data from a Sentry event before it leaves the process."""
    _scrub_request(event)
    _scrub_user(event)
    for section in ("extra", "contexts", "tags"):
        if section in event:
            event[section] = _scrub(event[section])
    _scrub_breadcrumbs(event)
    _scrub_frames(event)
    if "logentry" in event and isinstance(event["logentry"], dict):
        event["logentry"]["params"] = FILTERED
    return event


def _scrub_request(event: dict[str, Any]) -> None:
    """No body, cookies, query string or environment; only headers that name no one."""
    request = event.get("request")
    if not isinstance(request, dict):
        return
    for field in ("data", "cookies", "query_string", "env"):
        if field in request:
            request[field] = FILTERED
    headers = request.get("headers")
    if isinstance(headers, dict):
        request["headers"] = {k: v for k, v in headers.items() if k.lower() in KEPT_HEADERS}
    # The path may carry ids but no names; query strings were removed above.


def _scrub_user(event: dict[str, Any]) -> None:
    """The user's id only."""
    if "user" in event:
        user = event["user"]
        event["user"] = {"id": user.get("id")} if isinstance(user, dict) and "id" in user else {}


def _scrub_breadcrumbs(event: dict[str, Any]) -> None:
    breadcrumbs = event.get("breadcrumbs")
    if not (isinstance(breadcrumbs, dict) and isinstance(breadcrumbs.get("values"), list)):
        return
    for crumb in breadcrumbs["values"]:
        if not isinstance(crumb, dict):
            continue
        if crumb.get("category") in {"query", "django.db"}:
            # SQL parameters can hold a patient's name or phone.
            crumb.pop("data", None)
        if "data" in crumb:
            crumb["data"] = _scrub(crumb["data"])


def _scrub_frames(event: dict[str, Any]) -> None:
    """Local variables of every stack frame of every exception."""
    for exc in (event.get("exception") or {}).get("values", []) or []:
        for frame in (exc.get("stacktrace") or {}).get("frames", []) or []:
            if "vars" in frame:
                frame["vars"] = _scrub(frame["vars"])


def init_sentry(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    """Start error tracking (settings call this only when SENTRY_DSN is set)."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        traces_sample_rate=traces_sample_rate,
        before_send=scrub_event,
        before_send_transaction=scrub_event,
    )
