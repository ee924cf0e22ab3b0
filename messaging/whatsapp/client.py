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

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from django.conf import settings

from messaging.whatsapp.errors import (
    InvalidMessage,
    MediaError,
    WhatsAppError,
    classify,
    from_request_exception,
)
from messaging.whatsapp.payloads import (
    MAX_CAPTION_CHARS,
    MAX_TEXT_CHARS,
    SendResult,
    check_callback_data,
    check_graph_id,
    check_text,
    list_interactive,
    normalize_number,
    template_components,
)
from messaging.whatsapp.session import BearerAuth, request_environment, shared_session

logger = logging.getLogger("messaging.whatsapp")

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_GRAPH_VERSION = "v25.0"
DEFAULT_TIMEOUT_SECONDS = 20.0
DEFAULT_CONNECT_TIMEOUT_SECONDS = 5.0
DEFAULT_MAX_MEDIA_BYTES = 100 * 1024 * 1024


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
        self.phone_number_id = check_graph_id(phone_number_id, "phone number id")
        if not access_token:
            raise InvalidMessage("The WhatsApp access token is missing.", title="Invalid token")
        self._token = access_token
        self._auth = BearerAuth(access_token)
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
        check_text(body, limit=MAX_TEXT_CHARS, what="message text")
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
        copy_code: str | None = None,
        callback_data: str | None = None,
    ) -> SendResult:
        """An approved template. `body_params`/`header_params`: positional values ({{1}}, ...),
        a mapping for named ones, or ready parameter dicts (currency, date_time, document).
        `buttons`: quick-reply payloads, each a string (its index is its position) or an
        `(index, payload)` pair. `copy_code`: the code an authentication template's copy-code
        button copies (Meta's format: the same code as the body's one value)."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidMessage("The template name is empty.", title="Invalid template")
        if not isinstance(language, str) or not language.strip():
            raise InvalidMessage("The template language is empty.", title="Invalid template")
        components = template_components(
            header_params=header_params,
            body_params=body_params,
            buttons=buttons,
            copy_code=copy_code,
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
        interactive = list_interactive(
            body=body, button=button, rows=rows, section_title=section_title
        )
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
            check_text(caption, limit=MAX_CAPTION_CHARS, what="caption")
            document["caption"] = caption
        return self._send(to, "document", {"document": document}, callback_data)

    def _send(
        self, to: str, type_: str, message: dict[str, Any], callback_data: str | None
    ) -> SendResult:
        check_callback_data(callback_data)
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
        media_id = check_graph_id(media_id, "media id")
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
        waba_id = check_graph_id(waba_id, "WhatsApp Business Account id")
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
        waba_id = check_graph_id(waba_id, "WhatsApp Business Account id")
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
        proxies, verify = request_environment(f"{parts.scheme}://{parts.netloc}")
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
