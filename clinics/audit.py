"""The audit trail: action names, writing events, sealing them into a keyed chain, verifying it.

Every service that creates, changes, signs, exports or deletes something calls `audit_record`
inside its transaction, so the event exists exactly when the change does.

Sealing: events are written unsealed (no `seq`, no hash) so writers never queue on a
clinic-wide lock. `audit_seal` (run by a django-q2 schedule every AUDIT_SEAL_INTERVAL_SECONDS,
60 s by default) takes the clinic's chain head row lock, numbers the pending events and links
each to the previous one by HMAC-SHA256 with the audit key (clinics.audit_keys), which is not in
the database. An unsealed event is not protected: it is sealed within about one interval.

Verification (`audit_verify`, `manage.py verify_audit_chain`) only reads: it checks every sealed
link with the keys, checks the chain against the heads published outside the database
(clinics.audit_heads) to catch a chain cut short, and counts unsealed events separately.

Pruning (`clinics.audit_prune.audit_prune`, called by the retention purge): events older than
the clinic's period for audit logs are deleted from the start of the chain, a batch per short
transaction. Each batch first checks the links it removes, then moves the clinic's `AuditAnchor`
(the last removed event's seq and hash, sealed with the audit key) forward in the same
transaction, so the chain verifies from the anchor onward; a changed anchor, or events removed
without moving it, show as a break. Pruning stops at the first event about a patient under a
legal hold.

Events sealed with plain SHA-256 before keyed sealing keep their digests (`key_id` empty). They
may only form the start of a chain, and migration 0008 anchored each clinic's unkeyed prefix
with the key (`AuditChainHead.legacy_*`), so they cannot be rewritten or extended either.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from clinics import audit_keys
from clinics.actors import Actor, audit_fields
from clinics.audit_actions import Actions  # noqa: F401  (importable from here)
from clinics.audit_heads import PublishedHead, published_heads
from clinics.context import get_context
from clinics.models import AuditAnchor, AuditChainHead, AuditEvent, Clinic
from clinics.tenancy import clinic_scope


def audit_record(
    *,
    clinic: Clinic | int,
    actor: Actor,
    action: str,
    target: models.Model | None = None,
    patient_id: int | None = None,
    data: dict[str, Any] | None = None,
    label: str = "",
) -> AuditEvent:
    """Append one audit event. Call it inside the service's transaction.

    `label` names who acted when it was no staff member and not Vaidya itself (actor None):
    "patient (WhatsApp link, code verified)".
    """
    ctx = get_context()
    clinic_id = clinic if isinstance(clinic, int) else clinic.pk
    fields = audit_fields(actor)
    if label and actor is None:
        fields["actor_label"] = label[:200]
    event = AuditEvent(
        clinic_id=clinic_id,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        patient_id=patient_id,
        ip=ctx.ip,
        user_agent=(ctx.user_agent or "")[:300],
        via=ctx.via,
        data=json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder)),
        **fields,
    )
    event.save(force_insert=True)
    return event


# ---------------------------------------------------------------------------------------------
# The chain


def _material(event: AuditEvent, prev_hash: str) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "prev": prev_hash,
        "clinic": event.clinic_id,
        "created_at": event.created_at.astimezone(UTC).isoformat(),
        "actor": event.actor_id,
        "api_key": event.api_key_id,
        "actor_label": event.actor_label,
        "via": event.via,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "patient_id": event.patient_id,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "data": event.data,
    }


def event_digest(event: AuditEvent, prev_hash: str, *, key: bytes | None) -> str:
    """The event's link: HMAC-SHA256 with `key` over its content, its place in the chain, the
    previous link and the key's id; plain SHA-256 (no key) for events sealed before keys."""
    material = _material(event, prev_hash)
    if key is None:
        blob = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()
    return audit_keys.mac(key, {**material, "key": event.key_id})


def audit_seal(*, clinic_id: int, batch_size: int = 2000) -> int:
    """Seal a clinic's pending audit events into its keyed chain. Returns how many were sealed.

    Idempotent and safe to run from several workers at once: the chain head row lock makes
    sealers of one clinic take turns, and only unsealed events are touched.
    """
    key_id, key = audit_keys.current_key()
    sealed = 0
    with clinic_scope(clinic_id):
        while True:
            with transaction.atomic():
                head, _ = AuditChainHead.objects.get_or_create(clinic_id=clinic_id)
                head = AuditChainHead.objects.select_for_update().get(pk=head.pk)
                pending = list(
                    AuditEvent.objects.filter(hash="").order_by("created_at", "id")[:batch_size]
                )
                if not pending:
                    return sealed
                for event in pending:
                    event.seq = head.last_seq + 1
                    event.prev_hash = head.last_hash
                    event.key_id = key_id
                    event.hash = event_digest(event, head.last_hash, key=key)
                    head.last_seq, head.last_hash = event.seq, event.hash
                AuditEvent.objects.bulk_update(pending, ["seq", "prev_hash", "key_id", "hash"])
                head.sealed_at = timezone.now()
                head.save(update_fields=["last_seq", "last_hash", "sealed_at"])
                sealed += len(pending)
            if len(pending) < batch_size:
                return sealed


