"""Sending WhatsApp messages: queue (with every rule checked), deliver (in a worker), record.

A message is first a `Message` row ("queued"), written in the caller's transaction after the
rules that protect patients are checked (`send_refusal`): the clinic's number is connected,
the patient has a number that can receive WhatsApp, business-initiated messages have the
patient's opt-in for that purpose (care or marketing, and never marketing to a minor), and
free-form text goes only inside the 24-hour window. Escalation alerts to a staff member's
own WhatsApp (purpose "staff") need that person's own opt-in instead of a patient's consent
(messaging.services.staff_alerts). Delivery runs in a worker
(`messaging.tasks.send_message`, or the reminder dispatcher calling `message_deliver`).

The one uncertain window: `message_deliver` marks the row "sending" and commits before it
calls Meta, and records the wamid in a second transaction after Meta answers. If the worker
dies between Meta accepting the message and that second commit (or the HTTP read times out),
the row stays "sending" without a wamid: the message may or may not have reached the patient.
Such rows are never re-sent automatically; `messages_flag_uncertain`
(messaging.services.recovery) marks them `uncertain` for staff to check, and a later status
webhook that carries our id (`biz_opaque_callback_data`) settles them. The reminder
dispatcher saves Meta's answers ten messages at a time, so for it the window spans up to ten
sends (messaging.services.dispatch).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from clinics.actors import Actor
from clinics.audit import Actions, audit_record
from clinics.errors import DomainError
from clinics.models import User
from clinics.queue import enqueue
from compliance.models import ConsentPurpose
from compliance.selectors import consent_granted
from messaging.models import (
    Conversation,
    Direction,
    Message,
    MessageKind,
    MessagePurpose,
    MessageStatus,
    MessageTemplate,
    TemplateStatus,
    WhatsAppAccount,
    WhatsAppAlertOptIn,
)
from messaging.services.accounts import (
    account_client,
    account_for_clinic,
    account_mark_refused,
    require_account,
)
from messaging.whatsapp import (
    AccountError,
    MarketingOptedOut,
    OutsideWindow,
    PairRateLimited,
    TransientError,
    Undeliverable,
    WhatsAppClient,
    WhatsAppError,
    normalize_number,
    ratelimit,
)
from patients.models import Document, Patient

logger = logging.getLogger(__name__)

SEND_TASK = "messaging.tasks.send_message"
MAX_ATTEMPTS = 6
# Rows still "sending" after this long were interrupted mid-send (see the module docstring).
UNCERTAIN_AFTER = timedelta(minutes=5)
RATE_LIMIT_WAIT_SECONDS = 10.0  # also the longest a batch waits for its slots
PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


# --- conversations ------------------------------------------------------------------------------
def wa_id_for(patient: Patient) -> str:
    """The patient's WhatsApp number as WhatsApp writes it (E.164 digits, no +)."""
    number = patient.messaging_phone
    if not number:
        return ""
    return normalize_number(str(number))


def conversation_for_patient(*, patient: Patient, account: WhatsAppAccount) -> Conversation:
    """The conversation with the patient's WhatsApp number (created on first use).

    A conversation that began with an unknown sender on the same number is linked to the
    patient here.
    """
    wa_id = wa_id_for(patient)
    if not wa_id:
        raise DomainError("Add the patient's phone number first.", code="no_phone")
    conversation = Conversation.objects.filter(account=account, wa_id=wa_id).first()
    if conversation is None:
        try:
            with transaction.atomic():
                conversation = Conversation.objects.create(
                    clinic_id=account.clinic_id, account=account, patient=patient, wa_id=wa_id
                )
        except IntegrityError:  # created by a concurrent sender or webhook
            conversation = Conversation.objects.get(account=account, wa_id=wa_id)
    if conversation.patient_id is None:
        Conversation.objects.filter(pk=conversation.pk, patient__isnull=True).update(
            patient=patient
        )
        conversation.patient = patient
    return conversation


