"""What each subscription state means for a clinic: what Vaidya does, shown to the owner and
in the admin, whether the clinic is read-only, and its plan's limits (`SUBSCRIPTION_GUARD` in
`clinics.registry.clinic_guards`).

A clinic with no subscription (or only ones that expired before they were authorised) is
unlimited and never read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from billing.subscriptions.models import ClinicSubscription, Plan, SubStatus
from clinics.formatting import format_date
from clinics.guards import MIB, usage
from clinics.registry import ClinicGuard

# Read-only at once (no charge will come until the owner or the operator acts).
READ_ONLY_AT_ONCE = {SubStatus.CANCELLED, SubStatus.COMPLETED, SubStatus.PAUSED}
# Read-only once the grace period after the first failed charge has run out.
READ_ONLY_AFTER_GRACE = {SubStatus.PENDING, SubStatus.HALTED}

WHAT_VAIDYA_DOES = {
    SubStatus.CREATED: "Waiting for the owner to authorise the subscription on Razorpay. "
    "Everything works meanwhile.",
    SubStatus.AUTHENTICATED: "Authorised; the first charge comes at the start of the period. "
    "Everything works.",
    SubStatus.ACTIVE: "Paid up. Everything works within the plan's limits.",
    SubStatus.PENDING: "A charge failed and Razorpay is retrying. Everything works until the "
    "grace period ends; then the clinic is read-only until a charge succeeds.",
    SubStatus.HALTED: "Charges failed and Razorpay stopped retrying. After the grace period the "
    "clinic is read-only until the owner pays (update the card or UPI mandate on Razorpay).",
    SubStatus.CANCELLED: "Cancelled: the clinic is read-only. Staff can still read and export "
    "everything; subscribe again to make changes.",
    SubStatus.PAUSED: "Paused by the operator: the clinic is read-only until it is resumed.",
    SubStatus.COMPLETED: "Every period was billed: the clinic is read-only until it subscribes "
    "again. Staff can still read and export everything.",
    SubStatus.EXPIRED: "Expired before it was authorised: no effect; subscribe again.",
}


@dataclass(frozen=True)
class ClinicMode:
    subscription: ClinicSubscription | None
    read_only: bool
    grace_until: datetime | None
    explanation: str

    @property
    def plan(self) -> Plan | None:
        return self.subscription.plan if self.subscription else None


def current_subscription(clinic_id: int) -> ClinicSubscription | None:
    """The clinic's latest subscription that was not left to expire (inside its scope)."""
    return (
        ClinicSubscription.objects.select_related("plan")
        .filter(clinic_id=clinic_id)
        .exclude(status=SubStatus.EXPIRED)
        .order_by("-created_at", "-id")
        .first()
    )


def grace_end(subscription: ClinicSubscription) -> datetime | None:
    if subscription.payment_failed_at is None:
        return None
    return subscription.payment_failed_at + timedelta(days=settings.SUBSCRIPTION_GRACE_DAYS)


def mode_of(subscription: ClinicSubscription | None, *, now: datetime | None = None) -> ClinicMode:
    if subscription is None:
        return ClinicMode(None, False, None, "No subscription: Vaidya works without limits.")
    now = now or timezone.now()
    status = subscription.status
    grace_until = grace_end(subscription) if status in READ_ONLY_AFTER_GRACE else None
    read_only = status in READ_ONLY_AT_ONCE or (
        status in READ_ONLY_AFTER_GRACE and (grace_until is None or grace_until <= now)
    )
    explanation = WHAT_VAIDYA_DOES[status]
    if grace_until is not None:
        when = format_date(timezone.localtime(grace_until).date())
        explanation += (
            " The grace period ended on " if read_only else " The grace period ends on "
        ) + f"{when}."
    return ClinicMode(subscription, read_only, grace_until, explanation)


def clinic_mode(clinic_id: int) -> ClinicMode:
    return mode_of(current_subscription(clinic_id))


def _write_refusal(clinic_id: int) -> str | None:
    mode = clinic_mode(clinic_id)
    if not mode.read_only:
        return None
    return (
        f"The clinic's Vaidya subscription is {mode.subscription.get_status_display().lower()}: "
        "changes are paused until it is paid. The owner can put it right on the subscription "
        "page."
    )


def _count(clinic_id: int, resource: str) -> int | None:
    """What the clinic uses of `resource` now: its active doctors (one query), else what the
    apps that hold the rows count (`clinics.guards.usage`: the `usage_counters` registry)."""
    if resource == "doctors":
        # Imported here: only this limit needs the staff model.
        from clinics.models import Membership  # noqa: PLC0415
        from clinics.roles import Role  # noqa: PLC0415

        return Membership.objects.filter(
            clinic_id=clinic_id, role=Role.DOCTOR, is_active=True
        ).count()
    return usage(clinic_id, resource)


LIMIT_FIELDS = {
    "doctors": ("max_doctors", "doctors"),
    "whatsapp_messages": ("max_whatsapp_messages_per_month", "WhatsApp messages a month"),
    "storage_mb": ("max_storage_mb", "MB of storage"),
}


def _limit_of(clinic_id: int, resource: str) -> int | None:
    """The clinic's plan's limit for `resource` (None: unlimited, or no subscription)."""
    if resource not in LIMIT_FIELDS:
        return None
    subscription = current_subscription(clinic_id)
    if subscription is None:
        return None
    return getattr(subscription.plan, LIMIT_FIELDS[resource][0])


def _megabytes(size: int) -> str:
    return f"{size / MIB:,.1f}"


def _limit_refusal(clinic_id: int, resource: str, adding: int) -> str | None:
    """Why adding `adding` more of `resource` passes the plan (storage: `adding` in bytes).
    One query without a subscription or limit; else that plus the counting (`_count`)."""
    if resource not in LIMIT_FIELDS:
        return None
    subscription = current_subscription(clinic_id)
    if subscription is None:
        return None
    field, words = LIMIT_FIELDS[resource]
    limit = getattr(subscription.plan, field)
    if limit is None:
        return None
    used = _count(clinic_id, resource)
    if used is None:
        return None
    plan = subscription.plan.name
    upgrade = "The owner can move to a larger plan on the subscription page."
    if resource == "storage_mb":
        if used + adding <= limit * MIB:
            return None
        return (
            f"The clinic's plan ({plan}) allows {limit:,} MB of storage; the clinic stores "
            f"{_megabytes(used)} MB, and this file needs {_megabytes(adding)} MB more. "
            f"{upgrade}"
        )
    if used + adding <= limit:
        return None
    if resource == "whatsapp_messages":
        return (
            f"The clinic's plan ({plan}) allows {limit:,} WhatsApp messages a month; the clinic "
            f"has sent {used:,} this month, so this message was not sent. {upgrade}"
        )
    return f"The clinic's plan ({plan}) allows {limit} {words}; the clinic has {used}. {upgrade}"


SUBSCRIPTION_GUARD = ClinicGuard(
    name="billing.subscriptions",
    order=50,
    write_refusal=_write_refusal,
    limit_refusal=_limit_refusal,
    writes_allowed=frozenset(
        {"subscription", "subscription-start", "subscription-cancel", "subscription-refresh"}
    ),
    limit_of=_limit_of,
)
