"""The clinic's own Razorpay keys: connect, change, disconnect, test.

Owners only (`settings.edit`). The key secret and webhook secret are stored encrypted
(`EncryptedTextField`) and never shown again; the settings page says only whether each is on
file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from billing.razorpay.client import RazorpayClient, RazorpayFailed
from billing.razorpay.models import RazorpayAccount
from clinics.actors import Actor, require
from clinics.audit import Actions, audit_record
from clinics.errors import DomainError, ValidationFailed
from clinics.models import Clinic
from clinics.roles import Perm

KEY_ID = re.compile(r"^rzp_(test|live)_[A-Za-z0-9]{6,32}$")
SECRET_MIN, SECRET_MAX = 8, 200
NOT_CONNECTED = "Connect the clinic's Razorpay account first."


def account_for_clinic(clinic_id: int) -> RazorpayAccount | None:
    """The clinic's Razorpay account (call inside its scope), or None."""
    return RazorpayAccount.objects.filter(clinic_id=clinic_id).first()


def client_for(account: RazorpayAccount) -> RazorpayClient:
    return RazorpayClient(account.key_id, account.key_secret)


def _clean(errors: dict[str, list[str]], field: str, value: str, *, required: bool) -> str:
    value = (value or "").strip()
    if not value:
        if required:
            errors.setdefault(field, []).append("This is required.")
        return ""
    if field == "key_id":
        if not KEY_ID.match(value):
            errors.setdefault(field, []).append(
                "A Razorpay key id looks like rzp_test_... or rzp_live_... (letters and digits)."
            )
    elif not SECRET_MIN <= len(value) <= SECRET_MAX or any(c.isspace() for c in value):
        errors.setdefault(field, []).append(
            f"Paste the secret exactly as Razorpay shows it ({SECRET_MIN}-{SECRET_MAX} "
            "characters, no spaces)."
        )
    return value


@transaction.atomic
def razorpay_account_save(
    *, clinic: Clinic, actor: Actor, key_id: str, key_secret: str = "", webhook_secret: str = ""
) -> RazorpayAccount:
    """Connect the clinic's Razorpay account, or change its keys.

    Connecting needs all three values; a change may leave a secret empty to keep the stored one.
    """
    require(actor, Perm.SETTINGS_EDIT, clinic_id=clinic.pk)
    account = RazorpayAccount.objects.select_for_update().filter(clinic_id=clinic.pk).first()
    new = account is None
    errors: dict[str, list[str]] = {}
    key_id = _clean(errors, "key_id", key_id, required=True)
    key_secret = _clean(errors, "key_secret", key_secret, required=new)
    webhook_secret = _clean(errors, "webhook_secret", webhook_secret, required=new)
    if errors:
        raise ValidationFailed(errors)
    if new:
        account = RazorpayAccount(clinic=clinic)
    changed = ["key_id"] if account.key_id != key_id else []
    account.key_id = key_id
    for field, value in (("key_secret", key_secret), ("webhook_secret", webhook_secret)):
        if value:
            setattr(account, field, value)
            changed.append(field)
    account.last_check_ok = None if changed else account.last_check_ok
    account.save()
    audit_record(
        clinic=clinic,
        actor=actor,
        action=Actions.RAZORPAY_CONNECTED if new else Actions.RAZORPAY_UPDATED,
        target=account,
        data={"key_id": key_id, "changed": changed},  # never a secret
    )
    return account


@transaction.atomic
def razorpay_account_disconnect(*, account: RazorpayAccount, actor: Actor) -> None:
    """Forget the clinic's keys. Links already sent stay on record; new ones cannot be made."""
    require(actor, Perm.SETTINGS_EDIT, clinic_id=account.clinic_id)
    audit_record(
        clinic=account.clinic_id,
        actor=actor,
        action=Actions.RAZORPAY_DISCONNECTED,
        data={"key_id": account.key_id},
    )
    RazorpayAccount.objects.filter(pk=account.pk).delete()


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    message: str


def razorpay_account_test(*, account: RazorpayAccount, actor: Actor) -> ConnectionResult:
    """Make one authenticated call to Razorpay with the stored keys, and record the answer."""
    require(actor, Perm.SETTINGS_EDIT, clinic_id=account.clinic_id)
    # The call happens outside any transaction: no lock is held while Razorpay answers.
    try:
        client_for(account).test_connection()
    except RazorpayFailed as exc:
        problem = (
            "Razorpay did not accept these keys: check the key id and key secret."
            if exc.auth
            else exc.message
        )
        result = ConnectionResult(False, problem)
    else:
        mode = "test mode" if account.is_test else "live mode"
        result = ConnectionResult(True, f"Connected: Razorpay accepted the keys ({mode}).")
    with transaction.atomic():
        RazorpayAccount.objects.filter(pk=account.pk).update(
            last_checked_at=timezone.now(),
            last_check_ok=result.ok,
            problem="" if result.ok else result.message[:300],
        )
        audit_record(
            clinic=account.clinic_id,
            actor=actor,
            action=Actions.RAZORPAY_TESTED,
            target=account,
            data={"ok": result.ok},
        )
    return result


def require_account(clinic_id: int) -> RazorpayAccount:
    account = account_for_clinic(clinic_id)
    if account is None:
        raise DomainError(NOT_CONNECTED, code="razorpay_not_connected")
    return account
