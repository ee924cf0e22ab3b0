"""Background tasks of the clinics app (run by django-q2; see clinics/schedules.py)."""

from __future__ import annotations

from clinics.api.base import idempotency_cutoff
from clinics.audit import audit_seal
from clinics.audit_heads import audit_head_publish
from clinics.models import AuditChainHead, AuditEvent, IdempotencyRecord
from clinics.recovery import waiting_work_requeue
from clinics.tenancy import clinic_ids_with, for_each_clinic


def clinics_with_unsealed_events() -> list[int]:
    """Ids of clinics that have audit events not yet sealed into their chain."""
    return clinic_ids_with(AuditEvent, hash="")


def audit_seal_pending() -> dict[int, int]:
    """Seal the pending audit events of every clinic into that clinic's hash chain.

    Runs every AUDIT_SEAL_INTERVAL_SECONDS (rounded up to whole minutes) from the
    `vaidya.audit_seal_pending` schedule. Idempotent: a second run right after the first finds
    nothing to seal, and two runs at once take turns on each clinic's chain head lock. One
    clinic's failure does not stop the others; the task fails at the end so django-q2 records it.
    Returns {clinic id: events sealed} for the clinics that had pending events.
    """
    sealed = for_each_clinic(
        lambda clinic_id: audit_seal(clinic_id=clinic_id),
        name="Sealing the audit trail",
        clinic_ids=clinics_with_unsealed_events(),
    )
    return {clinic_id: count for clinic_id, count in sealed.items() if count}


def audit_publish_heads() -> dict[int, int]:
    """Publish every clinic's audit chain head outside the database, when it changed.

    Runs every AUDIT_PUBLISH_INTERVAL_MINUTES from the `vaidya.audit_publish_heads` schedule:
    a new object under `audit-heads/` in the document store and a log line per clinic (see
    clinics/audit_heads.py). Idempotent: an unchanged head is not published again. Returns
    {clinic id: published seq} for the clinics published this time.
    """
    published = for_each_clinic(
        lambda clinic_id: audit_head_publish(clinic_id=clinic_id),
        name="Publishing audit chain heads",
        clinic_ids=clinic_ids_with(AuditChainHead, last_seq__gt=0),
    )
    return {clinic_id: head.seq for clinic_id, head in published.items() if head}


def idempotency_purge_expired() -> int:
    """Delete remembered API answers older than IDEMPOTENCY_KEY_HOURS. Idempotent."""
    cutoff = idempotency_cutoff()

    def purge(clinic_id: int) -> int:
        deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
        return deleted

    deleted = for_each_clinic(
        purge,
        name="Purging remembered API answers",
        clinic_ids=clinic_ids_with(IdempotencyRecord, created_at__lt=cutoff),
    )
    return sum(deleted.values())


def requeue_waiting_work() -> dict[str, int]:
    """Schedule: in every clinic, enqueue again the tasks of work that waited on them longer
    than they can take (their worker died holding them); {kind: how many}. Idempotent."""
    found = for_each_clinic(lambda clinic_id: waiting_work_requeue(), name="Requeueing lost tasks")
    totals: dict[str, int] = {}
    for counts in found.values():
        for kind, count in counts.items():
            totals[kind] = totals.get(kind, 0) + count
    return totals
