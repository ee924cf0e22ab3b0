"""Who wrote to the clinic's WhatsApp number: the conversation with that sender (created on
first contact and matched to the one patient with that number) or a staff member's alert
conversation when a doctor answers an alert."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from messaging.models import Conversation, WhatsAppAccount
from messaging.services.staff_alerts import staff_conversation_for_number
from patients.models import Patient


def patient_for_number(*, clinic_id: int, wa_id: str) -> Patient | None:
    """The one patient whose phone or WhatsApp number is +<wa_id>; None for none or several
    (families share phones: staff link those conversations themselves)."""
    if not wa_id:
        return None
    number = "+" + wa_id
    matches = list(
        Patient.objects.filter(clinic_id=clinic_id, archived_at__isnull=True)
        .filter(Q(phone=number) | Q(whatsapp_phone=number))
        .only("pk", "clinic_id", "preferred_language")[:2]
    )
    return matches[0] if len(matches) == 1 else None


def conversation_for_sender(
    account: WhatsAppAccount, wa_id: str, bsuid: str, name: str
) -> Conversation | None:
    """The conversation with this WhatsApp user (created, and matched to a patient, if new)."""
    if not wa_id and not bsuid:
        return None
    conversation = _known(account, wa_id, bsuid)
    if conversation is None:
        staff = _staff_alerts_of(account, wa_id)
        if staff is not None:
            return staff
        conversation = _created(account, wa_id, bsuid, name)
    _refresh_identity(conversation, account, wa_id, bsuid, name)
    return conversation


def _known(account: WhatsAppAccount, wa_id: str, bsuid: str) -> Conversation | None:
    conversation = None
    if wa_id:
        conversation = Conversation.objects.filter(account=account, wa_id=wa_id).first()
    if conversation is None and bsuid:
        conversation = Conversation.objects.filter(account=account, bsuid=bsuid).first()
    return conversation


def _staff_alerts_of(account: WhatsAppAccount, wa_id: str) -> Conversation | None:
    """A doctor answering an alert: keep it with their alerts, not as an unknown number."""
    if not wa_id or patient_for_number(clinic_id=account.clinic_id, wa_id=wa_id) is not None:
        return None
    return staff_conversation_for_number(account=account, wa_id=wa_id)


def _created(account: WhatsAppAccount, wa_id: str, bsuid: str, name: str) -> Conversation:
    try:
        with transaction.atomic():
            return Conversation.objects.create(
                clinic_id=account.clinic_id,
                account=account,
                wa_id=wa_id,
                bsuid=bsuid,
                profile_name=name,
            )
    except IntegrityError:  # created concurrently (a send, or another delivery)
        lookup = Q(wa_id=wa_id) if wa_id else Q(bsuid=bsuid)
        if wa_id and bsuid:
            lookup |= Q(bsuid=bsuid)
        conversation = Conversation.objects.filter(lookup, account=account).order_by("id").first()
        if conversation is None:
            raise
        return conversation


def _refresh_identity(
    conversation: Conversation, account: WhatsAppAccount, wa_id: str, bsuid: str, name: str
) -> None:
    """Complete what the conversation knows of the sender (number, user id, name, patient)."""
    updates: dict[str, Any] = {}
    if wa_id and not conversation.wa_id:
        updates["wa_id"] = wa_id
    if bsuid and not conversation.bsuid:
        updates["bsuid"] = bsuid
    if name and name != conversation.profile_name:
        updates["profile_name"] = name
    if conversation.patient_id is None:
        patient = patient_for_number(clinic_id=account.clinic_id, wa_id=wa_id or conversation.wa_id)
        if patient is not None:
            updates["patient"] = patient
    if not updates:
        return
    try:
        with transaction.atomic():
            Conversation.objects.filter(pk=conversation.pk).update(**updates)
    except IntegrityError:  # the identity belongs to another conversation: keep ours
        updates.pop("wa_id", None)
        updates.pop("bsuid", None)
        if updates:
            Conversation.objects.filter(pk=conversation.pk).update(**updates)
    for key, value in updates.items():
        setattr(conversation, key, value)
