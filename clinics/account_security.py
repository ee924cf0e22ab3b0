"""Writes for a person's own sign-in: setting up and removing two-factor devices (django-otp
TOTP with one-time backup codes), and recording sign-ins and password resets on the audit trail
of every clinic they work at."""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinics.audit import Actions, audit_record
from clinics.errors import DomainError, NotAllowed
from clinics.models import User
from clinics.selectors import user_memberships


def totp_device_start(*, user: User) -> TOTPDevice:
    """Begin setting up an authenticator app: an unconfirmed TOTP device."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def totp_device_confirm(*, user: User, device: TOTPDevice, token: str) -> list[str]:
    """Confirm a new TOTP device with a code from the app. Returns one-time backup codes."""
    if device.user_id != user.pk or device.confirmed:
        raise DomainError("Start two-factor set-up again.")
    if not device.verify_token((token or "").strip().replace(" ", "")):
        raise DomainError(
            "That code is not right. Enter the 6-digit code the app shows now.", field="token"
        )
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    static, _ = StaticDevice.objects.get_or_create(user=user, name="Backup codes")
    static.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(8)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=c) for c in codes)
    for membership in user_memberships(user):
        audit_record(
            clinic=membership.clinic_id,
            actor=user,
            action=Actions.TWO_FACTOR_ENABLED,
            target=membership,
        )
    return codes


@transaction.atomic
def two_factor_disable(*, user: User) -> None:
    """Remove a user's two-factor devices (refused where a clinic of theirs requires it)."""
    memberships = user_memberships(user)
    if any(m.clinic.require_two_factor for m in memberships):
        raise NotAllowed("A clinic you work at requires two-factor sign-in.")
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    for membership in memberships:
        audit_record(
            clinic=membership.clinic_id,
            actor=user,
            action=Actions.TWO_FACTOR_DISABLED,
            target=membership,
        )


@transaction.atomic
def staff_signed_in(*, user: User, two_factor: bool) -> None:
    """Record a sign-in on the audit trail of every clinic the person works at."""
    for membership in user_memberships(user):
        audit_record(
            clinic=membership.clinic_id,
            actor=user,
            action=Actions.STAFF_SIGNED_IN,
            target=membership,
            data={"two_factor": two_factor},
        )


@transaction.atomic
def staff_password_reset(*, user: User) -> None:
    """After a password reset by email: lift any sign-in lockout and record the reset."""
    axes_reset(username=user.email)
    for membership in user_memberships(user):
        audit_record(
            clinic=membership.clinic_id,
            actor=user,
            action=Actions.STAFF_PASSWORD_RESET,
            target=membership,
        )
