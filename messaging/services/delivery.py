"""Delivering queued WhatsApp messages: claim, send to Meta, record the answer.

Every message goes out through `send_claimed`: one message (`message_deliver`, run by the
`messaging.tasks.send_message` task) or a batch the reminder dispatcher wrote already claimed
(`messages_deliver_batch`). So the send-rate limit, the handling of each error code Meta
documents and the uncertain-send rule (see `messaging.services.sending`) are written once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from clinics.errors import DomainError
from messaging.models import Conversation, Message, MessageKind, MessageStatus, WhatsAppAccount
from messaging.services.account_state import (
    account_client,
    account_for_clinic,
    account_mark_refused,
)
from messaging.services.send_rules import recipient_wa_id, send_refusal
from messaging.whatsapp import (
    AccountError,
    MarketingOptedOut,
    OutsideWindow,
    PairRateLimited,
    TransientError,
    Undeliverable,
    WhatsAppClient,
    WhatsAppError,
    ratelimit,
)

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# Rows still "sending" after this long were interrupted mid-send (see sending's docstring).
UNCERTAIN_AFTER = timedelta(minutes=5)
RATE_LIMIT_WAIT_SECONDS = 10.0  # also the longest a batch waits for its slots
# A batch saves Meta's answers (wamids) for this many sent messages at a time.
RECORD_EVERY = 10
SENT_STATUSES = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ)


# --- one message --------------------------------------------------------------------------
def _claim(message_id: int, now: datetime) -> bool:
    """Move a queued, due message to "sending"; False when another worker has it (or it is
    not queued any more, or not due). One UPDATE: safe on PostgreSQL and SQLite alike."""
    return bool(
        Message.objects.filter(pk=message_id, status=MessageStatus.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(status=MessageStatus.SENDING, attempts=F("attempts") + 1)
    )


def _call_api(
    message: Message, account: WhatsAppAccount, to: str, client: WhatsAppClient | None = None
) -> Any:
    client = client or account_client(account)
    callback = str(message.public_id)
    if message.kind == MessageKind.TEXT:
        return client.send_text(
            to, message.body, reply_to=message.context_wamid or None, callback_data=callback
        )
    if message.kind == MessageKind.TEMPLATE:
        params = message.parameters or {}
        return client.send_template(
            to,
            message.template_name,
            message.template_language,
            header_params=params.get("header") or (),
            body_params=params.get("body") or (),
            buttons=params.get("buttons") or (),
            copy_code=params.get("copy_code") or None,
            callback_data=callback,
        )
    if message.kind == MessageKind.INTERACTIVE:
        choices = (message.parameters or {}).get("list") or {}
        return client.send_list(
            to,
            body=message.body,
            button=choices.get("button", ""),
            rows=choices.get("rows") or [],
            callback_data=callback,
        )
    if message.kind == MessageKind.DOCUMENT:
        document = message.document
        with document.file.open("rb") as handle:
            data = handle.read()
        media_id = client.upload_media(data, document.content_type, document.download_name)
        return client.send_document(
            to,
            media_id=media_id,
            filename=document.download_name,
            caption=message.body[:1024] or None,
            callback_data=callback,
        )
    raise DomainError(f"Vaidya cannot send a {message.get_kind_display()} message.")


def message_deliver(*, message_id: int, now: datetime | None = None) -> Message:
    """Send a queued message to Meta now and record the answer. Idempotent.

    Only a queued, due message is sent, and only by the worker that claims it. Errors are
    handled as the Cloud API documents them: transient ones and throughput (130429) are
    retried with backoff; pair rate (131056) pauses this recipient for 4^n seconds; an
    undeliverable number (131026) is never retried and is marked unreachable; outside the
    window (131047) fails so staff can send a template; an invalid token (190) stops the
    clinic's sending and alerts it, keeping the message queued for when it reconnects.
    """
    now = now or timezone.now()
    if not _claim(message_id, now):
        return Message.objects.get(pk=message_id)
    message = Message.objects.select_related(
        "conversation", "conversation__account", "conversation__patient", "document"
    ).get(pk=message_id)
    conversation = message.conversation
    account = conversation.account
    # The rules are checked again: consent can be withdrawn and windows close while queued.
    refusal = send_refusal(
        account=account,
        conversation=conversation,
        patient=conversation.patient,
        purpose=message.purpose,
        free_form=message.kind != MessageKind.TEMPLATE,
        now=now,
    )
    if refusal and not account.can_send:
        return _requeue(message, None, reason=refusal)
    if refusal:
        return _fail(message, code=None, title=refusal, now=now)
    if conversation.paused_until and conversation.paused_until > now:
        return _requeue(message, conversation.paused_until, reason="Waiting for the recipient")
    return send_claimed(message=message, conversation=conversation, account=account)


def send_claimed(
    *,
    message: Message,
    conversation: Conversation,
    account: WhatsAppAccount,
    client: WhatsAppClient | None = None,
    record: bool = True,
    pacer: ratelimit.Pacer | None = None,
) -> Message:
    """Send a message this worker has claimed ("sending", rules checked) and record Meta's
    answer. The second half of `message_deliver`, also used by the reminder dispatcher, which
    claims, checks and writes a whole batch before sending it.

    With `record=False` a successful send is only set on `message` (the caller saves several
    at once with `messages_record_sent`); failures are always recorded here. `pacer`: send
    slots the caller reserved for a batch (`ratelimit.acquire_many`) instead of one here.
    """
    try:
        if pacer is not None:
            pacer.wait()
        else:
            ratelimit.acquire(
                account.phone_number_id,
                rate=account.send_rate_per_second,
                timeout=RATE_LIMIT_WAIT_SECONDS,
            )
        result = _call_api(message, account, recipient_wa_id(conversation), client)
    except WhatsAppError as error:
        return _handle_error(message, conversation, account, error, timezone.now())
    except DomainError as error:
        return _fail(message, code=None, title=error.message, now=timezone.now())
    message.wamid = result.wamid
    message.status = MessageStatus.SENT
    message.sent_at = timezone.now()
    message.next_attempt_at = None
    message.uncertain = False
    message.error_code = None
    message.error_title = ""
    if record:
        # One autocommitted UPDATE: the uncertain window closes as soon as Meta has answered.
        Message.objects.filter(pk=message.pk).update(
            wamid=message.wamid,
            status=message.status,
            sent_at=message.sent_at,
            next_attempt_at=None,
            uncertain=False,
            error_code=None,
            error_title="",
        )
    return message


def messages_record_sent(messages: Sequence[Message]) -> None:
    """Save what Meta answered (the wamid) for messages sent with `send_claimed(record=False)`.

    One plain UPDATE for the lot (Django's bulk_update builds its CASE expressions slowly
    enough to matter at a hundred messages a second); the sent time is the latest of theirs.
    """
    if not messages:
        return
    table = Message._meta.db_table
    cases = " ".join("WHEN %s THEN %s" for _ in messages)
    ids = ", ".join("%s" for _ in messages)
    params: list[Any] = [MessageStatus.SENT, max(m.sent_at for m in messages), False]
    for message in messages:
        params += [message.pk, message.wamid]
    params += [m.pk for m in messages]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, sent_at = %s, uncertain = %s, "  # noqa: S608
            "next_attempt_at = NULL, error_code = NULL, error_title = '', "
            f"wamid = CASE id {cases} END WHERE id IN ({ids})",
            params,
        )


def _requeue(message: Message, at: datetime | None, *, reason: str) -> Message:
    Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
        status=MessageStatus.QUEUED, next_attempt_at=at, error_title=reason[:300]
    )
    message.refresh_from_db()
    return message


def _fail(message: Message, *, code: int | None, title: str, now: datetime) -> Message:
    Message.objects.filter(pk=message.pk).exclude(
        status__in=[MessageStatus.DELIVERED, MessageStatus.READ]
    ).update(status=MessageStatus.FAILED, failed_at=now, error_code=code, error_title=title[:300])
    message.refresh_from_db()
    logger.info("WhatsApp message %s failed: %s", message.pk, code or "refused")
    return message


def _handle_error(
    message: Message,
    conversation: Conversation,
    account: WhatsAppAccount,
    error: WhatsAppError,
    now: datetime,
) -> Message:
    code = error.code
    title = (error.title or str(error))[:300]
    attempts = message.attempts
    if isinstance(error, TransientError) and error.maybe_sent:
        # The request may have reached Meta: re-sending could deliver it twice.
        Message.objects.filter(pk=message.pk).update(
            uncertain=True, error_code=code, error_title=title
        )
        message.refresh_from_db()
        return message
    if isinstance(error, TransientError):
        if attempts >= MAX_ATTEMPTS:
            return _fail(message, code=code, title=title, now=now)
        at = now + timedelta(seconds=error.backoff_seconds(attempts - 1))
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.QUEUED, next_attempt_at=at, error_code=code, error_title=title
        )
    elif isinstance(error, PairRateLimited):
        if attempts >= MAX_ATTEMPTS:
            return _fail(message, code=code, title=title, now=now)
        at = now + timedelta(seconds=error.backoff_seconds(attempts - 1))
        Conversation.objects.filter(pk=conversation.pk).update(paused_until=at)
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.QUEUED, next_attempt_at=at, error_code=code, error_title=title
        )
    elif isinstance(error, AccountError):
        account_mark_refused(account_id=account.pk, problem=title)
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.QUEUED, next_attempt_at=None, error_code=code, error_title=title
        )
    elif isinstance(error, Undeliverable):
        Conversation.objects.filter(pk=conversation.pk).update(unreachable_at=now)
        return _fail(message, code=code, title=title, now=now)
    elif isinstance(error, OutsideWindow):
        # Our window was wrong (or expired in flight): close it so staff pick a template.
        Conversation.objects.filter(pk=conversation.pk).update(window_expires_at=now)
        return _fail(
            message,
            code=code,
            title="Outside the 24-hour window: send an approved template instead.",
            now=now,
        )
    elif isinstance(error, MarketingOptedOut):
        return _fail(message, code=code, title=title, now=now)
    else:
        return _fail(message, code=code, title=title, now=now)
    message.refresh_from_db()
    return message


def account_can_send(clinic_id: int) -> bool:
    account = account_for_clinic(clinic_id)
    return bool(account and account.can_send)


# --- a batch ---------------------------------------------------------------------------------
class Claimed(Protocol):
    """A message written already claimed ("sending", rules checked), with its conversation."""

    message: Message
    conversation: Conversation


C = TypeVar("C", bound=Claimed)


def messages_deliver_batch(
    batch: Sequence[C],
    *,
    account: WhatsAppAccount,
    on_recorded: Callable[[list[C]], None],
    on_not_sent: Callable[[C], None],
) -> list[C]:
    """Send a batch of claimed messages of one account, one by one, through `send_claimed`.

    Send slots are reserved RECORD_EVERY at a time (one call to the shared limiter); Meta's
    answers are saved RECORD_EVERY sent messages at a time, each group in one transaction with
    `on_recorded(items)` (the caller's own rows, such as reminders, follow their messages).
    `on_not_sent(item)` is called for a message that failed, waits for a retry or may have been
    sent (uncertain). When Meta refuses the account, the rest are queued again for when the
    clinic reconnects and returned; otherwise returns [].
    """
    client = account_client(account)
    sent: list[C] = []
    pacer = None
    for index, item in enumerate(batch):
        if index % RECORD_EVERY == 0:
            pacer = _reserve_slots(account, len(batch[index : index + RECORD_EVERY]))
        message = send_claimed(
            message=item.message,
            conversation=item.conversation,
            account=account,
            client=client,
            record=False,
            pacer=pacer,
        )
        if message.status in SENT_STATUSES:
            sent.append(item)
        else:
            on_not_sent(item)
        if message.status == MessageStatus.QUEUED and message.next_attempt_at is None:
            # Meta refused the account: the rest wait, queued, for the clinic to reconnect.
            rest = list(batch[index + 1 :])
            Message.objects.filter(
                pk__in=[r.message.pk for r in rest], status=MessageStatus.SENDING
            ).update(status=MessageStatus.QUEUED, attempts=0)
            _record(sent, on_recorded)
            return rest
        if len(sent) >= RECORD_EVERY:
            _record(sent, on_recorded)
            sent = []
    _record(sent, on_recorded)
    return []


def _reserve_slots(account: WhatsAppAccount, count: int) -> ratelimit.Pacer | None:
    """Send slots for the next `count` messages in one call to the shared limiter; None (one
    slot per message then, with its own error handling) when the number is at its limit."""
    try:
        return ratelimit.acquire_many(
            account.phone_number_id,
            count,
            rate=account.send_rate_per_second,
            timeout=RATE_LIMIT_WAIT_SECONDS,
        )
    except TransientError:
        return None


def _record(sent: list[C], on_recorded: Callable[[list[C]], None]) -> None:
    """Save Meta's answers for sent messages and let the caller follow them, in one commit."""
    if not sent:
        return
    with transaction.atomic():
        messages_record_sent([item.message for item in sent])
        on_recorded(sent)
