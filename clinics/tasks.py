"""Background tasks of the clinics app (run by django-q2; see clinics/schedules.py)."""

from __future__ import annotations

import logging

from django.db.models import Exists, OuterRef

from clinics.audit import audit_seal
from clinics.context import actor_context
from clinics.models import AuditEvent, Clinic
from clinics.tenancy import scopes_disabled

logger = logging.getLogger(__name__)


def clinics_with_unsealed_events() -> list[int]:
    """Ids of clinics that have audit events not yet sealed into their chain."""
    # Audit plumbing reads across clinics here only to find which chains to seal; each clinic
    # is then sealed inside its own scope by `audit_seal`. The EXISTS probe uses the
    # (clinic, hash) index once per clinic instead of scanning the whole trail.
    with scopes_disabled():
        pending = AuditEvent.objects.filter(clinic=OuterRef("pk"), hash="")
        return list(
            Clinic.objects.filter(Exists(pending)).order_by("pk").values_list("pk", flat=True)
        )


def audit_seal_pending() -> dict[int, int]:
    """Seal the pending audit events of every clinic into that clinic's hash chain.

    Runs every AUDIT_SEAL_INTERVAL_SECONDS (rounded up to whole minutes) from the
    `vaidya.audit_seal_pending` schedule. Idempotent: a second run right after the first finds
    nothing to seal, and two runs at once take turns on each clinic's chain head lock. One
    clinic's failure does not stop the others; the task fails at the end so django-q2 records it.
    Returns {clinic id: events sealed} for the clinics that had pending events.
    """
    sealed: dict[int, int] = {}
    failed: list[int] = []
    with actor_context(via="task"):
        for clinic_id in clinics_with_unsealed_events():
            try:
                count = audit_seal(clinic_id=clinic_id)
            except Exception:
                logger.exception("Sealing the audit trail of clinic %s failed", clinic_id)
                failed.append(clinic_id)
                continue
            if count:
                sealed[clinic_id] = count
    if failed:
        raise RuntimeError(f"Sealing failed for clinics {failed}; the others were sealed.")
    return sealed


def idempotency_purge_expired() -> int:
    """Delete remembered API answers older than IDEMPOTENCY_KEY_HOURS. Idempotent."""
    from clinics.api.base import idempotency_cutoff
    from clinics.models import IdempotencyRecord

    # Housekeeping across clinics: these rows are transport records, not clinic data.
    with scopes_disabled():
        deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=idempotency_cutoff()).delete()
    return deleted
