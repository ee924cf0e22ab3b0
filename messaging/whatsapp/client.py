"""A small client for the WhatsApp Business Platform (Cloud API).

One `WhatsAppClient` per sending number (a clinic's phone_number_id and its access token). All
clients in a process share one pooled `requests.Session`; the token travels per request, so
numbers of different clinics never share credentials. Nothing here knows about clinics or
patients: the messaging services build on it.

The client never retries on its own (a retried send can reach the patient twice): failures are
raised as the classes in `messaging.whatsapp.errors`, which say what to do. It never logs the
token, recipients' numbers or message bodies.

Settings (read with defaults, so none is required):
    WHATSAPP_API_BASE_URL            "https://graph.facebook.com"
    WHATSAPP_GRAPH_VERSION           "v25.0"
    WHATSAPP_TIMEOUT_SECONDS         20 (read timeout)
    WHATSAPP_CONNECT_TIMEOUT_SECONDS 5
    WHATSAPP_HTTP_POOL_SIZE          10 (connections kept per host, per process)
    WHATSAPP_MAX_MEDIA_BYTES         100 MiB (largest download accepted)
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from messaging.whatsapp.errors import (
    InvalidMessage,
    MediaError,
    WhatsAppError,
    classify,
    from_request_exception,
)

logger = logging.getLogger("messaging.whatsapp")

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_GRAPH_VERSION = "v25.0"
DEFAULT_TIMEOUT_SECONDS = 20.0
DEFAULT_CONNECT_TIMEOUT_SECONDS = 5.0
DEFAULT_POOL_SIZE = 10
DEFAULT_MAX_MEDIA_BYTES = 100 * 1024 * 1024

MAX_TEXT_CHARS = 4096
MAX_CAPTION_CHARS = 1024
MAX_CALLBACK_DATA_BYTES = 512
# Interactive list messages (Meta's documented limits).
MAX_LIST_ROWS = 10
MAX_LIST_BUTTON_CHARS = 20
MAX_ROW_TITLE_CHARS = 24
MAX_ROW_ID_CHARS = 200
MAX_ROW_DESCRIPTION_CHARS = 72
USER_AGENT = "Vaidya-WhatsApp/1"

_DIGITS = re.compile(r"\d{8,15}")
_NUMBER_SEPARATORS = re.compile(r"[\s\-().]")
_GRAPH_ID = re.compile(r"[A-Za-z0-9_.:-]+")

# --- the shared session -------------------------------------------------------------------------
_session_lock = threading.Lock()
_session: requests.Session | None = None
_session_pid: int | None = None


@functools.lru_cache(maxsize=32)
def _environment(origin: str) -> tuple[dict[str, str], Any]:
    """Proxies (HTTPS_PROXY, NO_PROXY, ...) and the CA bundle (REQUESTS_CA_BUNDLE) for an
    origin, read from the environment once per process. requests re-reads the environment on
    every call (about 1 ms each), so the shared session does not trust it and this does."""
    proxies = requests.utils.get_environ_proxies(origin)
    verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return proxies, verify


def shared_session() -> requests.Session:
    """This process's pooled session (a fresh one after a fork: sockets must not be shared)."""
    global _session, _session_pid
    pid = os.getpid()
    with _session_lock:
        if _session is None or _session_pid != pid:
            pool_size = int(getattr(settings, "WHATSAPP_HTTP_POOL_SIZE", DEFAULT_POOL_SIZE))
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            session.headers["User-Agent"] = USER_AGENT
            session.trust_env = False  # see _environment
            _session, _session_pid = session, pid
        return _session


class _BearerAuth(AuthBase):
    """Sets the bearer token per request. Passing it as `auth` also stops requests from
    replacing it with ~/.netrc credentials, and it is not re-sent after a cross-host redirect."""

    def __init__(self, token: str):
        self._token = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "<BearerAuth [redacted]>"


# --- results and input checks -------------------------------------------------------------------
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


