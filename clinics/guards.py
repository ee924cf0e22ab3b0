"""What a clinic may do now, asked of the `clinic_guards` registry (filled by billing's
subscriptions): whether its writes are refused (read-only after a failed charge's grace
period) and whether adding more of something stays within its plan.

With no guard registered, or a clinic without a subscription, everything is allowed.
"""

from __future__ import annotations

from clinics.errors import DomainError
from clinics.registry import clinic_guards

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


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


def require_within_limit(clinic_id: int, resource: str, *, adding: int = 1) -> None:
    """Raise `LimitReached` when adding `adding` more of `resource` passes the clinic's plan."""
    for guard in clinic_guards:
        reason = guard.limit_refusal(clinic_id, resource, adding)
        if reason:
            raise LimitReached(reason, field=None)
