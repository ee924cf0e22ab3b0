"""Inbound files: copied from WhatsApp into the clinic's storage at once (Meta's media ids
expire after 7 days), checked against the sha256 WhatsApp gives. A download that fails is
recorded on the message and tried again by the webhook task's retry."""

from __future__ import annotations

import hashlib
import logging
import mimetypes
from collections.abc import Mapping
from typing import Any

from django.core.files.base import ContentFile

from clinics.storage import object_key, storage
from messaging.models import Message, WhatsAppAccount
from messaging.services.account_state import account_client
from messaging.whatsapp import WhatsAppError

logger = logging.getLogger(__name__)

MEDIA_KINDS = {"image", "document", "audio", "video", "sticker"}
MEDIA_FAILED = "The file could not be copied from WhatsApp; Vaidya will try again."
MEDIA_BAD_CHECKSUM = "The file from WhatsApp did not match its checksum and was discarded."


def _extension(mime_type: str, filename: str) -> str:
    if "." in filename:
        ext = filename.rsplit(".", 1)[1].lower()
        if ext.isalnum() and len(ext) <= 8:
            return ext
    guessed = mimetypes.guess_extension((mime_type or "").split(";")[0].strip()) or ".bin"
    return guessed.lstrip(".")


def inbound_media_copy(
    *, account: WhatsAppAccount, message: Message, item: Mapping[str, Any]
) -> bool:
    """Copy an inbound message's file into the clinic's storage (sha256 checked). True when
    there is nothing (more) to copy; False when the download failed (recorded on the message)."""
    kind_name = str(item.get("type") or "")
    media = item.get(kind_name)
    if kind_name not in MEDIA_KINDS or not isinstance(media, dict) or message.media_file:
        return True
    media_id = str(media.get("id") or "")
    advertised = str(media.get("sha256") or "").lower()
    if not media_id:
        return True
    try:
        data = account_client(account).download_media(media_id)
        digest = hashlib.sha256(data).hexdigest()
        if advertised and digest != advertised:
            raise _ChecksumMismatch
    except (WhatsAppError, _ChecksumMismatch) as error:
        bad_checksum = (
            isinstance(error, _ChecksumMismatch)
            or "checksum" in (getattr(error, "title", "") or "").lower()
        )
        Message.objects.filter(pk=message.pk).update(
            error_title=MEDIA_BAD_CHECKSUM if bad_checksum else MEDIA_FAILED,
            error_code=getattr(error, "code", None),
        )
        logger.warning(
            "whatsapp inbound media of message %s not copied: %s",
            message.pk,
            type(error).__name__,
        )
        return False
    mime_type = message.media_mime_type or str(media.get("mime_type") or "")
    name = object_key(
        clinic_id=message.clinic_id,
        kind="whatsapp_media",
        extension=_extension(mime_type, message.media_filename),
    )
    stored = storage().save(name, ContentFile(data))
    updated = Message.objects.filter(pk=message.pk, media_file="").update(
        media_file=stored,
        media_sha256=digest,
        media_size=len(data),
        error_title="",
        error_code=None,
    )
    if not updated:  # copied concurrently by another attempt: keep that copy
        storage().delete(stored)
    message.refresh_from_db()
    return True


class _ChecksumMismatch(Exception):
    pass