def _check_text(value: str, *, limit: int, what: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidMessage(f"The {what} is empty.", title=f"Invalid {what}")
    if len(value) > limit:
        raise InvalidMessage(
            f"The {what} has {len(value):,} characters; WhatsApp allows at most {limit:,}.",
            title=f"{what.capitalize()} too long",
        )


def _check_callback_data(callback_data: str | None) -> None:
    if callback_data is None:
        return
    size = len(callback_data.encode("utf-8"))
    if size > MAX_CALLBACK_DATA_BYTES:
        raise InvalidMessage(
            f"The callback data is {size} bytes; WhatsApp allows at most "
            f"{MAX_CALLBACK_DATA_BYTES}.",
            title="Callback data too long",
        )


def _check_graph_id(value: str, what: str) -> str:
    value = str(value or "").strip()
    if not _GRAPH_ID.fullmatch(value):
        raise InvalidMessage(f"The {what} is missing or malformed.", title=f"Invalid {what}")
    return value


def _parameters(params: Sequence[Any] | Mapping[str, Any]) -> list[dict[str, Any]]:
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


# --- the client ---------------------------------------------------------------------------------
class WhatsAppClient:
    """Calls the Cloud API for one sending number. See the module docstring for settings."""

    def __init__(
        self,
        phone_number_id: str,
        access_token: str,
        *,
        base_url: str | None = None,
        version: str | None = None,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] | None = None,
    ):
        self.phone_number_id = _check_graph_id(phone_number_id, "phone number id")
        if not access_token:
            raise InvalidMessage("The WhatsApp access token is missing.", title="Invalid token")
        self._token = access_token
        self._auth = _BearerAuth(access_token)
        base = base_url or getattr(settings, "WHATSAPP_API_BASE_URL", DEFAULT_BASE_URL)
        self.base_url = base.rstrip("/")
        self.version = version or getattr(settings, "WHATSAPP_GRAPH_VERSION", DEFAULT_GRAPH_VERSION)
        self._session = session
        self.timeout = self._timeouts(timeout)
        self.max_media_bytes = int(
            getattr(settings, "WHATSAPP_MAX_MEDIA_BYTES", DEFAULT_MAX_MEDIA_BYTES)
        )

    def __repr__(self) -> str:
        return f"<WhatsAppClient phone_number_id={self.phone_number_id}>"

    @staticmethod
    def _timeouts(timeout: float | tuple[float, float] | None) -> tuple[float, float]:
        connect = float(
            getattr(settings, "WHATSAPP_CONNECT_TIMEOUT_SECONDS", DEFAULT_CONNECT_TIMEOUT_SECONDS)
        )
        if isinstance(timeout, tuple):
            return float(timeout[0]), float(timeout[1])
        read = timeout or getattr(settings, "WHATSAPP_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)
        return min(connect, float(read)), float(read)

    @property
    def session(self) -> requests.Session:
        return self._session or shared_session()

    # --- sending --------------------------------------------------------------------------------
    def send_text(
        self,
        to: str,
        body: str,
        *,
        preview_url: bool = False,
        reply_to: str | None = None,
        callback_data: str | None = None,
    ) -> SendResult:
        """A free-form text (only inside the 24-hour window; else OutsideWindow is raised)."""
        _check_text(body, limit=MAX_TEXT_CHARS, what="message text")
        message: dict[str, Any] = {"text": {"body": body, "preview_url": bool(preview_url)}}
        if reply_to:
            message["context"] = {"message_id": reply_to}
        return self._send(to, "text", message, callback_data)

    def send_template(
        self,
        to: str,
        name: str,
        language: str,
        *,
        header_params: Sequence[Any] | Mapping[str, Any] = (),
        body_params: Sequence[Any] | Mapping[str, Any] = (),
        buttons: Sequence[str | tuple[int, str]] = (),
        callback_data: str | None = None,
    ) -> SendResult:
        """An approved template. `body_params`/`header_params`: positional values ({{1}}, ...),
        a mapping for named ones, or ready parameter dicts (currency, date_time, document).
        `buttons`: quick-reply payloads, each a string (its index is its position) or an
        `(index, payload)` pair."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidMessage("The template name is empty.", title="Invalid template")
        if not isinstance(language, str) or not language.strip():
            raise InvalidMessage("The template language is empty.", title="Invalid template")
        components: list[dict[str, Any]] = []
        if header_params:
            components.append({"type": "header", "parameters": _parameters(header_params)})
        if body_params:
            components.append({"type": "body", "parameters": _parameters(body_params)})
        for position, button in enumerate(buttons):
            index, payload = button if isinstance(button, tuple) else (position, button)
            _check_callback_data(payload)  # payloads share the 512-byte cap in practice
            components.append(
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": str(index),
                    "parameters": [{"type": "payload", "payload": payload}],
                }
            )
        template: dict[str, Any] = {"name": name, "language": {"code": language}}
        if components:
            template["components"] = components
        return self._send(to, "template", {"template": template}, callback_data)

    def send_list(
        self,
        to: str,
        *,
        body: str,
        button: str,
        rows: Sequence[Mapping[str, str]],
        section_title: str = "",
        callback_data: str | None = None,
    ) -> SendResult:
        """An interactive list (only inside the 24-hour window): `button` opens it, each row
        `{"id", "title", "description"?}` is one choice; the patient's pick comes back as an
        `interactive.list_reply` with the row's id and title."""
        _check_text(body, limit=MAX_TEXT_CHARS, what="list text")
        _check_text(button, limit=MAX_LIST_BUTTON_CHARS, what="list button")
        if not rows or len(rows) > MAX_LIST_ROWS:
            raise InvalidMessage(
                f"A list has 1 to {MAX_LIST_ROWS} rows.", title="Invalid list message"
            )
        checked = []
        for row in rows:
            _check_text(row.get("id", ""), limit=MAX_ROW_ID_CHARS, what="row id")
            _check_text(row.get("title", ""), limit=MAX_ROW_TITLE_CHARS, what="row title")
            item = {"id": row["id"], "title": row["title"]}
            if row.get("description"):
                _check_text(
                    row["description"], limit=MAX_ROW_DESCRIPTION_CHARS, what="row description"
                )
                item["description"] = row["description"]
            checked.append(item)
        section: dict[str, Any] = {"rows": checked}
        if section_title:
            _check_text(section_title, limit=MAX_ROW_TITLE_CHARS, what="section title")
            section["title"] = section_title
        interactive = {
            "type": "list",
            "body": {"text": body},
            "action": {"button": button, "sections": [section]},
        }
        return self._send(to, "interactive", {"interactive": interactive}, callback_data)

    def send_document(
        self,
        to: str,
        *,
        media_id: str | None = None,
        link: str | None = None,
        filename: str,
        caption: str | None = None,
        callback_data: str | None = None,
    ) -> SendResult:
        """A document by uploaded media id or by https link (give exactly one)."""
        if bool(media_id) == bool(link):
            raise InvalidMessage(
                "Give either an uploaded media id or a link for the document, not both.",
                title="Invalid document",
            )
        if not filename or not filename.strip():
            raise InvalidMessage("The document needs a file name.", title="Invalid document")
        document: dict[str, Any] = {"id": media_id} if media_id else {"link": link}
        document["filename"] = filename
        if caption is not None:
            _check_text(caption, limit=MAX_CAPTION_CHARS, what="caption")
            document["caption"] = caption
        return self._send(to, "document", {"document": document}, callback_data)

    def _send(
        self, to: str, type_: str, message: dict[str, Any], callback_data: str | None
    ) -> SendResult:
        _check_callback_data(callback_data)
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": normalize_number(to),
            "type": type_,
            **message,
        }
        if callback_data is not None:
            body["biz_opaque_callback_data"] = callback_data
        data = self._call("POST", f"{self.phone_number_id}/messages", json=body, what=type_).json()
        try:
            contact = (data.get("contacts") or [{}])[0]
            sent = data["messages"][0]
            return SendResult(
                wamid=sent["id"],
                wa_id=contact.get("wa_id", ""),
                input=contact.get("input", ""),
                message_status=sent.get("message_status", ""),
            )
        except (KeyError, IndexError, TypeError, AttributeError):
            raise WhatsAppError(
                "WhatsApp accepted the call but its answer had no message id.",
                title="Unexpected response",
            ) from None

    # --- media ----------------------------------------------------------------------------------
    def upload_media(self, data: bytes, mime_type: str, filename: str) -> str:
        """Upload a file (kept by Meta for 30 days); returns its media id."""
        if not data:
            raise InvalidMessage("The file is empty.", title="Invalid media")
        if not mime_type or "/" not in mime_type:
            raise InvalidMessage("The file's type is missing.", title="Invalid media")
        response = self._call(
            "POST",
            f"{self.phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename or "file", data, mime_type)},
            what="media upload",
        )
        media_id = (response.json() or {}).get("id")
        if not media_id:
            raise MediaError("WhatsApp did not return a media id.", title="Upload failed")
        return str(media_id)

    def media_info(self, media_id: str) -> dict[str, Any]:
        """`{url, mime_type, sha256, file_size}` for a media id (the url lives ~5 minutes)."""
        media_id = _check_graph_id(media_id, "media id")
        data = self._call(
            "GET", media_id, params={"phone_number_id": self.phone_number_id}, what="media info"
        ).json()
        try:
            return {
                "url": str(data["url"]),
                "mime_type": str(data.get("mime_type", "")),
                "sha256": str(data.get("sha256", "")).lower(),
                "file_size": int(data.get("file_size") or 0),
            }
        except (KeyError, TypeError, ValueError):
            raise MediaError("WhatsApp's media answer had no url.", title="Media error") from None

    def download_media(self, media_id: str) -> bytes:
        """The file's bytes, refused (MediaError) unless they match the sha256 Meta reported."""
        info = self.media_info(media_id)
        url = info["url"]
        scheme = urlsplit(url).scheme
        if scheme != "https" and not (scheme == "http" and self.base_url.startswith("http://")):
            raise MediaError("WhatsApp gave a media url that is not https.", title="Media error")
        if info["file_size"] > self.max_media_bytes:
            raise MediaError("The file is larger than Vaidya accepts.", title="Media too large")
        response = self._call("GET", url, absolute=True, stream=True, what="media download")
        with response:
            chunks, size = [], 0
            try:
                for chunk in response.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > self.max_media_bytes:
                        raise MediaError(
                            "The file is larger than Vaidya accepts.", title="Media too large"
                        )
                    chunks.append(chunk)
            except requests.RequestException as exc:
                raise from_request_exception(exc) from None
        content = b"".join(chunks)
        expected = info["sha256"]
        if not expected or hashlib.sha256(content).hexdigest() != expected:
            logger.warning(
                "whatsapp media failed its sha256 check phone_number_id=%s", self.phone_number_id
            )
            raise MediaError(
                "The downloaded file does not match its sha256 checksum; it was discarded.",
                title="Media checksum mismatch",
            )
        if info["file_size"] and info["file_size"] != len(content):
            raise MediaError("The downloaded file has the wrong size.", title="Media error")
        return content

    # --- templates and account ------------------------------------------------------------------
    def list_templates(self, waba_id: str, *, page_size: int = 100) -> list[dict[str, Any]]:
        """Every message template of a WhatsApp Business Account, following the pages."""
        waba_id = _check_graph_id(waba_id, "WhatsApp Business Account id")
        templates: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": page_size}
        for _page in range(1000):
            data = self._call(
                "GET", f"{waba_id}/message_templates", params=params, what="template list"
            ).json()
            templates.extend(data.get("data") or [])
            paging = data.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                break
            params = {"limit": page_size, "after": after}
        return templates

    def create_template(
        self,
        waba_id: str,
        name: str,
        language: str,
        category: str,
        components: Iterable[Mapping[str, Any]],
        *,
        parameter_format: str | None = None,
    ) -> dict[str, Any]:
        """Submit a template for Meta's review; returns `{id, status, category}`.
        `parameter_format="NAMED"` for {{name}} placeholders (Meta assumes POSITIONAL)."""
        waba_id = _check_graph_id(waba_id, "WhatsApp Business Account id")
        body: dict[str, Any] = {
            "name": name,
            "language": language,
            "category": category,
            "components": [dict(c) for c in components],
        }
        if parameter_format:
            body["parameter_format"] = parameter_format
        return self._call(
            "POST", f"{waba_id}/message_templates", json=body, what="template create"
        ).json()

    def test_connection(self) -> dict[str, Any]:
        """The phone number object (display number, verified name, quality); raises on failure."""
        return self._call(
            "GET",
            self.phone_number_id,
            params={"fields": "id,display_phone_number,verified_name,quality_rating"},
            what="test connection",
        ).json()

    # --- transport ------------------------------------------------------------------------------
    def _call(
        self, method: str, path: str, *, absolute: bool = False, what: str = "", **kwargs
    ) -> requests.Response:
        url = path if absolute else f"{self.base_url}/{quote(self.version)}/{path}"
        parts = urlsplit(url)
        proxies, verify = _environment(f"{parts.scheme}://{parts.netloc}")
        kwargs.setdefault("proxies", proxies)
        kwargs.setdefault("verify", verify)
        try:
            response = self.session.request(
                method, url, auth=self._auth, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as exc:
            error = from_request_exception(exc)
            self._log_failure(what, error)
            raise error from None
        error = classify(response, secrets=(self._token,))
        if error is not None:
            response.close()
            self._log_failure(what, error)
            raise error
        return response

    def _log_failure(self, what: str, error: WhatsAppError) -> None:
        logger.warning(
            "whatsapp %s failed phone_number_id=%s error=%s code=%s http_status=%s fbtrace_id=%s",
            what,
            self.phone_number_id,
            type(error).__name__,
            error.code,
            error.http_status,
            error.fbtrace_id,
        )
