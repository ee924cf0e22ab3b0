"""The rules that protect patients, checked before any WhatsApp message is written or sent.

`send_refusal` says why a message must not go out (in words for staff), or None: the clinic's
number is connected and working, the recipient's number can receive WhatsApp, business-initiated
messages have the patient's opt-in for their purpose (care or marketing, never marketing to a
minor), free-form text goes only inside the 24-hour window, and a staff alert needs that staff
member's own opt-in instead of a patient's consent. Every send path asks it: queueing one
message, the reminder dispatcher's batches, and delivery again (consent can be withdrawn while a
message waits).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinics.errors import DomainError
from compliance.models import ConsentPurpose
from compliance.selectors import consent_granted
from messaging.models import Conversation, MessagePurpose, WhatsAppAccount, WhatsAppAlertOptIn
from messaging.whatsapp import normalize_number
from patients.models import Patient

WINDOW_CLOSED = (
    "The 24-hour window has closed: the patient has not written in the last 24 hours. "
    "Send an approved template instead."
)


# --- numbers and conversations --------------------------------------------------------------
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


def staff_alerts_wanted(membership_id: int) -> bool:
    """Whether this staff member has WhatsApp alerts on (and still works at the clinic)."""
    return WhatsAppAlertOptIn.objects.filter(
        membership_id=membership_id, enabled=True, membership__is_active=True
    ).exists()


# --- the rules ------------------------------------------------------------------------------
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
    refusal = _channel_refusal(account, conversation)
    if refusal:
        return refusal
    window_open = conversation is not None and conversation.window_open(now or timezone.now())
    if free_form and not window_open:
        return WINDOW_CLOSED

    def agreed_to_care() -> bool:
        if care_consent is not None:
            return care_consent
        return consent_granted(patient_id=patient.pk, purpose=ConsentPurpose.WHATSAPP_CARE)

    if purpose == MessagePurpose.STAFF:
        return _staff_refusal(conversation)
    if purpose == MessagePurpose.MARKETING:
        return _marketing_refusal(patient)
    if purpose == MessagePurpose.CARE:
        return _care_refusal(patient, agreed_to_care)
    if not window_open:
        # A staff message outside the window starts a conversation: it is business-initiated
        # and needs the patient's opt-in, like a reminder.
        return _first_word_refusal(patient, agreed_to_care)
    return None


def require_sendable(**kwargs) -> None:
    """Raise the `send_refusal` reason as a DomainError when there is one."""
    refusal = send_refusal(**kwargs)
    if refusal:
        raise DomainError(refusal, code="cannot_send")


def _channel_refusal(
    account: WhatsAppAccount | None, conversation: Conversation | None
) -> str | None:
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
    return None


def _staff_refusal(conversation: Conversation | None) -> str | None:
    # A doctor is not a patient: their own opt-in counts, checked again at delivery because
    # they (or an owner) may turn alerts off while the message waits.
    if conversation is None or conversation.staff_id is None:
        return "Alerts to staff go only to a staff member's alert conversation."
    if not staff_alerts_wanted(conversation.staff_id):
        return "This staff member has turned WhatsApp alerts off."
    return None


def _marketing_refusal(patient: Patient | None) -> str | None:
    if patient is None:
        return "Marketing messages go only to registered patients who agreed to them."
    if patient.is_minor:
        return "Vaidya never sends marketing messages to patients under 18."
    if not consent_granted(patient_id=patient.pk, purpose=ConsentPurpose.WHATSAPP_MARKETING):
        return "The patient has not agreed to news and offers on WhatsApp."
    return None


def _care_refusal(patient: Patient | None, agreed: Callable[[], bool]) -> str | None:
    if patient is None:
        return "Link the conversation to a patient first."
    if not agreed():
        return "The patient has not agreed to WhatsApp messages from the clinic."
    return None


def _first_word_refusal(patient: Patient | None, agreed: Callable[[], bool]) -> str | None:
    if patient is None:
        return "Link the conversation to a patient before writing first."
    if not agreed():
        return (
            "The patient has not agreed to WhatsApp messages, and has not written in the "
            "last 24 hours."
        )
    return None
