"""The clinic's WhatsApp account as the send path needs it: found, its API client, its
settings, and what happens when Meta refuses it.

Kept apart from `accounts` (connecting and testing the number), which sends the messages that
waited once a number is reconnected: the send path imports this module, never that one, so the
two do not import each other.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from clinics.audit import Actions, audit_record
from clinics.errors import DomainError
from messaging.models import AccountStatus, MessagingSettings, WhatsAppAccount
from messaging.whatsapp import WhatsAppClient

logger = logging.getLogger(__name__)

NOT_CONNECTED = "Connect the clinic's WhatsApp number in Settings first."


def account_for_clinic(clinic_id: int) -> WhatsAppAccount | None:
    """The clinic's WhatsApp account, or None when it has not connected one."""
    return WhatsAppAccount.objects.filter(clinic_id=clinic_id).first()


def require_account(clinic_id: int) -> WhatsAppAccount:
    account = account_for_clinic(clinic_id)
    if account is None:
        raise DomainError(NOT_CONNECTED, code="whatsapp_not_connected")
    return account


def account_client(account: WhatsAppAccount) -> WhatsAppClient:
    """An API client for the account's number (shares the pooled HTTP session)."""
    return WhatsAppClient(account.phone_number_id, account.access_token)


def messaging_settings_for(clinic_id: int) -> MessagingSettings:
    """The clinic's messaging settings (created with the defaults on first use)."""
    settings_row = MessagingSettings.objects.filter(clinic_id=clinic_id).first()
    if settings_row is None:
        settings_row, _ = MessagingSettings.objects.get_or_create(clinic_id=clinic_id)
    return settings_row


@transaction.atomic
def account_mark_refused(*, account_id: int, problem: str) -> None:
    """Meta refused the account's token (190) or the account itself: stop sending, alert staff.

    Queued messages stay queued; they go out once the clinic reconnects. The alert is the
    account's status, shown on every staff page until someone fixes it.
    """
    account = WhatsAppAccount.objects.select_for_update().get(pk=account_id)
    if account.status == AccountStatus.TOKEN_INVALID and account.problem == problem[:300]:
        return
    account.status = AccountStatus.TOKEN_INVALID
    account.problem = problem[:300]
    account.last_checked_at = timezone.now()
    account.save(update_fields=["status", "problem", "last_checked_at", "updated_at"])
    audit_record(
        clinic=account.clinic_id,
        actor=None,
        action=Actions.WHATSAPP_TOKEN_REJECTED,
        target=account,
        data={"problem": account.problem},
    )
    logger.warning("WhatsApp account %s refused by Meta; sending stopped", account.pk)
