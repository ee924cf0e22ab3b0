"""Sending WhatsApp messages: queue (with every rule checked), deliver (in a worker), record.

This is the one send path: an inbox reply, a template from staff or the API, a document, a
doctor's alert and the reminder dispatcher's batches all build their messages with
`outgoing_template` / `outgoing_message` (the rules in `send_rules`), write them with
`messages_write`, and are delivered through `delivery.send_claimed`.

A message is first a `Message` row ("queued"), written in the caller's transaction after the
rules that protect patients are checked (`send_refusal`): the clinic's number is connected,
the patient has a number that can receive WhatsApp, business-initiated messages have the
patient's opt-in for that purpose (care or marketing, and never marketing to a minor), and
free-form text goes only inside the 24-hour window. Escalation alerts to a staff member's
own WhatsApp (purpose "staff") need that person's own opt-in instead of a patient's consent
(messaging.services.staff_alerts). Delivery runs in a worker
(`messaging.tasks.send_message`), or right away for the dispatcher's batches, which are written
already claimed (`delivery.messages_deliver_batch`).

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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinics.actors import Actor
from clinics.audit import Actions, audit_record
from clinics.errors import DomainError
from clinics.guards import limit_refusal, limit_status
from clinics.models import User
from clinics.queue import enqueue
from messaging.models import (
    Conversation,
    Direction,
    Message,
    MessageKind,
    MessagePurpose,
    MessageStatus,
    MessageTemplate,
    WhatsAppAccount,
)
from messaging.services.account_state import require_account
from messaging.services.delivery import (
    MAX_ATTEMPTS,
    RATE_LIMIT_WAIT_SECONDS,
    UNCERTAIN_AFTER,
    account_can_send,
    message_deliver,
    messages_record_sent,
    send_claimed,
)
from messaging.services.send_rules import (
    conversation_for_patient,
    recipient_wa_id,
    require_sendable,
    send_refusal,
    staff_alerts_wanted,
    wa_id_for,
)
from messaging.services.template_text import (
    PLACEHOLDER,
    check_parameters,
    has_optout_line,
    render_template_text,
    template_for,
)
from patients.models import Document, Patient

__all__ = [
    "MAX_ATTEMPTS",
    "PLACEHOLDER",
    "RATE_LIMIT_WAIT_SECONDS",
    "SEND_TASK",
    "UNCERTAIN_AFTER",
    "Actor",
    "Outgoing",
    "account_can_send",
    "check_parameters",
    "conversation_for_patient",
    "enqueue_send",
    "hold_to_plan",
    "message_deliver",
    "message_queue_document",
    "message_queue_list",
    "message_queue_template",
    "message_queue_text",
    "messages_record_sent",
    "messages_write",
    "outgoing_message",
    "outgoing_template",
    "recipient_wa_id",
    "render_template_text",
    "send_claimed",
    "send_refusal",
    "staff_alerts_wanted",
    "template_for",
    "wa_id_for",
]

SEND_TASK = "messaging.tasks.send_message"
# The clinic's plan limits outbound messages a calendar month (billing's subscriptions).
PLAN_RESOURCE = "whatsapp_messages"


# --- building and writing outbound messages -------------------------------------------------
@dataclass
class Outgoing:
    """An outbound message that passed every rule (not saved yet), with its conversation."""

    message: Message
    conversation: Conversation


def outgoing_message(
    conversation: Conversation,
    *,
    patient_id: int | None,
    claimed: bool = False,
    now: datetime | None = None,
    **fields: Any,
) -> Outgoing:
    """An unsaved outbound message in `conversation`: "queued" for a worker, or `claimed`
    ("sending", one attempt) by a caller that sends it itself right after writing it."""
    created_at = timezone.now()
    if now is not None and now < created_at:
        created_at = now
    message = Message(
        clinic_id=conversation.clinic_id,
        conversation=conversation,
        patient_id=patient_id,
        direction=Direction.OUTBOUND,
        status=MessageStatus.SENDING if claimed else MessageStatus.QUEUED,
        attempts=1 if claimed else 0,
        created_at=created_at,
        **fields,
    )
    return Outgoing(message, conversation)


def outgoing_template(
    *,
    template: MessageTemplate,
    purpose: str,
    account: WhatsAppAccount | None,
    conversation: Conversation | None,
    patient: Patient | None,
    body_params: Sequence[Any],
    header_params: Sequence[Any] = (),
    buttons: Sequence[str] = (),
    sent_by: User | None = None,
    now: datetime | None = None,
    care_consent: bool | None = None,
    claimed: bool = False,
) -> Outgoing:
    """An approved template message checked against every rule (`send_refusal`), not saved.

    Raises DomainError with the reason, for staff, when it must not go out. A patient without a
    conversation (`conversation=None`) gets one once the rules allow the message.
    `care_consent`: the patient's care opt-in when the caller read a batch's at once.
    """
    body_params = [str(v) for v in body_params]
    check_parameters(template, body_params)
    require_sendable(
        account=account,
        conversation=conversation,
        patient=patient,
        purpose=purpose,
        free_form=False,
        now=now,
        care_consent=care_consent,
    )
    if conversation is None:
        conversation = conversation_for_patient(patient=patient, account=account)
    return outgoing_message(
        conversation,
        patient_id=patient.pk if patient is not None else conversation.patient_id,
        claimed=claimed,
        now=now,
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
        sent_by=sent_by,
    )


def hold_to_plan(messages: Sequence[Message], *, clinic_id: int) -> str | None:
    """Mark the messages the clinic's plan no longer allows this month "failed" (not sent,
    never lost: they show in the thread with the reason), before they are written. Returns
    the reason, or None when all fit.

    The plan limits messages to patients (replies, care, marketing). Never held back: alerts
    to staff about a patient in trouble (purpose "staff"), and messages written already
    claimed, whose callers decide (the reminder dispatcher holds its batch to the plan itself;
    one-time codes for a patient's data rights and erasure notices are legal duties and go
    out whatever the plan). Queries: one without a subscription; else the guard's few, a
    constant number (`clinics.guards`).
    """
    limited = [
        m
        for m in messages
        if m.status == MessageStatus.QUEUED and m.purpose != MessagePurpose.STAFF
    ]
    if not limited:
        return None
    reason = limit_refusal(clinic_id, PLAN_RESOURCE, adding=len(limited))
    if reason is None:
        return None
    status = limit_status(clinic_id, PLAN_RESOURCE)
    allowed = status.remaining if status is not None else 0
    now = timezone.now()
    for message in limited[allowed:]:
        message.status = MessageStatus.FAILED
        message.failed_at = now
        message.error_title = reason[:300]
    return reason


def messages_write(
    outgoing: Sequence[Outgoing], *, answers: bool = True, within_plan: bool = True
) -> list[Message]:
    """Write outbound messages (one INSERT) and move their conversations to the top.

    `answers`: the messages answer the patient, so their conversations no longer wait for a
    reply (a reminder does not answer anyone). `within_plan`: hold them to the clinic's plan
    (`hold_to_plan`); False only for a message a patient's safety or rights need (the urgent
    reply to a patient in trouble, a reply to a staff member's alert).
    """
    if within_plan and outgoing:
        hold_to_plan([o.message for o in outgoing], clinic_id=outgoing[0].message.clinic_id)
    messages = Message.objects.bulk_create([o.message for o in outgoing])
    touched: dict[str, Any] = {"last_message_at": timezone.now()}
    if answers:
        touched["needs_reply"] = False
    Conversation.objects.filter(pk__in={o.conversation.pk for o in outgoing}).update(**touched)
    return messages


# --- queueing one message -------------------------------------------------------------------
def _actor_user(actor: Actor) -> User | None:
    return actor if isinstance(actor, User) and actor.is_authenticated else None


def _queue(
    outgoing: Outgoing, actor: Actor, *, deliver: bool = True, within_plan: bool = True
) -> Message:
    # Only a person's message answers the patient: an automatic one (actor None: a quick
    # reply's acknowledgement, STOP's confirmation) leaves the thread in "Needs reply".
    [message] = messages_write([outgoing], answers=actor is not None, within_plan=within_plan)
    held = message.status == MessageStatus.FAILED
    if actor is not None:  # reminders are audited by their own rows; the trail records people
        data = {"kind": message.kind, "template": message.template_name}
        if held:
            data["not_sent"] = "plan_limit"
        audit_record(
            clinic=message.clinic_id,
            actor=actor,
            action=Actions.MESSAGE_SENT,
            target=message,
            patient_id=message.patient_id,
            data=data,
        )
    if deliver and not held:
        enqueue_send(message.pk)
    return message


def enqueue_send(message_id: int) -> None:
    """Deliver the message in a worker once the current transaction commits."""

    def _enqueue() -> None:
        enqueue(SEND_TASK, message_id)

    transaction.on_commit(_enqueue)


def _with_rules(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_related("patient", "account").get(pk=conversation.pk)


@transaction.atomic
def message_queue_text(
    *,
    conversation: Conversation,
    body: str,
    actor: Actor,
    reply_to: str = "",
    within_plan: bool = True,
) -> Message:
    """Queue a free-form reply (inside the 24-hour window only). `within_plan=False` only
    for what a patient's safety needs (see `messages_write`)."""
    body = (body or "").strip()
    if not body:
        raise DomainError("Write a message first.", field="body")
    if len(body) > 4096:
        raise DomainError("WhatsApp messages are at most 4,096 characters.", field="body")
    conversation = _with_rules(conversation)
    require_sendable(
        account=conversation.account,
        conversation=conversation,
        patient=conversation.patient,
        purpose=MessagePurpose.REPLY,
        free_form=True,
    )
    outgoing = outgoing_message(
        conversation,
        patient_id=conversation.patient_id,
        kind=MessageKind.TEXT,
        purpose=MessagePurpose.REPLY,
        body=body,
        context_wamid=reply_to or "",
        sent_by=_actor_user(actor),
    )
    return _queue(outgoing, actor, within_plan=within_plan)


