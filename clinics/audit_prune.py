"""Pruning the audit trail for the retention purge: deleting a clinic's oldest sealed events
from the start of its hash chain behind the sealed anchor (`AuditAnchor`) that
`clinics.audit.audit_verify` starts from. Apart from `clinics.audit` because it is the one
path that deletes events; the links are checked with the same helpers as verification.
"""

from __future__ import annotations

import time
from datetime import datetime

from django.db import router, transaction
from django.db.models.sql import DeleteQuery
from django.utils import timezone

from clinics.audit import _Broken, _check_anchor, _check_link, _event_key, _seal_anchor
from clinics.models import AuditAnchor, AuditChainHead, AuditEvent
from clinics.tenancy import clinic_scope

PRUNE_BATCH_SECONDS = 0.3  # a batch's transaction should take about this long, never seconds


class AuditPruneRefused(Exception):
    """The part of the chain due for pruning does not verify: pruning it would hide that."""


def _prunable(
    events: list[AuditEvent],
    start: int,
    prev_hash: str,
    before: datetime,
    held: set[int],
    legacy_seq: int,
) -> list[AuditEvent]:
    """The leading events of `events` (the next ones after the anchor) that may go: older than
    `before`, not about a held patient, each checked as a sound link first."""
    taken: list[AuditEvent] = []
    seen_keyed = start >= legacy_seq  # past the anchored unkeyed prefix, every event is keyed
    for event in events:
        held_patient = event.patient_id is not None and event.patient_id in held
        if event.created_at >= before or held_patient:
            break
        try:
            key = _event_key(event, seen_keyed)
            _check_link(event, start + len(taken) + 1, prev_hash, key)
        except _Broken as broken:
            raise AuditPruneRefused(broken.problem) from broken
        seen_keyed = seen_keyed or key is not None
        prev_hash = event.hash
        taken.append(event)
    return taken


def audit_prune(
    *,
    clinic_id: int,
    before: datetime,
    held_patients: set[int] | frozenset[int] = frozenset(),
    batch_size: int = 2000,
    dry_run: bool = False,
) -> int:
    """Delete the clinic's sealed audit events created before `before`, from the start of the
    chain, moving its sealed anchor forward. Returns how many went (or would go, `dry_run`).

    Call outside any transaction: each batch is its own short transaction (lock the anchor,
    check the batch's links, move the anchor, delete the batch), shrinking when a batch was slow.
    Stops at the first event that is newer than `before`, not sealed yet, or about a patient in
    `held_patients` (a legal hold keeps that event and every later one). Raises
    AuditPruneRefused, deleting nothing more, when the events it would remove do not verify.
    Safe to re-run and to run from two workers at once (the anchor row lock makes them take
    turns).
    """
    held = set(held_patients)
    done, size = 0, batch_size
    with clinic_scope(clinic_id):
        head = AuditChainHead.objects.filter(clinic_id=clinic_id).first()
        legacy_seq = head.legacy_seq if head else 0
        if dry_run:
            anchor = AuditAnchor.objects.filter(clinic_id=clinic_id).first()
            start, prev_hash = (anchor.seq, anchor.hash) if anchor else (0, "")
            while True:
                events = list(
                    AuditEvent.objects.exclude(hash="")
                    .filter(seq__gt=start)
                    .order_by("seq")[:batch_size]
                )
                taken = _prunable(events, start, prev_hash, before, held, legacy_seq)
                done += len(taken)
                if len(taken) < len(events) or len(events) < batch_size:
                    return done
                start, prev_hash = taken[-1].seq, taken[-1].hash
        AuditAnchor.objects.get_or_create(clinic_id=clinic_id)
        while True:
            started = time.monotonic()
            with transaction.atomic():
                anchor = AuditAnchor.objects.select_for_update().get(clinic_id=clinic_id)
                try:
                    _check_anchor(anchor)
                except _Broken as broken:
                    raise AuditPruneRefused(broken.problem) from broken
                events = list(
                    AuditEvent.objects.exclude(hash="")
                    .filter(seq__gt=anchor.seq)
                    .order_by("seq")[:size]
                )
                taken = _prunable(events, anchor.seq, anchor.hash, before, held, legacy_seq)
                if not taken:
                    return done
                anchor.seq, anchor.hash = taken[-1].seq, taken[-1].hash
                anchor.pruned_before = before
                anchor.pruned += len(taken)
                anchor.updated_at = timezone.now()
                _seal_anchor(anchor)
                anchor.save()
                # AuditEvent's manager refuses deletes everywhere else; this is the one path.
                DeleteQuery(AuditEvent).delete_batch(
                    [e.pk for e in taken], router.db_for_write(AuditEvent)
                )
                done += len(taken)
            took = time.monotonic() - started
            if len(taken) < len(events) or len(events) < size:
                return done
            if took > PRUNE_BATCH_SECONDS:
                size = max(100, size // 2)
            elif took < PRUNE_BATCH_SECONDS / 3:
                size = min(batch_size * 4, size * 2)
