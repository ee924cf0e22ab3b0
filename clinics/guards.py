"""What a clinic may do now, asked of the `clinic_guards` registry (filled by billing's
subscriptions): whether its writes are refused (read-only after a failed charge's grace
period) and whether adding more of something stays within its plan.

With no guard registered, or a clinic without a subscription, everything is allowed.

How much a clinic uses is asked of the `usage_counters` registry (`usage`): messaging counts
its outbound WhatsApp messages of the clinic's calendar month, patients, messaging and billing
the bytes of the files they store. Queries: a limit check makes one query for the
subscription and, only when its plan limits the resource, one for the clinic's time zone
(monthly resources) and one aggregate per registered counter; constant whatever the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from clinics.errors import DomainError
from clinics.models import Clinic
from clinics.registry import clinic_guards, usage_counters

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")
MONTHLY_RESOURCES = frozenset({"whatsapp_messages"})
MIB = 1024 * 1024


class ClinicReadOnly(DomainError):
    code = "clinic_read_only"


class LimitReached(DomainError):
    code = "plan_limit"


def write_refusal(clinic_id: int, *, url_name: str = "") -> str | None:
    """Why this clinic's writes are refused now, or None (call inside its scope)."""
    for guard in clinic_guards:
        if url_name and url_name in guard.writes_allowed:
            continue
        reason = guard.write_refusal(clinic_id)
        if reason:
            return reason
    return None


def require_writable(clinic_id: int) -> None:
    """Raise `ClinicReadOnly` when the clinic's writes are refused now."""
    reason = write_refusal(clinic_id)
    if reason:
        raise ClinicReadOnly(reason)


def limit_refusal(clinic_id: int, resource: str, *, adding: int = 1) -> str | None:
    """Why adding `adding` more of `resource` passes the clinic's plan, or None (inside its
    scope). For "storage_mb", `adding` is bytes."""
    for guard in clinic_guards:
        reason = guard.limit_refusal(clinic_id, resource, adding)
        if reason:
            return reason
    return None


def require_within_limit(
    clinic_id: int, resource: str, *, adding: int = 1, field: str | None = None
) -> None:
    """Raise `LimitReached` when adding `adding` more of `resource` passes the clinic's plan
    (`field`: the form field the message belongs to). For "storage_mb", `adding` is bytes."""
    reason = limit_refusal(clinic_id, resource, adding=adding)
    if reason:
        raise LimitReached(reason, field=field)


def month_start(clinic_id: int, *, now: datetime | None = None) -> datetime:
    """The start of the current calendar month in the clinic's time zone (one query)."""
    tz = Clinic.objects.get(pk=clinic_id).tzinfo
    local = timezone.localtime(now or timezone.now(), tz)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def usage(clinic_id: int, resource: str) -> int | None:
    """How much of `resource` the clinic uses now, added up over the `usage_counters` of that
    resource (None when no app counts it): messages this calendar month, bytes stored. One
    aggregate query per counter, plus one for the clinic's time zone for monthly resources."""
    counters = [c for c in usage_counters if c.resource == resource]
    if not counters:
        return None
    since = month_start(clinic_id) if resource in MONTHLY_RESOURCES else None
    return sum(counter.count(clinic_id, since) for counter in counters)


@dataclass(frozen=True)
class LimitStatus:
    """A resource's use against the clinic's plan: `used` and `limit` in the same unit
    (bytes for storage)."""

    resource: str
    used: int
    limit: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def share(self) -> float:
        return self.used / self.limit if self.limit else 1.0


def limit_status(clinic_id: int, resource: str) -> LimitStatus | None:
    """The clinic's use of `resource` against its plan's lowest limit, or None when nothing
    limits it (no guard, no subscription, an empty limit) or no app counts it."""
    limits = [
        limit
        for guard in clinic_guards
        if (limit := guard.limit_of(clinic_id, resource)) is not None
    ]
    if not limits:
        return None
    used = usage(clinic_id, resource)
    if used is None:
        return None
    limit = min(limits)
    return LimitStatus(resource, used, limit * MIB if resource == "storage_mb" else limit)
