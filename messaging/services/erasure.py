"""Messaging's part of erasing a patient's data (`compliance.erasure.steps`): planned WhatsApp
reminders are cancelled and WhatsApp consent is withdrawn, inside the erasure's transaction."""

from __future__ import annotations

from clinics.actors import Actor
from compliance.erasure.steps import ErasureStep
from compliance.models import ConsentMethod, ConsentPurpose
from compliance.services import consent_withdraw
from messaging.models import Reminder, ReminderStatus
from patients.models import Patient


def erasure_whatsapp_stop(*, patient_id: int, actor: Actor) -> int:
    """Cancel the patient's planned reminders and withdraw every WhatsApp consent they gave.
    Returns how many reminders were cancelled; safe to run twice."""
    cancelled = Reminder.objects.filter(
        patient_id=patient_id, status=ReminderStatus.PLANNED
    ).update(status=ReminderStatus.CANCELLED)
    patient = Patient.objects.get(pk=patient_id)
    for purpose in ConsentPurpose.values:
        consent_withdraw(
            patient=patient, purpose=purpose, method=ConsentMethod.ERASURE, actor=actor
        )
    return cancelled


WHATSAPP_STOP = ErasureStep(
    name="messaging.whatsapp_stop",
    order=10,
    run=erasure_whatsapp_stop,
    description="Planned WhatsApp reminders cancelled and WhatsApp consent withdrawn",
)
