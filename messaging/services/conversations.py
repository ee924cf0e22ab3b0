"""Conversations staff act on: linking an unknown sender to a patient."""

from __future__ import annotations

from django.db import transaction

from clinics.audit import Actions, audit_record
from clinics.errors import DomainError
from clinics.models import ApiKey, User
from messaging.models import Conversation, Message
from patients.models import Patient


@transaction.atomic
def conversation_link(
    *, conversation: Conversation, patient: Patient, actor: User | ApiKey
) -> Conversation:
    """Link a conversation with an unknown sender to a patient of the same clinic.

    Its messages so far are linked too. A conversation already linked is refused (unlinking is
    a separate, deliberate step), and so is another clinic's patient.
    """
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if patient.clinic_id != conversation.clinic_id:
        raise DomainError("Choose one of this clinic's patients.", field="patient")
    if conversation.patient_id is not None:
        raise DomainError(
            "This conversation is already linked to a patient.", code="already_linked"
        )
    conversation.patient = patient
    conversation.save(update_fields=["patient"])
    Message.objects.filter(conversation=conversation, patient__isnull=True).update(patient=patient)
    audit_record(
        clinic=conversation.clinic_id,
        actor=actor,
        action=Actions.CONVERSATION_LINKED,
        target=conversation,
        patient_id=patient.pk,
        data={"conversation_id": conversation.pk},
    )
    return conversation
