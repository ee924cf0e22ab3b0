"""Reads for clinics, staff and the audit trail."""

from __future__ import annotations

from datetime import date, datetime, time

from django.db.models import QuerySet
from django.utils import timezone

from clinics.models import ApiKey, AuditEvent, Clinic, Invitation, Membership, User
from clinics.roles import Role
from clinics.tenancy import membership_by_slug, memberships_of
from clinics.two_factor import AuthenticatorApp, BackupCode


def user_memberships(user: User) -> list[Membership]:
    """A user's active memberships across clinics (read before any scope)."""
    return memberships_of(user)


def membership_for(user: User, clinic_slug: str) -> Membership | None:
    """The user's active membership at the clinic with this slug, or None (before any scope)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return membership_by_slug(user, clinic_slug)


def staff_list(*, include_inactive: bool = True) -> QuerySet[Membership]:
    qs = Membership.objects.select_related("user", "doctor_profile").order_by(
        "-is_active", "user__full_name"
    )
    return qs if include_inactive else qs.filter(is_active=True)


def doctors() -> QuerySet[Membership]:
    return staff_list(include_inactive=False).filter(role__in=[Role.DOCTOR, Role.OWNER])


def open_invitations() -> QuerySet[Invitation]:
    return Invitation.objects.select_related("invited_by").filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def api_keys() -> QuerySet[ApiKey]:
    return ApiKey.objects.select_related("created_by").order_by("revoked_at", "-created_at")


def audit_events(
    *,
    clinic: Clinic,
    patient_id: int | None = None,
    actor_id: int | None = None,
    action: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEvent]:
    """The clinic's audit trail, newest first, filtered. Dates are the clinic's local dates."""
    qs = AuditEvent.objects.select_related("actor", "api_key").order_by("-created_at", "-id")
    if patient_id:
        qs = qs.filter(patient_id=patient_id)
    if actor_id:
        qs = qs.filter(actor_id=actor_id)
    if action:
        qs = qs.filter(action__startswith=action)
    tz = clinic.tzinfo
    if date_from:
        qs = qs.filter(created_at__gte=datetime.combine(date_from, time.min, tzinfo=tz))
    if date_to:
        qs = qs.filter(created_at__lte=datetime.combine(date_to, time.max, tzinfo=tz))
    return qs


def two_factor_status(user: User) -> dict:
    """Whether the user signs in with an authenticator app, how many backup codes are left, and
    which of their clinics require two-factor sign-in."""
    return {
        "enabled": AuthenticatorApp.objects.filter(user=user, confirmed=True).exists(),
        "backup_codes_left": BackupCode.objects.filter(device__user=user).count(),
        "required_by": [m.clinic for m in user_memberships(user) if m.clinic.require_two_factor],
    }