# --- the rules ----------------------------------------------------------------------------------
def send_refusal(
    *,
    account: WhatsAppAccount | None,
    conversation: Conversation | None,
    patient: Patient | None,
    purpose: str,
    free_form: bool,
    now: datetime | None = None,
    care_consent: bool | None = None,
) -> str | None:
    """Why this message must not be sent, in words for staff; None when it may be sent.

    `care_consent`: the patient's WhatsApp care opt-in when the caller already read it (the
    reminder dispatcher reads a whole batch's at once); None reads it here.
    """
    now = now or timezone.now()

    def agreed_to_care() -> bool:
        if care_consent is not None:
            return care_consent
        return consent_granted(patient_id=patient.pk, purpose=ConsentPurpose.WHATSAPP_CARE)

    if account is None:
        return "Connect the clinic's WhatsApp number in Settings first."
    if not account.can_send:
        return "WhatsApp is not working for this clinic: " + (
            account.problem or "reconnect the number in Settings."
        )
    if conversation is not None and conversation.unreachable_at is not None:
        return (
            "WhatsApp could not deliver to this number. Check the number with the patient; "
            "messages resume when they write to the clinic."
        )
    window_open = conversation is not None and conversation.window_open(now)
    if free_form and not window_open:
        return (
            "The 24-hour window has closed: the patient has not written in the last 24 hours. "
            "Send an approved template instead."
        )
    if purpose == MessagePurpose.STAFF:
        # A doctor is not a patient: their own opt-in counts, checked again at delivery
        # because they (or an owner) may turn alerts off while the message waits.
        if conversation is None or conversation.staff_id is None:
            return "Alerts to staff go only to a staff member's alert conversation."
        if not staff_alerts_wanted(conversation.staff_id):
            return "This staff member has turned WhatsApp alerts off."
    elif purpose == MessagePurpose.MARKETING:
        if patient is None:
            return "Marketing messages go only to registered patients who agreed to them."
        if patient.is_minor:
            return "Vaidya never sends marketing messages to patients under 18."
        if not consent_granted(patient_id=patient.pk, purpose=ConsentPurpose.WHATSAPP_MARKETING):
            return "The patient has not agreed to news and offers on WhatsApp."
    elif purpose == MessagePurpose.CARE:
        if patient is None:
            return "Link the conversation to a patient first."
        if not agreed_to_care():
            return "The patient has not agreed to WhatsApp messages from the clinic."
    elif not window_open:
        # A staff message outside the window starts a conversation: it is business-initiated
        # and needs the patient's opt-in, like a reminder.
        if patient is None:
            return "Link the conversation to a patient before writing first."
        if not agreed_to_care():
            return (
                "The patient has not agreed to WhatsApp messages, and has not written in the "
                "last 24 hours."
            )
    return None


def staff_alerts_wanted(membership_id: int) -> bool:
    """Whether this staff member has WhatsApp alerts on (and still works at the clinic)."""
    return WhatsAppAlertOptIn.objects.filter(
        membership_id=membership_id, enabled=True, membership__is_active=True
    ).exists()


def recipient_wa_id(conversation: Conversation) -> str:
    """Where the conversation's messages go, as WhatsApp writes numbers (digits, no +).

    A patient's conversation has its number; a staff member's alert conversation has none and
    uses the number of their opt-in, read at send time so a changed number applies at once.
    """
    if conversation.staff_id is None:
        return conversation.wa_id
    phone = (
        WhatsAppAlertOptIn.objects.filter(membership_id=conversation.staff_id)
        .values_list("phone", flat=True)
        .first()
    )
    return normalize_number(str(phone)) if phone else ""


def _require_sendable(**kwargs: Any) -> None:
    refusal = send_refusal(**kwargs)
    if refusal:
        raise DomainError(refusal, code="cannot_send")


# --- templates ----------------------------------------------------------------------------------
def template_for(*, clinic_id: int, purpose: str, language: str) -> MessageTemplate | None:
    """The approved template for a purpose, in the patient's language or else in English."""
    candidates = {
        t.language: t
        for t in MessageTemplate.objects.filter(
            clinic_id=clinic_id, purpose=purpose, status=TemplateStatus.APPROVED
        )
    }
    return candidates.get(language) or candidates.get("en") or next(iter(candidates.values()), None)


def render_template_text(template: MessageTemplate, body_params: Sequence[Any]) -> str:
    """The template's body with its placeholders filled, as the patient reads it."""
    values = [str(v) for v in body_params]

    def fill(match: re.Match) -> str:
        key = match.group(1)
        if key.isdigit() and 0 < int(key) <= len(values):
            return values[int(key) - 1]
        return match.group(0)

    text = PLACEHOLDER.sub(fill, template.body)
    if template.header_text:
        text = f"{template.header_text}\n{text}"
    return text


def check_parameters(template: MessageTemplate, body_params: Sequence[Any]) -> None:
    if len(body_params) != template.parameter_count:
        raise DomainError(
            f"The template {template.name} needs {template.parameter_count} values; "
            f"{len(body_params)} given.",
            field="parameters",
        )
    for value in body_params:
        text = str(value)
        if not text.strip():
            raise DomainError("Every template value must be filled in.", field="parameters")
        if "\n" in text or "    " in text:
            # Meta refuses parameters with new lines or four spaces in a row.
            raise DomainError(
                "Template values cannot contain new lines or runs of spaces.", field="parameters"
            )


# --- queueing -----------------------------------------------------------------------------------
def _actor_user(actor: Actor) -> User | None:
    return actor if isinstance(actor, User) and actor.is_authenticated else None


def _create(conversation: Conversation, **fields: Any) -> Message:
    message = Message.objects.create(
        clinic_id=conversation.clinic_id,
        conversation=conversation,
        patient_id=conversation.patient_id,
        direction=Direction.OUTBOUND,
        status=MessageStatus.QUEUED,
        **fields,
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_at=message.created_at, needs_reply=False
    )
    return message