@dataclass
class ChainReport:
    """What verifying one clinic's chain found. `ok` is about the sealed chain; unsealed events
    are not verified (nothing protects them yet) and are only counted."""

    ok: bool
    checked: int
    unsealed: int
    problem: str = ""
    broken_seq: int | None = None
    oldest_unsealed_at: datetime | None = None
    unkeyed: int = 0
    published: int = 0
    pruned_to: int = 0  # the chain starts after this event: the retention purge removed the rest


class _Broken(Exception):
    def __init__(self, problem: str, seq: int | None) -> None:
        super().__init__(problem)
        self.problem, self.seq = problem, seq


def _event_key(event: AuditEvent, seen_keyed: bool) -> bytes | None:
    """The key to check `event` with; None for an unkeyed (plain SHA-256) event."""
    if not event.key_id:
        if seen_keyed:
            raise _Broken(
                f"event #{event.seq} is sealed without the audit key after keyed events "
                "(the chain was rewritten)",
                event.seq,
            )
        return None
    key = audit_keys.key_for(event.key_id)
    if key is None:
        raise _Broken(
            f"event #{event.seq} was sealed with audit key {event.key_id}, which is not in "
            "AUDIT_KEYS (add the key back, or the chain was rewritten)",
            event.seq,
        )
    return key


def _check_link(event: AuditEvent, expected_seq: int, prev_hash: str, key: bytes | None) -> None:
    if event.seq != expected_seq:
        raise _Broken(
            f"event #{expected_seq} is missing (next present is #{event.seq})", expected_seq
        )
    if event.prev_hash != prev_hash:
        raise _Broken(f"event #{event.seq} does not link to #{event.seq - 1}", event.seq)
    if event_digest(event, prev_hash, key=key) != event.hash:
        raise _Broken(
            f"event #{event.seq} ({event.action}) was changed after it was sealed", event.seq
        )


def _check_published(event: AuditEvent, published: dict[int, PublishedHead]) -> None:
    head = published.get(event.seq)
    if head is not None and head.hash != event.hash:
        raise _Broken(
            f"event #{event.seq} is not the one published on {head.published_at:%Y-%m-%d %H:%M} "
            "UTC (the chain was rewritten)",
            event.seq,
        )


def _check_unkeyed_anchor(
    head: AuditChainHead | None, unkeyed: int, last_hash: str, start: int = 0
) -> None:
    """Unkeyed events are allowed only as the prefix the migration anchored with the key.

    `start` is where the chain now begins (the pruning anchor's seq): the unkeyed events kept are
    #start+1 to #start+unkeyed, and the anchored prefix must end exactly there, unless the purge
    removed all of it (then no unkeyed event may be left)."""
    anchored = head.legacy_seq if head else 0
    if anchored <= start:
        if unkeyed == 0:
            return
        raise _Broken(
            f"events #{start + 1} to #{start + unkeyed} are sealed without the audit key but "
            f"the anchor made when keyed sealing began covers only {anchored} events",
            start + 1,
        )
    key = audit_keys.key_for(head.legacy_key_id) if head else None
    material = audit_keys.legacy_anchor_material(
        clinic_id=head.clinic_id if head else 0, seq=start + unkeyed, last_hash=last_hash
    )
    if (
        start + unkeyed != anchored
        or key is None
        or audit_keys.mac(key, material) != head.legacy_mac
    ):
        raise _Broken(
            f"events #{start + 1} to #{start + unkeyed} are sealed without the audit key but do "
            f"not match the anchor made when keyed sealing began ({anchored} events)",
            start + 1,
        )


def _anchor_material(anchor: AuditAnchor) -> dict[str, Any]:
    return {
        "kind": "audit-prune-anchor",
        "clinic": anchor.clinic_id,
        "seq": anchor.seq,
        "hash": anchor.hash,
        "pruned_before": (
            anchor.pruned_before.astimezone(UTC).isoformat() if anchor.pruned_before else None
        ),
        "key": anchor.key_id,
    }


