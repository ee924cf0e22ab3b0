"""What WhatsApp tells us back: delivery statuses, and the 24-hour window.

Statuses arrive in webhooks, possibly out of order and more than once; a message's status only
moves forward (sent < delivered < read; failed is final) and each (message, status) is kept
once. The window opens or refreshes each time the patient writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from messaging.models import (
    STATUS_RANK,
    WINDOW,
    Conversation,
    Message,
    MessageStatus,
    MessageStatusEvent,
    WhatsAppAccount,
)


# --- statuses from webhooks ---------------------------------------------------------------------
def message_status_record(
    *,
    account: WhatsAppAccount,
    wamid: str,
    status: str,
    occurred_at: datetime,
    errors: Sequence[Mapping[str, Any]] = (),
    callback_data: str = "",
) -> Message | None:
    """Record a status webhook for one of our messages. Forward only; duplicates are no-ops.

    sent < delivered < read, and failed is terminal: a late "delivered" after "read" adds to
    the history but does not move the message back. A status carrying our id in
    `callback_data` settles an uncertain message that never learned its wamid. Returns None
    for a wamid Vaidya does not know.
    """
    if status not in (
        MessageStatus.SENT,
        MessageStatus.DELIVERED,
        MessageStatus.READ,
        MessageStatus.FAILED,
    ):
        return None
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .filter(conversation__account=account, wamid=wamid)
            .first()
        )
        if message is None and callback_data:
            message = (
                Message.objects.select_for_update()
                .filter(conversation__account=account, public_id=_uuid_or_none(callback_data))
                .first()
                if _uuid_or_none(callback_data)
                else None
            )
            if message is not None and not message.wamid:
                message.wamid = wamid
        if message is None:
            return None
        error = (errors or [{}])[0] if errors else {}
        code = _int_or_none(error.get("code"))
        title = str(error.get("title") or error.get("message") or "")[:300]
        try:
            with transaction.atomic():
                MessageStatusEvent.objects.create(
                    clinic_id=message.clinic_id,
                    message=message,
                    status=status,
                    occurred_at=occurred_at,
                    error_code=code,
                    error_title=title,
                )
        except IntegrityError:
            return message  # the same (wamid, status) again: nothing new
        fields = {"wamid"} if message.wamid == wamid else set()
        stamp = {
            MessageStatus.SENT: "sent_at",
            MessageStatus.DELIVERED: "delivered_at",
            MessageStatus.READ: "read_at",
            MessageStatus.FAILED: "failed_at",
        }[status]
        if getattr(message, stamp) is None:
            setattr(message, stamp, occurred_at)
            fields.add(stamp)
        current = STATUS_RANK.get(message.status, 0)
        if message.status != MessageStatus.FAILED and STATUS_RANK[status] > current:
            message.status = status
            message.uncertain = False
            fields |= {"status", "uncertain"}
            if status == MessageStatus.FAILED:
                message.error_code, message.error_title = code, title
                fields |= {"error_code", "error_title"}
        if fields:
            message.save(update_fields=sorted(fields))
        if status == MessageStatus.FAILED and code == 131026:
            Conversation.objects.filter(pk=message.conversation_id).update(
                unreachable_at=occurred_at
            )
        return message


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# --- the window ---------------------------------------------------------------------------------
def conversation_window_refresh(*, conversation: Conversation, at: datetime) -> None:
    """The patient wrote at `at`: the 24-hour window runs from then (never moves back)."""
    expires = at + WINDOW
    Conversation.objects.filter(pk=conversation.pk).filter(
        Q(window_expires_at__isnull=True) | Q(window_expires_at__lt=expires)
    ).update(window_expires_at=expires, last_inbound_at=at)
    # A number that writes to us can receive messages again.
    Conversation.objects.filter(pk=conversation.pk, unreachable_at__isnull=False).update(
        unreachable_at=None
    )