def _audit_sent(message: Message, actor: Actor) -> None:
    if actor is None:
        return  # reminders are audited by their own rows; the trail records people's actions
    audit_record(
        clinic=message.clinic_id,
        actor=actor,
        action=Actions.MESSAGE_SENT,
        target=message,
        patient_id=message.patient_id,
        data={"kind": message.kind, "template": message.template_name},
    )


def enqueue_send(message_id: int) -> None:
    """Deliver the message in a worker once the current transaction commits."""

    def _enqueue() -> None:
        enqueue(SEND_TASK, message_id)

    transaction.on_commit(_enqueue)


@transaction.atomic
def message_queue_text(
    *, conversation: Conversation, body: str, actor: Actor, reply_to: str = ""
) -> Message:
    """Queue a free-form reply (inside the 24-hour window only)."""
    body = (body or "").strip()
    if not body:
        raise DomainError("Write a message first.", field="body")
    if len(body) > 4096:
        raise DomainError("WhatsApp messages are at most 4,096 characters.", field="body")
    conversation = Conversation.objects.select_related("patient", "account").get(pk=conversation.pk)
    _require_sendable(
        account=conversation.account,
        conversation=conversation,
        patient=conversation.patient,
        purpose=MessagePurpose.REPLY,
        free_form=True,
    )
    message = _create(
        conversation,
        kind=MessageKind.TEXT,
        purpose=MessagePurpose.REPLY,
        body=body,
        context_wamid=reply_to or "",
        sent_by=_actor_user(actor),
    )
    _audit_sent(message, actor)
    enqueue_send(message.pk)
    return message


@transaction.atomic
def message_queue_template(
    *,
    template: MessageTemplate,
    actor: Actor,
    purpose: str = MessagePurpose.CARE,
    conversation: Conversation | None = None,
    patient: Patient | None = None,
    body_params: Sequence[Any] = (),
    header_params: Sequence[Any] = (),
    buttons: Sequence[str] = (),
    enqueue: bool = True,
) -> Message:
    """Queue an approved template to a patient (or into an existing conversation).

    `buttons` are the quick-reply payloads, in the template's button order. With
    `enqueue=False` the caller delivers it itself (the reminder dispatcher does).
    """
    if purpose not in MessagePurpose.values:
        raise DomainError("Unknown message purpose.", field="purpose")
    if not template.is_approved:
        raise DomainError(
            f"The template {template.name} ({template.language}) is not approved by WhatsApp yet.",
            field="template",
        )
    body_params = [str(v) for v in body_params]
    check_parameters(template, body_params)
    if conversation is None:
        if patient is None:
            raise DomainError("Choose who the message is for.", field="patient")
        account = require_account(patient.clinic_id)
        conversation = conversation_for_patient(patient=patient, account=account)
    else:
        conversation = Conversation.objects.select_related("patient", "account").get(
            pk=conversation.pk
        )
    if template.clinic_id != conversation.clinic_id:
        raise DomainError("Choose one of the clinic's templates.", field="template")
    if template.category == "MARKETING":
        purpose = MessagePurpose.MARKETING
    _require_sendable(
        account=conversation.account,
        conversation=conversation,
        patient=conversation.patient,
        purpose=purpose,
        free_form=False,
    )
    message = _create(
        conversation,
        kind=MessageKind.TEMPLATE,
        purpose=purpose,
        body=render_template_text(template, body_params),
        template=template,
        template_name=template.name,
        template_language=template.language,
        parameters={
            "body": body_params,
            "header": [str(v) for v in header_params],
            "buttons": list(buttons),
        },
        sent_by=_actor_user(actor),
    )
    _audit_sent(message, actor)
    if enqueue:
        enqueue_send(message.pk)
    return message


@transaction.atomic
def message_queue_document(
    *, conversation: Conversation, document: Document, actor: Actor, caption: str = ""
) -> Message:
    """Queue a ready document as a WhatsApp file (inside the 24-hour window only)."""
    conversation = Conversation.objects.select_related("patient", "account").get(pk=conversation.pk)
    if document.clinic_id != conversation.clinic_id or (
        conversation.patient_id and document.patient_id != conversation.patient_id
    ):
        raise DomainError("Choose one of this patient's documents.", field="document")
    if not document.is_ready:
        raise DomainError("The document is not ready yet.", field="document")
    if len(caption) > 1024:
        raise DomainError("A caption is at most 1,024 characters.", field="caption")
    _require_sendable(
        account=conversation.account,
        conversation=conversation,
        patient=conversation.patient,
        purpose=MessagePurpose.REPLY,
        free_form=True,
    )
    message = _create(
        conversation,
        kind=MessageKind.DOCUMENT,
        purpose=MessagePurpose.REPLY,
        body=caption or document.title,
        document=document,
        media_mime_type=document.content_type,
        sent_by=_actor_user(actor),
    )
    _audit_sent(message, actor)
    enqueue_send(message.pk)
    return message


# --- delivery -----------------------------------------------------------------------------------
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