def _seal_anchor(anchor: AuditAnchor) -> None:
    anchor.key_id, key = audit_keys.current_key()
    anchor.mac = audit_keys.mac(key, _anchor_material(anchor))


def _check_anchor(anchor: AuditAnchor | None) -> tuple[int, str]:
    """(seq, hash) the kept chain starts after; a changed or unsealed anchor is a break."""
    if anchor is None or (anchor.seq == 0 and not anchor.hash and not anchor.mac):
        return 0, ""  # made by a purge that found nothing to remove yet
    key = audit_keys.key_for(anchor.key_id)
    if key is None:
        raise _Broken(
            f"the pruning anchor at #{anchor.seq} was sealed with audit key {anchor.key_id!r}, "
            "which is not in AUDIT_KEYS (add the key back, or the anchor was forged)",
            anchor.seq + 1,
        )
    if audit_keys.mac(key, _anchor_material(anchor)) != anchor.mac:
        raise _Broken(
            f"the pruning anchor at #{anchor.seq} was changed after it was sealed "
            "(events may have been removed to hide it)",
            anchor.seq + 1,
        )
    return anchor.seq, anchor.hash


def _walk(clinic_id: int, head: AuditChainHead | None, report: ChainReport) -> None:
    try:
        heads, strangers = published_heads(clinic_id=clinic_id)
    except Exception as exc:  # any storage failure: the check cannot finish
        raise _Broken(
            f"the published heads cannot be read ({type(exc).__name__}), so the chain could "
            "not be checked against them",
            None,
        ) from exc
    if strangers:
        raise _Broken(f"unexpected objects among the published heads: {strangers[0]}", None)
    published = {h.seq: h for h in heads}
    report.published = len(heads)
    start, prev_hash = _check_anchor(AuditAnchor.objects.filter(clinic_id=clinic_id).first())
    report.pruned_to = start
    pruned_head = published.get(start)
    if start and pruned_head is not None and pruned_head.hash != prev_hash:
        raise _Broken(
            f"the pruning anchor at #{start} is not the event published on "
            f"{pruned_head.published_at:%Y-%m-%d %H:%M} UTC (the chain was rewritten)",
            start + 1,
        )
    expected_seq, seen_keyed, last_unkeyed_hash = start + 1, False, ""
    events = (
        AuditEvent.objects.exclude(hash="")
        .filter(seq__gt=start)
        .order_by("seq")
        .iterator(chunk_size=2000)
    )
    for event in events:
        key = _event_key(event, seen_keyed)
        _check_link(event, expected_seq, prev_hash, key)
        _check_published(event, published)
        if key is None:
            report.unkeyed, last_unkeyed_hash = report.unkeyed + 1, event.hash
        seen_keyed = seen_keyed or key is not None
        prev_hash, expected_seq, report.checked = event.hash, expected_seq + 1, report.checked + 1
    _check_unkeyed_anchor(head, report.unkeyed, last_unkeyed_hash, start)
    end = start + report.checked
    head_seq = head.last_seq if head else 0
    if head_seq != end or (head and head.last_hash != prev_hash):
        raise _Broken(f"the chain ends at #{end} but {head_seq} events were sealed", end + 1)
    longest = max(heads, key=lambda h: h.seq, default=None)
    if longest is not None and longest.seq > end:
        raise _Broken(
            f"the chain ends at #{end} but #{longest.seq} was published on "
            f"{longest.published_at:%Y-%m-%d %H:%M} UTC (events were removed)",
            end + 1,
        )


def audit_verify(*, clinic_id: int) -> ChainReport:
    """Walk a clinic's sealed chain and report the first broken link. Reads only: never seals.

    Detects an edited event (its keyed hash no longer matches), a deleted event (a gap in `seq`
    or a `prev_hash` that does not match), a chain re-hashed without the audit key, deleted
    events at the end (the head records more, or a published head is longer or differs).
    Unsealed events are counted, with the oldest one's time, not verified.
    """
    with clinic_scope(clinic_id):
        head = AuditChainHead.objects.filter(clinic_id=clinic_id).first()
        pending = AuditEvent.objects.filter(hash="").aggregate(
            count=models.Count("id"), oldest=models.Min("created_at")
        )
        report = ChainReport(
            ok=True, checked=0, unsealed=pending["count"], oldest_unsealed_at=pending["oldest"]
        )
        try:
            _walk(clinic_id, head, report)
        except _Broken as broken:
            report.ok, report.problem, report.broken_seq = False, broken.problem, broken.seq
        return report
