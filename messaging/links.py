"""Short-lived links to a patient's document, sent in the "your document is ready" message.

The link carries a signed token (django.core.signing, its own salt) that names only the
document's id and a random nonce: no name, number or anything else about the patient. It
expires after settings.DOCUMENT_SHARE_LINK_HOURS (default 72). Opening it is audited as a
download by no staff member, "via whatsapp link".
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse

from clinics.audit import Actions, audit_record
from patients.models import Document

SALT = "vaidya.messaging.document-link"
DEFAULT_HOURS = 72


def link_max_age_seconds() -> int:
    return int(getattr(settings, "DOCUMENT_SHARE_LINK_HOURS", DEFAULT_HOURS)) * 3600


def site_url() -> str:
    return str(getattr(settings, "SITE_URL", "http://127.0.0.1:8000")).rstrip("/")


def document_link_token(document: Document | int) -> str:
    document_id = document if isinstance(document, int) else document.pk
    return signing.dumps({"d": int(document_id), "n": secrets.token_urlsafe(9)}, salt=SALT)


def document_link(document: Document | int) -> str:
    """The absolute URL a patient opens to download the document (expires; see module doc)."""
    path = reverse("document-share", kwargs={"token": document_link_token(document)})
    return f"{site_url()}{path}"


class LinkExpired(Exception):
    """The link was genuine but is older than DOCUMENT_SHARE_LINK_HOURS."""


class LinkInvalid(Exception):
    """The link was not made by Vaidya, or was changed."""


@dataclass(frozen=True)
class LinkTarget:
    document_id: int


def read_document_link(token: str) -> LinkTarget:
    """The document a link token names; raises LinkExpired or LinkInvalid."""
    if not isinstance(token, str) or not 10 <= len(token) <= 300:
        raise LinkInvalid
    try:
        data = signing.loads(token, salt=SALT, max_age=link_max_age_seconds())
    except signing.SignatureExpired:
        raise LinkExpired from None
    except signing.BadSignature:
        raise LinkInvalid from None
    document_id = data.get("d") if isinstance(data, dict) else None
    if not isinstance(document_id, int) or isinstance(document_id, bool) or document_id <= 0:
        raise LinkInvalid
    return LinkTarget(document_id=document_id)


@transaction.atomic
def document_link_record_open(*, document: Document) -> None:
    """Audit that the patient's link was opened (before the file is handed over)."""
    audit_record(
        clinic=document.clinic_id,
        actor=None,
        action=Actions.DOCUMENT_DOWNLOADED,
        target=document,
        patient_id=document.patient_id,
        data={"kind": document.kind, "via": "whatsapp link"},
    )
