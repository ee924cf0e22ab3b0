"""Recovering sends: retries after a back-off, messages that waited for a reconnected
account, messages whose send task was lost (`MESSAGES_WAITING`, swept by
`clinics.recovery`), sends interrupted mid-way (flagged for staff, never re-sent blindly; see
messaging.services.sending), and staff sending a message again after checking.

Only a "queued" message is ever enqueued again: it has not been handed to Meta (a worker moves
it to "sending" before calling the API). A message left "sending" may have gone out, so it goes
to the "check" flow (`messages_flag_uncertain`, `message_resend` by staff) instead."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clinics.audit import Actions, audit_record
from clinics.errors import DomainError
from clinics.queue import enqueue
from clinics.registry import WaitingWork
from messaging.models import (
    AccountStatus,
    Direction,
    Message,
    MessageKind,
    MessageStatus,
    WhatsAppAccount,
)
from messaging.services.sending import (
    SEND_TASK,
    UNCERTAIN_AFTER,
    Actor,
    enqueue_send,
    message_queue_document,
    message_queue_template,
    message_queue_text,
)


def messages_retry_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Enqueue queued messages whose back-off has passed (the retry schedule calls this)."""
    now = now or timezone.now()
    ids = list(
        Message.objects.filter(
            status=MessageStatus.QUEUED, next_attempt_at__isnull=False, next_attempt_at__lte=now
        ).values_list("pk", flat=True)[:limit]
    )
    for message_id in ids:
        enqueue(SEND_TASK, message_id)
    return len(ids)


def messages_waiting(cutoff: datetime) -> Q:
    """Outbound messages queued for a send task before `cutoff` (not for a back-off, which
    `messages_retry_due` handles, nor for a disconnected account): their task was lost."""
    enqueued = Q(queued_at__lt=cutoff) | Q(queued_at__isnull=True, created_at__lt=cutoff)
    return enqueued & Q(
        direction=Direction.OUTBOUND,
        status=MessageStatus.QUEUED,
        next_attempt_at__isnull=True,
        uncertain=False,
        conversation__account__status=AccountStatus.ACTIVE,
    )


MESSAGES_WAITING = WaitingWork(
    name="messaging.messages", order=40, model=Message, task=SEND_TASK, stale=messages_waiting
)


def messages_requeue_for_account(*, account: WhatsAppAccount) -> int:
    """After a clinic reconnects: send what waited for its account."""
    waiting = Message.objects.filter(
        conversation__account=account,
        status=MessageStatus.QUEUED,
        direction=Direction.OUTBOUND,
    )
    ids = list(waiting.values_list("pk", flat=True))
    Message.objects.filter(pk__in=ids).update(queued_at=timezone.now())
    for message_id in ids:
        enqueue_send(message_id)
    return len(ids)


def messages_flag_uncertain(*, now: datetime | None = None) -> int:
    """Flag messages stuck in "sending" (a worker died mid-send) for staff to check."""
    now = now or timezone.now()
    return (
        Message.objects.filter(status=MessageStatus.SENDING, uncertain=False, wamid__isnull=True)
        .filter(created_at__lt=now - UNCERTAIN_AFTER)
        .update(uncertain=True)
    )


@transaction.atomic
def message_resend(*, message: Message, actor: Actor) -> Message:
    """Staff checked an uncertain or failed message and want it sent again (a new message)."""
    message = Message.objects.select_for_update().get(pk=message.pk)
    if message.direction != Direction.OUTBOUND:
        raise DomainError("Only the clinic's own messages can be sent again.")
    if not (message.uncertain or message.status == MessageStatus.FAILED):
        raise DomainError("This message was sent; there is nothing to send again.")
    Message.objects.filter(pk=message.pk).update(uncertain=False)
    conversation = message.conversation
    if message.kind == MessageKind.TEMPLATE and message.template_id:
        copy = message_queue_template(
            template=message.template,
            actor=actor,
            purpose=message.purpose,
            conversation=conversation,
            body_params=(message.parameters or {}).get("body") or (),
            header_params=(message.parameters or {}).get("header") or (),
            buttons=(message.parameters or {}).get("buttons") or (),
        )
    elif message.kind == MessageKind.DOCUMENT and message.document_id:
        copy = message_queue_document(
            conversation=conversation, document=message.document, actor=actor
        )
    else:
        copy = message_queue_text(conversation=conversation, body=message.body, actor=actor)
    audit_record(
        clinic=message.clinic_id,
        actor=actor,
        action=Actions.MESSAGE_RESENT,
        target=copy,
        patient_id=copy.patient_id,
        data={"original_message_id": message.pk},
    )
    return copy
