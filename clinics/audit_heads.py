"""Each clinic's audit chain head, published outside the database.

The keyed chain (clinics.audit) stops anyone without the audit key from changing or inserting
events, but cutting off the newest events and rolling the head back leaves a shorter chain that
is still valid. So a schedule (`vaidya.audit_publish_heads`) writes each clinic's head, when it
changed, to places the database does not control:

- a new object in the document store (local storage or S3/R2), never overwritten:
  `audit-heads/<clinic id>/<UTC time>-<seq>-<hash>-<random>.json`; the name alone carries what
  verification compares, so checking reads one listing, not every object;
- one log line `audit_head_published {json}` (ship the logs elsewhere to keep that copy safe).

Verification (`audit_verify`) then reports a published head the chain no longer contains (the
chain was cut short or rewritten). The names hold ids, counts and hashes: no personal data.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.files.base import ContentFile
from django.utils import timezone

from clinics.models import AuditChainHead
from clinics.storage import storage

logger = logging.getLogger(__name__)

HEADS_PREFIX = "audit-heads"
_NAME = re.compile(r"^(?P<stamp>\d{8}T\d{6}Z)-(?P<seq>\d+)-(?P<hash>[0-9a-f]{64})-[^/]*\.json$")


@dataclass(frozen=True)
class PublishedHead:
    """One publication of a clinic's chain head: event #seq had `hash` at `published_at`."""

    name: str
    seq: int
    hash: str
    published_at: datetime


def heads_folder(clinic_id: int) -> str:
    return f"{HEADS_PREFIX}/{clinic_id}"


def audit_head_publish(*, clinic_id: int) -> PublishedHead | None:
    """Publish the clinic's chain head if it changed since the last publication.

    Call inside the clinic's scope (the schedule uses `for_each_clinic`). Idempotent: an
    unchanged head is not published again. Publishing twice (two workers at once) only adds an
    object with the same content. Returns what was published, or None.
    """
    head = AuditChainHead.objects.filter(clinic_id=clinic_id).first()
    if head is None or head.last_seq == 0 or head.last_seq == head.published_seq:
        return None
    if head.last_seq < head.published_seq:
        logger.error(
            "The audit chain head of clinic %s went back from #%s to #%s since it was published",
            clinic_id,
            head.published_seq,
            head.last_seq,
        )
    now = timezone.now()
    record = {
        "clinic": clinic_id,
        "seq": head.last_seq,
        "hash": head.last_hash,
        "sealed_at": head.sealed_at.astimezone(UTC).isoformat() if head.sealed_at else None,
        "published_at": now.astimezone(UTC).isoformat(),
    }
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = (
        f"{heads_folder(clinic_id)}/{stamp}-{head.last_seq}-{head.last_hash}-"
        f"{uuid.uuid4().hex[:8]}.json"
    )
    saved = storage().save(name, ContentFile(json.dumps(record, sort_keys=True).encode()))
    logger.info("audit_head_published %s", json.dumps(record, sort_keys=True))
    AuditChainHead.objects.filter(pk=head.pk).update(published_seq=head.last_seq, published_at=now)
    return PublishedHead(saved, head.last_seq, head.last_hash, now)


def published_heads(*, clinic_id: int) -> tuple[list[PublishedHead], list[str]]:
    """Every head published for the clinic, oldest first, and the names in its folder that are
    not publications (which verification reports: nothing else belongs there)."""
    try:
        _, names = storage().listdir(heads_folder(clinic_id))
    except FileNotFoundError:  # local storage before the first publication
        return [], []
    heads: list[PublishedHead] = []
    strangers: list[str] = []
    for name in sorted(names):
        match = _NAME.match(name)
        if match is None:
            strangers.append(name)
            continue
        published_at = datetime.strptime(match["stamp"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        heads.append(PublishedHead(name, int(match["seq"]), match["hash"], published_at))
    return heads, strangers
