"""Writes for a person's own sign-in: setting up and removing two-factor devices (an
authenticator app with one-time backup codes, `clinics.two_factor`), and recording sign-ins and
password resets on the audit trail of every clinic they work at."""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.db import transaction

from clinics.audit import Actions, audit_record
from clinics.errors import DomainError, NotAllowed
from clinics.models import User
from clinics.selectors import user_memberships
from clinics.two_factor import (
    AuthenticatorApp,
    BackupCode,
    BackupCodes,
    backup_code_digest,
    new_backup_code,
)

BACKUP_CODE_COUNT = 8


def totp_device_start(*, user: User) -> AuthenticatorApp:
    """Begin setting up an authenticator app: an unconfirmed TOTP device (seed encrypted)."""
    AuthenticatorApp.objects.filter(user=user, confirmed=False).delete()
    return AuthenticatorApp.objects.create(user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def totp_device_confirm(*, user: User, device: AuthenticatorApp, token: str) -> list[str]:
    """Confirm a new TOTP device with a code from the app. Returns one-time backup codes, which
    are stored only as keyed hashes: this is the one time anyone sees them."""
    if device.user_id != user.pk or device.confirmed:
        raise DomainError("Start two-factor set-up again.")
    if not device.verify_token((token or "").strip().replace(" ", "")):
        raise DomainError(
            "That code is not right. Enter the 6-digit code the app shows now.", field="token"
        )
    AuthenticatorApp.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    backup, _ = BackupCodes.objects.get_or_create(user=user, name="Backup codes")
    backup.codes.all().delete()
    codes: list[str] = []
    while len(codes) < BACKUP_CODE_COUNT:
        code = new_backup_code()
        if code not in codes:
            codes.append(code)
    BackupCode.objects.bulk_create(
        BackupCode(device=backup, digest=backup_code_digest(code)) for code in codes
    )
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
    AuthenticatorApp.objects.filter(user=user).delete()
    BackupCodes.objects.filter(user=user).delete()
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
