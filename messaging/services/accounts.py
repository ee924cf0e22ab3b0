"""Connecting, updating and testing the clinic's WhatsApp number, and its messaging settings.

The lookups the send path needs (the account, its client, refusal by Meta) live in
`account_state` and are importable from here too.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinics.audit import Actions, audit_record
from clinics.errors import Conflict, DomainError, ValidationFailed
from clinics.models import Clinic, User
from messaging.models import AccountStatus, MessagingSettings, WhatsAppAccount
from messaging.services.account_state import (
    NOT_CONNECTED,
    account_client,
    account_mark_refused,
)
from messaging.services.account_state import account_for_clinic as account_for_clinic
from messaging.services.account_state import messaging_settings_for as messaging_settings_for
from messaging.services.account_state import require_account as require_account
from messaging.services.recovery import messages_requeue_for_account
from messaging.whatsapp import (
    BadRequest,
    InvalidToken,
    TransientError,
    WhatsAppError,
)

logger = logging.getLogger(__name__)

# --- connecting, updating and testing the clinic's number ---------------------------------------
SECRET_FIELDS = ("access_token", "app_secret", "verify_token")
KEEP = object()  # account_update: "leave this field as it is"
_GRAPH_NUMERIC_ID = re.compile(r"\d{5,30}")
_SECRET_MAX_CHARS = 1000
ALREADY_CONNECTED = (
    "This clinic already has a WhatsApp number connected. Update it, or disconnect it first."
)
NUMBER_TAKEN = "This phone number id is already connected to another clinic in Vaidya."


@dataclass(frozen=True)
class ConnectionResult:
    """The outcome of "Test connection", written for the person who pressed the button."""

    ok: bool
    message: str
    invalid_token: bool = False


def _clean_ids(
    errors: dict[str, list[str]], *, phone_number_id: str, business_account_id: str
) -> tuple[str, str]:
    phone_number_id = (phone_number_id or "").strip()
    business_account_id = (business_account_id or "").strip()
    if not _GRAPH_NUMERIC_ID.fullmatch(phone_number_id):
        errors.setdefault("phone_number_id", []).append(
            "Enter the phone number id from Meta's WhatsApp Manager: digits only."
        )
    if not _GRAPH_NUMERIC_ID.fullmatch(business_account_id):
        errors.setdefault("business_account_id", []).append(
            "Enter the WhatsApp Business Account id from Meta's WhatsApp Manager: digits only."
        )
    return phone_number_id, business_account_id


def _clean_display_number(errors: dict[str, list[str]], display_number: str) -> str:
    text = (display_number or "").strip()
    try:
        number = phonenumbers.parse(text, "IN")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        errors.setdefault("display_number", []).append(
            "Enter the clinic's WhatsApp number, for example +91 80 4000 1234."
        )
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _clean_secret(errors: dict[str, list[str]], field: str, value: str, *, required: bool) -> str:
    value = (value or "").strip()
    label = {
        "access_token": "access token",
        "app_secret": "app secret",
        "verify_token": "webhook verify token",
    }[field]
    if not value:
        if required:
            errors.setdefault(field, []).append(f"Enter the {label}.")
        return ""
    # The messages never repeat the value: it is a secret.
    if len(value) > _SECRET_MAX_CHARS or any(ch.isspace() for ch in value):
        errors.setdefault(field, []).append(
            f"The {label} should be one line without spaces; paste it again."
        )
    return value


def _save_checking_number(account: WhatsAppAccount, **kwargs) -> None:
    try:
        with transaction.atomic():
            account.save(**kwargs)
    except IntegrityError:
        raise ValidationFailed({"phone_number_id": [NUMBER_TAKEN]}) from None


@transaction.atomic
def account_connect(
    *,
    clinic: Clinic,
    actor: User | None,
    phone_number_id: str,
    business_account_id: str,
    display_number: str,
    access_token: str,
    app_secret: str,
    verify_token: str,
) -> WhatsAppAccount:
    """Connect the clinic's WhatsApp Business number (one per clinic).

    The secrets are stored encrypted and never shown again. A clinic that disconnected its
    number reconnects on the same record, so its conversations stay with it.
    """
    errors: dict[str, list[str]] = {}
    phone_number_id, business_account_id = _clean_ids(
        errors, phone_number_id=phone_number_id, business_account_id=business_account_id
    )
    display = _clean_display_number(errors, display_number)
    secrets_ = {
        field: _clean_secret(errors, field, value, required=True)
        for field, value in (
            ("access_token", access_token),
            ("app_secret", app_secret),
            ("verify_token", verify_token),
        )
    }
    if errors:
        raise ValidationFailed(errors)
    account = WhatsAppAccount.objects.select_for_update().filter(clinic_id=clinic.pk).first()
    if account is not None and account.status != AccountStatus.DISCONNECTED:
        raise Conflict(ALREADY_CONNECTED, code="whatsapp_already_connected")
    if account is None:
        account = WhatsAppAccount(clinic=clinic)
    account.phone_number_id = phone_number_id
    account.business_account_id = business_account_id
    account.display_number = display
    for field, value in secrets_.items():
        setattr(account, field, value)
    account.status = AccountStatus.ACTIVE
    account.problem = ""
    account.last_checked_at = None
    account.connected_at = timezone.now()
    _save_checking_number(account)
    audit_record(
        clinic=clinic,
        actor=actor,
        action=Actions.WHATSAPP_CONNECTED,
        target=account,
        data={"phone_number_id": phone_number_id, "display_number": display},
    )
    logger.info("WhatsApp account %s connected for clinic %s", account.pk, clinic.pk)
    return account


@transaction.atomic
def account_update(
    *,
    account: WhatsAppAccount,
    actor: User | None,
    phone_number_id: str | None = None,
    business_account_id: str | None = None,
    display_number: str | None = None,
    access_token: str = "",
    app_secret: str = "",
    verify_token: str = "",
    send_rate_per_second: int | object | None = KEEP,
) -> WhatsAppAccount:
    """Change the connected number's details. A blank secret keeps the one on file.

    The audit event names the changed fields, never the secrets' values.
    """
    account = WhatsAppAccount.objects.select_for_update().get(pk=account.pk)
    if account.status == AccountStatus.DISCONNECTED:
        raise DomainError(
            "WhatsApp is disconnected for this clinic; connect the number again.",
            code="whatsapp_not_connected",
        )
    errors: dict[str, list[str]] = {}
    pid, waba = _clean_ids(
        errors,
        phone_number_id=account.phone_number_id if phone_number_id is None else phone_number_id,
        business_account_id=(
            account.business_account_id if business_account_id is None else business_account_id
        ),
    )
    display = (
        account.display_number
        if display_number is None
        else _clean_display_number(errors, display_number)
    )
    new_secrets = {
        field: _clean_secret(errors, field, value, required=False)
        for field, value in (
            ("access_token", access_token),
            ("app_secret", app_secret),
            ("verify_token", verify_token),
        )
    }
    if send_rate_per_second is KEEP:
        send_rate_per_second = account.send_rate_per_second
    if send_rate_per_second is not None and not 1 <= int(send_rate_per_second) <= 1000:
        errors.setdefault("send_rate_per_second", []).append(
            "Enter a rate between 1 and 1,000 messages per second, or leave it empty."
        )
    if errors:
        raise ValidationFailed(errors)
    changed: list[str] = []
    for field, value in (
        ("phone_number_id", pid),
        ("business_account_id", waba),
        ("display_number", display),
        ("send_rate_per_second", send_rate_per_second),
    ):
        if getattr(account, field) != value:
            setattr(account, field, value)
            changed.append(field)
    for field, value in new_secrets.items():
        if value and value != getattr(account, field):
            setattr(account, field, value)
            changed.append(field)
    if not changed:
        return account
    _save_checking_number(account)
    audit_record(
        clinic=account.clinic_id,
        actor=actor,
        action=Actions.WHATSAPP_UPDATED,
        target=account,
        data={"changed": changed},
    )
    return account


@transaction.atomic
def account_disconnect(*, account: WhatsAppAccount, actor: User | None) -> WhatsAppAccount:
    """Stop using the clinic's number: the secrets are erased and nothing more is sent.

    The record stays (conversations and messages belong to it); queued messages wait until the
    clinic connects again.
    """
    account = WhatsAppAccount.objects.select_for_update().get(pk=account.pk)
    if account.status == AccountStatus.DISCONNECTED:
        return account
    for field in SECRET_FIELDS:
        setattr(account, field, "")
    account.status = AccountStatus.DISCONNECTED
    account.problem = ""
    account.save()
    audit_record(
        clinic=account.clinic_id,
        actor=actor,
        action=Actions.WHATSAPP_DISCONNECTED,
        target=account,
        data={"phone_number_id": account.phone_number_id},
    )
    logger.info("WhatsApp account %s disconnected", account.pk)
    return account


def _problem_for(exc: WhatsAppError) -> str:
    if isinstance(exc, InvalidToken):
        return (
            "WhatsApp refused the access token: it is wrong or has expired. Paste a new token "
            "and test again."
        )
    if isinstance(exc, TransientError):
        return "WhatsApp could not be reached just now. Try again in a minute."
    if isinstance(exc, BadRequest) and exc.code == 100:
        return (
            "WhatsApp does not know this phone number id, or the access token cannot use it. "
            "Check both in Meta's WhatsApp Manager."
        )
    return f"WhatsApp refused the test: {exc}"[:300]


def account_test_connection(*, account: WhatsAppAccount, actor: User | None) -> ConnectionResult:
    """Ask Meta for the connected number with the stored token, and record what it said.

    Success makes the account active again (a rejected token alert clears) and sends the
    messages that waited for it. A refused token stops sending until the clinic reconnects.
    """
    if account.status == AccountStatus.DISCONNECTED:
        raise DomainError(NOT_CONNECTED, code="whatsapp_not_connected")
    # The call happens outside any transaction: no lock is held while Meta answers.
    try:
        answer = account_client(account).test_connection()
    except WhatsAppError as exc:
        problem = _problem_for(exc)
        if isinstance(exc, InvalidToken):
            account_mark_refused(account_id=account.pk, problem=problem)
        else:
            _record_test(account, actor=actor, ok=False, problem=problem, code=exc.code)
        account.refresh_from_db()
        return ConnectionResult(False, problem, invalid_token=isinstance(exc, InvalidToken))
    shown = str(answer.get("display_phone_number") or account.display_number)
    name = str(answer.get("verified_name") or "").strip()
    _record_test(account, actor=actor, ok=True, problem="", code=None)
    account.refresh_from_db()
    waiting = messages_requeue_for_account(account=account)
    message = f"Connected: WhatsApp knows this number as {shown}" + (f" ({name})." if name else ".")
    if waiting:
        message += f" {waiting} waiting message{'s' if waiting != 1 else ''} will now go out."
    return ConnectionResult(True, message)


@transaction.atomic
def _record_test(
    account: WhatsAppAccount, *, actor: User | None, ok: bool, problem: str, code: int | None
) -> None:
    locked = WhatsAppAccount.objects.select_for_update().get(pk=account.pk)
    before = locked.status
    locked.last_checked_at = timezone.now()
    locked.problem = problem[:300]
    if ok:
        locked.status = AccountStatus.ACTIVE
    locked.save(update_fields=["status", "problem", "last_checked_at", "updated_at"])
    data: dict[str, object] = {"connection_test": "ok" if ok else "failed"}
    if code is not None:
        data["error_code"] = code
    if before != locked.status:
        data["status"] = locked.status
    audit_record(
        clinic=locked.clinic_id,
        actor=actor,
        action=Actions.WHATSAPP_UPDATED,
        target=locked,
        data=data,
    )


# --- messaging settings -------------------------------------------------------------------------
SETTINGS_EDITABLE_FIELDS = (
    "send_appointment_confirmations",
    "appointment_reminder_hours",
    "send_medicine_reminders",
    "discreet_sensitive_medicines",
    "send_follow_up_reminders",
    "follow_up_reminder_time",
    "refill_reminder_days",
    "send_review_requests",
    "review_request_delay_hours",
    "review_link",
    "quiet_hours_start",
    "quiet_hours_end",
    "missed_doses_threshold",
    "low_rating_threshold",
    "trouble_words",
    "alert_doctor_on_whatsapp",
)
MAX_REMINDER_HOURS = 168
MAX_REMINDERS_PER_APPOINTMENT = 5


def _clean_reminder_hours(value: object, errors: dict[str, list[str]]) -> list[int]:
    message = (
        f"Give up to {MAX_REMINDERS_PER_APPOINTMENT} whole numbers of hours between 1 and "
        f"{MAX_REMINDER_HOURS}, for example 24, 2."
    )
    if isinstance(value, str):
        value = [part for part in re.split(r"[,\s]+", value.strip()) if part]
    if not isinstance(value, list | tuple):
        errors.setdefault("appointment_reminder_hours", []).append(message)
        return []
    hours: list[int] = []
    for item in value:
        if isinstance(item, bool):
            errors.setdefault("appointment_reminder_hours", []).append(message)
            return []
        try:
            hour = int(str(item).strip())
        except ValueError:
            errors.setdefault("appointment_reminder_hours", []).append(message)
            return []
        if not 1 <= hour <= MAX_REMINDER_HOURS:
            errors.setdefault("appointment_reminder_hours", []).append(message)
            return []
        if hour not in hours:
            hours.append(hour)
    if len(hours) > MAX_REMINDERS_PER_APPOINTMENT:
        errors.setdefault("appointment_reminder_hours", []).append(message)
        return []
    return sorted(hours, reverse=True)


@transaction.atomic
def messaging_settings_update(
    *, clinic: Clinic, actor: User | None, **fields: object
) -> MessagingSettings:
    """Change the clinic's reminder, quiet-hours and escalation choices.

    The audit event names the changed fields (not their values).
    """
    unknown = set(fields) - set(SETTINGS_EDITABLE_FIELDS)
    if unknown:
        raise DomainError(f"Unknown messaging settings: {', '.join(sorted(unknown))}")
    messaging_settings_for(clinic.pk)
    row = MessagingSettings.objects.select_for_update().get(clinic_id=clinic.pk)
    errors: dict[str, list[str]] = {}
    if "appointment_reminder_hours" in fields:
        fields["appointment_reminder_hours"] = _clean_reminder_hours(
            fields["appointment_reminder_hours"], errors
        )
    if "trouble_words" in fields:
        words = [w.strip() for w in str(fields["trouble_words"] or "").splitlines() if w.strip()]
        fields["trouble_words"] = "\n".join(dict.fromkeys(words))
    changed = []
    for field, value in fields.items():
        if getattr(row, field) != value:
            setattr(row, field, value)
            changed.append(field)
    start, end = row.quiet_hours_start, row.quiet_hours_end
    if start is not None and start == end:
        errors.setdefault("quiet_hours_end", []).append(
            "Quiet hours must end at another time than they start."
        )
    try:
        row.full_clean(exclude=["clinic", "appointment_reminder_hours"], validate_unique=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationFailed(errors)
    if not changed:
        return row
    row.save()
    audit_record(
        clinic=clinic,
        actor=actor,
        action=Actions.MESSAGING_SETTINGS_UPDATED,
        target=row,
        data={"changed": changed},
    )
    return row
