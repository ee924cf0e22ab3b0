"""Processing a verified webhook delivery: statuses, patients' messages, preferences, templates.

`webhook_delivery_process` runs in the `process_webhook` task, inside the clinic's scope. It is
idempotent: a status is recorded once per (wamid, status), an inbound message once per wamid
(a redelivered message changes nothing), and a delivery is deleted only when every part of it
was processed. Inbound media is copied into the clinic's storage at once (Meta's media ids
expire after 7 days); a download that fails is recorded on the message and retried by the
task's retry, which finds the stored message by its wamid and only downloads again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from clinics.errors import DomainError
from compliance.models import ConsentMethod, ConsentPurpose
from compliance.services import consent_grant, consent_withdraw
from messaging.models import (
    Conversation,
    ConversationState,
    Direction,
    Message,
    MessageKind,
    MessageStatus,
    MessageTemplate,
    TemplateStatus,
    WebhookDelivery,
    WhatsAppAccount,
)
from messaging.replies import dispatch_reply, handles
from messaging.services import inbound_limits as bound
from messaging.services.auto_replies import (
    acknowledge_when_closed,
    clinic_name_of,
    clinic_signed,
)
from messaging.services.escalations import trouble_words_handle
from messaging.services.inbound_conversations import conversation_for_sender, patient_for_number
from messaging.services.inbound_limits import clip, cut_text, text_of
from messaging.services.inbound_media import (
    MEDIA_KINDS,
    inbound_media_copy,
)
from messaging.services.optout import optout_handle
from messaging.services.rights_requests import rights_request_handle
from messaging.services.sending import message_queue_text
from messaging.services.staff_alerts import staff_message_handle
from messaging.services.statuses import conversation_window_refresh, message_status_record
from patients.models import Patient

logger = logging.getLogger(__name__)

KINDS = {
    "text": MessageKind.TEXT,
    "button": MessageKind.BUTTON,
    "interactive": MessageKind.INTERACTIVE,
    "image": MessageKind.IMAGE,
    "document": MessageKind.DOCUMENT,
    "audio": MessageKind.AUDIO,
    "video": MessageKind.VIDEO,
    "sticker": MessageKind.STICKER,
    "location": MessageKind.LOCATION,
    "reaction": MessageKind.REACTION,
}


class MediaDownloadFailed(Exception):
    """Some inbound media could not be copied yet; the task is retried for it."""


# --- the delivery -------------------------------------------------------------------------------
def webhook_delivery_process(*, delivery_id: int) -> str:
    """Process one stored webhook delivery (call inside the clinic's scope). Idempotent.

    The delivery is deleted once processed; on an error it is kept with its attempt count and
    the error's kind, and the error is raised again so the task is retried.
    """
    delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        return "gone"
    account = WhatsAppAccount.objects.get(pk=delivery.account_id)
    try:
        payload = json.loads(bytes(delivery.body))
        counts = webhook_payload_process(account=account, payload=payload)
    except Exception as exc:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            attempts=F("attempts") + 1, error=_error_text(exc)
        )
        logger.warning("whatsapp webhook delivery %s failed: %s", delivery.pk, type(exc).__name__)
        raise
    WebhookDelivery.objects.filter(pk=delivery.pk).delete()
    return ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "nothing"


def _error_text(exc: Exception) -> str:
    # Database errors can quote values (a phone number): only our own messages are kept.
    if isinstance(exc, MediaDownloadFailed):
        return f"{type(exc).__name__}: {exc}"[:300]
    return type(exc).__name__[:300]


def webhook_payload_process(*, account: WhatsAppAccount, payload: Mapping[str, Any]) -> dict:
    """Every change of a verified envelope for `account`; returns counts of what was done.

    Inbound media that could not be copied does not stop the rest of the delivery; it raises
    `MediaDownloadFailed` at the end so the task is retried.
    """
    counts = {"statuses": 0, "messages": 0, "preferences": 0, "templates": 0, "errors": 0}
    media_failures = 0
    for entry in payload.get("entry") or []:
        for change in entry.get("changes") or []:
            field = change.get("field")
            value = change.get("value") or {}
            if field == "message_template_status_update":
                counts["templates"] += template_status_update(account=account, value=value)
                continue
            for status in value.get("statuses") or []:
                _status(account, status)
                counts["statuses"] += 1
            contacts = value.get("contacts") or []
            for item in value.get("messages") or []:
                message = inbound_message_record(account=account, contacts=contacts, item=item)
                if message is None:
                    continue
                counts["messages"] += 1
                if not inbound_media_copy(account=account, message=message, item=item):
                    media_failures += 1
            for preference in value.get("user_preferences") or []:
                counts["preferences"] += user_preference_record(
                    account=account, contacts=contacts, preference=preference
                )
            errors = value.get("errors") or []
            if errors:
                counts["errors"] += len(errors)
                # Only the count: error details may quote a patient's message.
                logger.warning(
                    "whatsapp webhook carried %d system errors account=%s",
                    len(errors),
                    account.pk,
                )
    if media_failures:
        raise MediaDownloadFailed(f"{media_failures} inbound media not copied yet")
    return counts


def _when(timestamp: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(timestamp), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return timezone.now()


def _status(account: WhatsAppAccount, status: Mapping[str, Any]) -> None:
    wamid = clip(status.get("id"), bound.WAMID, mark=False)
    if not wamid:
        return
    message_status_record(
        account=account,
        wamid=wamid,
        status=clip(status.get("status"), bound.STATUS_WORD, mark=False),
        occurred_at=_when(status.get("timestamp")),
        errors=_errors(status.get("errors")),
        callback_data=clip(status.get("biz_opaque_callback_data"), bound.CALLBACK_DATA),
    )


def _errors(errors: Any) -> list[dict[str, Any]]:
    """The first error of a status, with only what Vaidya keeps of it (code and title)."""
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return []
    error = errors[0]
    title = error.get("title") or error.get("message")
    return [
        {
            "code": clip(error.get("code"), bound.ERROR_CODE, mark=False),
            "title": clip(title, bound.ERROR_TITLE),
        }
    ]


# --- who wrote ----------------------------------------------------------------------------------
def _identity(contacts: list, item: Mapping[str, Any]) -> tuple[str, str, str]:
    """(wa_id, bsuid, profile name) of the sender of one inbound message."""
    wa_id = text_of(item.get("from"))
    bsuid = text_of(item.get("from_user_id") or item.get("user_id"))
    contact: Mapping[str, Any] = {}
    for candidate in contacts:
        if not isinstance(candidate, dict):
            continue
        if (wa_id and candidate.get("wa_id") == wa_id) or (
            bsuid and candidate.get("user_id") == bsuid
        ):
            contact = candidate
            break
    if not contact and len(contacts) == 1 and isinstance(contacts[0], dict):
        contact = contacts[0]
    wa_id = wa_id or text_of(contact.get("wa_id"))
    bsuid = bsuid or text_of(contact.get("user_id"))
    if wa_id and not wa_id.isdigit():
        wa_id = ""  # a username-only user: no phone number
    profile = contact.get("profile")
    name = clip(profile.get("name") if isinstance(profile, dict) else "", bound.PROFILE_NAME)
    return clip(wa_id, bound.WA_ID, mark=False), clip(bsuid, bound.BSUID, mark=False), name


# --- inbound messages ---------------------------------------------------------------------------
def _content(kind: str, item: Mapping[str, Any]) -> tuple[str, str]:
    """(body text, payload) of an inbound message, each within its bound (`inbound_limits`)."""
    part = item.get(kind) if isinstance(item.get(kind), dict) else {}
    if kind == "text":
        return cut_text(part.get("body")), ""
    if kind == "button":
        payload = clip(part.get("payload"), bound.REPLY_ID, mark=False)
        return clip(part.get("text"), bound.REPLY_TITLE), payload
    if kind == "interactive":
        reply = part.get("button_reply") or part.get("list_reply")
        reply = reply if isinstance(reply, dict) else {}
        payload = clip(reply.get("id"), bound.REPLY_ID, mark=False)
        return clip(reply.get("title"), bound.REPLY_TITLE), payload
    if kind in MEDIA_KINDS:
        return cut_text(part.get("caption"), bound.CAPTION, what="caption"), ""
    if kind == "location":
        words = [clip(part.get(k), bound.LOCATION_PART) for k in ("name", "address")]
        words = [w for w in words if w]
        if not words and part.get("latitude") is not None:
            where = [
                clip(part.get(k), bound.COORDINATE, mark=False) for k in ("latitude", "longitude")
            ]
            words = [", ".join(where)]
        return ", ".join(words), ""
    if kind == "reaction":
        return clip(part.get("emoji"), bound.REACTION), ""
    return "", ""


def inbound_message_record(
    *, account: WhatsAppAccount, contacts: list, item: Mapping[str, Any]
) -> Message | None:
    """Store one message from a patient and act on it; the stored message when it was seen
    before (a redelivery is a no-op). None for a message without an id or a sender."""
    wamid = clip(item.get("id"), bound.WAMID, mark=False)
    if not wamid:
        return None
    existing = Message.objects.filter(wamid=wamid).first()
    if existing is not None:
        return existing
    wa_id, bsuid, name = _identity(contacts, item)
    kind_name = str(item.get("type") or "unsupported")
    kind = KINDS.get(kind_name, MessageKind.UNSUPPORTED)
    body, payload = _content(kind_name, item)
    media = item.get(kind_name) if kind_name in MEDIA_KINDS else None
    media = media if isinstance(media, dict) else {}
    occurred_at = _when(item.get("timestamp"))
    now = timezone.now()
    with transaction.atomic():
        conversation = conversation_for_sender(account, wa_id, bsuid, name)
        if conversation is None:
            logger.warning("whatsapp inbound message without a sender account=%s", account.pk)
            return None
        try:
            with transaction.atomic():
                message = Message.objects.create(
                    clinic_id=account.clinic_id,
                    conversation=conversation,
                    patient_id=conversation.patient_id,
                    direction=Direction.INBOUND,
                    kind=kind,
                    body=body,
                    payload=payload,
                    wamid=wamid,
                    context_wamid=_context_wamid(item),
                    status=MessageStatus.RECEIVED,
                    media_mime_type=clip(media.get("mime_type"), bound.MIME_TYPE, mark=False),
                    media_filename=clip(media.get("filename"), bound.FILENAME),
                    created_at=now,
                )
        except IntegrityError:  # the same wamid stored concurrently
            return Message.objects.get(wamid=wamid)
        conversation_window_refresh(conversation=conversation, at=min(occurred_at, now))
        touched = {"unread_count": F("unread_count") + 1, "last_message_at": now}
        # What the patient writes always waits for a person; a quick reply Vaidya answers by
        # itself (Confirm, Taken, a rating) does not, and leaves the thread as it was.
        if not handles(payload):
            touched.update(needs_reply=True, state=ConversationState.OPEN)
        Conversation.objects.filter(pk=conversation.pk).update(**touched)
        _act_on(message, conversation, said=_said(kind_name, item) or body)
    return message


def _said(kind: str, item: Mapping[str, Any]) -> str:
    """The patient's own words in a text or a caption, as sent (not stored: for trouble words)."""
    part = item.get(kind)
    if not isinstance(part, dict):
        return ""
    return text_of(part.get("body") if kind == "text" else part.get("caption"))


def _context_wamid(item: Mapping[str, Any]) -> str:
    context = item.get("context")
    return clip(context.get("id") if isinstance(context, dict) else "", bound.WAMID, mark=False)


def _act_on(message: Message, conversation: Conversation, *, said: str) -> None:
    """What a patient's message triggers: opt-out words, data-rights requests, quick replies,
    trouble words. A staff member writing into their alert conversation is answered by
    `staff_message_handle`. `said` is the patient's whole text, also the part past what was
    stored."""
    if conversation.staff_id is not None:
        staff_message_handle(message=message, conversation=conversation)
        return
    if message.kind == MessageKind.TEXT and optout_handle(
        message=message, conversation=conversation
    ):
        return
    if message.kind == MessageKind.TEXT:
        rights_request_handle(message=message, conversation=conversation)
    if message.payload:
        try:
            with transaction.atomic():
                handled, reply = dispatch_reply(message)
                if handled and reply:
                    body = clinic_signed(reply, clinic_name_of(conversation))
                    message_queue_text(conversation=conversation, body=body, actor=None)
        except DomainError as error:
            logger.warning(
                "whatsapp quick reply on message %s not handled: %s", message.pk, error.code
            )
    # Worrying words: an immediate reply, and an urgent alert for a known patient. The
    # urgent reply says what to do now, so no "we are closed" answer follows it.
    urgent = bool(message.body) and trouble_words_handle(
        message=message, conversation=conversation, said=said
    )
    if not urgent and not handles(message.payload):
        acknowledge_when_closed(conversation=conversation, message=message)


# --- marketing preferences and template reviews -------------------------------------------------
def user_preference_record(
    *, account: WhatsAppAccount, contacts: list, preference: Mapping[str, Any]
) -> int:
    """A `user_preferences` change: the user stopped or resumed marketing messages. Applied to
    the linked (or uniquely matched) patient; 1 when consent changed, else 0."""
    if preference.get("category") != "marketing_messages":
        return 0
    value = str(preference.get("value") or "").lower()
    if value not in {"stop", "resume"}:
        return 0
    wa_id = clip(preference.get("wa_id"), bound.WA_ID, mark=False)
    bsuid = clip(preference.get("user_id"), bound.BSUID, mark=False)
    if not wa_id and not bsuid:
        wa_id, bsuid, _name = _identity(contacts, {})
    wa_id = wa_id if wa_id.isdigit() else ""
    patient = None
    conversation = None
    if wa_id:
        conversation = Conversation.objects.filter(account=account, wa_id=wa_id).first()
    if conversation is None and bsuid:
        conversation = Conversation.objects.filter(account=account, bsuid=bsuid).first()
    if conversation is not None and conversation.patient_id:
        patient = Patient.objects.get(pk=conversation.patient_id)
    else:
        patient = patient_for_number(clinic_id=account.clinic_id, wa_id=wa_id)
    if patient is None:
        logger.info("whatsapp marketing preference for an unknown user account=%s", account.pk)
        return 0
    words = (
        clip(preference.get("detail"), bound.PREFERENCE_DETAIL) or f"marketing_messages: {value}"
    )
    try:
        if value == "stop":
            event = consent_withdraw(
                patient=patient,
                purpose=ConsentPurpose.WHATSAPP_MARKETING,
                method=ConsentMethod.WHATSAPP_REPLY,
                actor=None,
                words=words,
            )
        else:
            if patient.is_minor:
                return 0  # never marketing for minors
            event = consent_grant(
                patient=patient,
                purpose=ConsentPurpose.WHATSAPP_MARKETING,
                method=ConsentMethod.WHATSAPP_REPLY,
                actor=None,
            )
    except DomainError:
        return 0
    return 1 if event is not None else 0


def template_status_update(*, account: WhatsAppAccount, value: Mapping[str, Any]) -> int:
    """Meta reviewed (or paused, disabled) one of the clinic's templates."""
    event = str(value.get("event") or "").upper()
    if event not in TemplateStatus.values:
        return 0
    name = clip(value.get("message_template_name"), bound.TEMPLATE_NAME, mark=False)
    language = clip(value.get("message_template_language"), bound.TEMPLATE_LANGUAGE, mark=False)
    reason = clip(value.get("reason"), bound.TEMPLATE_REASON)
    if reason.upper() == "NONE":
        reason = ""
    fields: dict[str, Any] = {"status": event, "synced_at": timezone.now()}
    fields["rejected_reason"] = reason if event == TemplateStatus.REJECTED else ""
    return MessageTemplate.objects.filter(
        clinic_id=account.clinic_id, name=name, language=language
    ).update(**fields)