@transaction.atomic
def message_queue_list(
    *,
    conversation: Conversation,
    body: str,
    button: str,
    rows: Sequence[dict[str, str]],
    actor: Actor,
) -> Message:
    """Queue an interactive list (inside the 24-hour window only): `rows` are
    `{"id", "title"}` choices the patient picks one of with a tap (its id comes back as the
    reply's payload, see messaging.replies)."""
    conversation = _with_rules(conversation)
    require_sendable(
        account=conversation.account,
        conversation=conversation,
        patient=conversation.patient,
        purpose=MessagePurpose.REPLY,
        free_form=True,
    )
    outgoing = outgoing_message(
        conversation,
        patient_id=conversation.patient_id,
        kind=MessageKind.INTERACTIVE,
        purpose=MessagePurpose.REPLY,
        body=body,
        parameters={"list": {"button": button, "rows": [dict(r) for r in rows]}},
        sent_by=_actor_user(actor),
    )
    return _queue(outgoing, actor)


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
    `enqueue=False` the caller delivers it itself.
    """
    if purpose not in MessagePurpose.values:
        raise DomainError("Unknown message purpose.", field="purpose")
    if not template.is_approved:
        raise DomainError(
            f"The template {template.name} ({template.language}) is not approved by WhatsApp yet.",
            field="template",
        )
    check_parameters(template, [str(v) for v in body_params])  # what staff typed, first
    if template.category == "MARKETING" and not has_optout_line(template):
        raise DomainError(
            f"The marketing template {template.name} does not say how to stop these messages. "
            'Add a line such as "Reply STOP to stop these messages" (a footer is enough) and '
            "have WhatsApp review it again.",
            field="template",
            code="no_optout_line",
        )
    if conversation is None:
        if patient is None:
            raise DomainError("Choose who the message is for.", field="patient")
        account = require_account(patient.clinic_id)
        conversation = conversation_for_patient(patient=patient, account=account)
    else:
        conversation = _with_rules(conversation)
    if template.clinic_id != conversation.clinic_id:
        raise DomainError("Choose one of the clinic's templates.", field="template")
    outgoing = outgoing_template(
        template=template,
        purpose=MessagePurpose.MARKETING if template.category == "MARKETING" else purpose,
        account=conversation.account,
        conversation=conversation,
        patient=conversation.patient,
        body_params=body_params,
        header_params=header_params,
        buttons=buttons,
        sent_by=_actor_user(actor),
    )
    return _queue(outgoing, actor, deliver=enqueue)


@transaction.atomic
def message_queue_document(
    *, conversation: Conversation, document: Document, actor: Actor, caption: str = ""
) -> Message:
    """Queue a ready document as a WhatsApp file (inside the 24-hour window only)."""
    conversation = _with_rules(conversation)
    if document.clinic_id != conversation.clinic_id or (
        conversation.patient_id and document.patient_id != conversation.patient_id
    ):
        raise DomainError("Choose one of this patient's documents.", field="document")
    if not document.is_ready:
        raise DomainError("The document is not ready yet.", field="document")
    if len(caption) > 1024:
        raise DomainError("A caption is at most 1,024 characters.", field="caption")
    require_sendable(
        account=conversation.account,
        conversation=conversation,
        patient=conversation.patient,
        purpose=MessagePurpose.REPLY,
        free_form=True,
    )
    outgoing = outgoing_message(
        conversation,
        patient_id=conversation.patient_id,
        kind=MessageKind.DOCUMENT,
        purpose=MessagePurpose.REPLY,
        body=caption or document.title,
        document=document,
        media_mime_type=document.content_type,
        sent_by=_actor_user(actor),
    )
    return _queue(outgoing, actor)
