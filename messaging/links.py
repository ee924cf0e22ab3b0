"""Short-lived links to a patient's document, sent in the "your document is ready" message.

The link carries a signed token (django.core.signing, its own salt) that names only the
document's id and a random nonce: no name, number or anything else about the patient. It
expires after settings.DOCUMENT_SHARE_LINK_HOURS (default 72). The link alone does not open
the file: the page sends a one-time code to the patient's registered WhatsApp number
(compliance.verification), and only the browser that typed it back may open the file, for
SESSION_MINUTES. Each opening is audited as the patient, "via whatsapp link", code verified.
Signed-in staff are sent to the staff document page, where their own role check applies.
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
SESSION_MINUTES = 10  # how long a verified browser may open the file again
PATIENT_LABEL = "patient (WhatsApp link, code verified)"


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


def shared_file_link(kind: str, object_id: int) -> str:
    """The absolute URL a patient opens to download a file another app issued to them (a
    bill's PDF: `patients.shared_files`), protected like a document's link."""
    token = signing.dumps(
        {"k": kind, "i": int(object_id), "n": secrets.token_urlsafe(9)}, salt=SALT
    )
    return f"{site_url()}{reverse('document-share', kwargs={'token': token})}"


class LinkExpired(Exception):
    """The link was genuine but is older than DOCUMENT_SHARE_LINK_HOURS."""


class LinkInvalid(Exception):
    """The link was not made by Vaidya, or was changed."""


@dataclass(frozen=True)
class LinkTarget:
    """A patients document (`kind` "") or another app's file (`kind` names its
    `patients.shared_files` entry, `document_id` its id)."""

    document_id: int
    kind: str = ""


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
    if not isinstance(data, dict):
        raise LinkInvalid
    kind = data.get("k", "")
    document_id = data.get("i") if kind else data.get("d")
    if not isinstance(kind, str) or len(kind) > 20:
        raise LinkInvalid
    if not isinstance(document_id, int) or isinstance(document_id, bool) or document_id <= 0:
        raise LinkInvalid
    return LinkTarget(document_id=document_id, kind=kind)


@transaction.atomic
def document_link_record_open(*, document: Document) -> None:
    """Audit that the patient opened their link after proving it was them with a code
    (before the file is handed over)."""
    audit_record(
        clinic=document.clinic_id,
        actor=None,
        label=PATIENT_LABEL,
        action=Actions.DOCUMENT_DOWNLOADED,
        target=document,
        patient_id=document.patient_id,
        data={"kind": document.kind, "via": "whatsapp link", "verified": "whatsapp code"},
    )


def document_link_subject(document_id: int) -> str:
    """What a one-time code for this document unlocks (compliance.verification)."""
    return f"document:{document_id}"
