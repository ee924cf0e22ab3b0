"""Escalations: alerts to the doctor that stay open until someone acts on them.

Worrying words. A patient's message containing one of the clinic's trouble words
(`MessagingSettings.trouble_words`: English, Hinglish and Hindi by default, one per line, each
matched at the start of a word, case-insensitively) gets at once a reply telling them to call
112 now (108 for an ambulance) and the clinic's phone, in Hindi when they wrote in Devanagari
or prefer Hindi, else in English. Their message opened the 24-hour window, so the free-form
reply is allowed (spec: whatsapp.md); it goes to an unknown number too. For a known patient an
urgent escalation opens: every doctor who treats the patient and has WhatsApp alerts on is
told (`staff_alerts.alert_recipients`), and the board shows it first until someone
acknowledges it (`escalation_acknowledge`) or resolves it.
"""

from __future__ import annotations

import logging
import re

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from clinics.audit import Actions, audit_record
from clinics.errors import DomainError
from clinics.languages import for_patient
from clinics.models import Clinic, Membership, User
from messaging.models import (
    Conversation,
    Escalation,
    EscalationReason,
    EscalationState,
    Language,
    Message,
)
from messaging.services.accounts import messaging_settings_for
from messaging.services.sending import message_queue_text
from messaging.services.staff_alerts import enqueue_escalation_alert, patient_last_doctor
from patients.models import Patient

logger = logging.getLogger(__name__)

# What the patient reads, translated with gettext into their language (locale/).
URGENT_REPLY = gettext_noop(
    "We have received your message. If this is an emergency, call 112 now, or 108 for an "
    "ambulance. Do not wait for a reply here."
)
URGENT_CLINIC_PHONE = gettext_noop("You can also call {clinic} on {phone}.")
URGENT_TOLD = gettext_noop("The clinic has been told.")
_DEVANAGARI = re.compile("[\u0900-\u097f]")


@transaction.atomic
def escalation_open(
    *,
    patient: Patient,
    reason: str,
    detail: str,
    subject: str,
    doctor: Membership | None = None,
    message: Message | None = None,
) -> Escalation:
    """Open an alert for the patient's doctor; one open alert per (reason, subject).

    `subject` names what it is about ("prescription:12", "appointment:5", "message:9"), so the
    same cause never opens a second alert while the first is open: that one is returned (and
    nothing more is sent). A new alert also goes to the doctor's WhatsApp when they opted in
    (messaging.services.staff_alerts).
    """
    existing = Escalation.objects.filter(
        clinic_id=patient.clinic_id, reason=reason, subject=subject, state=EscalationState.OPEN
    ).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                clinic_id=patient.clinic_id,
                patient=patient,
                doctor=doctor,
                reason=reason,
                detail=detail[:500],
                subject=subject[:60],
                message=message,
            )
    except IntegrityError:  # opened concurrently
        return Escalation.objects.get(
            clinic_id=patient.clinic_id, reason=reason, subject=subject, state=EscalationState.OPEN
        )
    audit_record(
        clinic=patient.clinic_id,
        actor=None,
        action=Actions.ESCALATION_OPENED,
        target=escalation,
        patient_id=patient.pk,
        data={"reason": reason, "doctor_id": doctor.pk if doctor else None},
    )
    # The doctor's own WhatsApp too, if they asked for it (after commit, in a worker).
    enqueue_escalation_alert(escalation.pk)
    return escalation


@transaction.atomic
def escalation_resolve(*, escalation: Escalation, actor: User, resolution: str) -> Escalation:
    """Close an alert, saying what was done (called the patient, changed the medicine, ...)."""
    resolution = " ".join((resolution or "").split())
    if not resolution:
        raise DomainError("Say what was done about it.", field="resolution")
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    if escalation.state == EscalationState.RESOLVED:
        raise DomainError("This alert was already resolved.", code="conflict")
    escalation.state = EscalationState.RESOLVED
    escalation.resolved_at = timezone.now()
    escalation.resolved_by = actor
    escalation.resolution = resolution[:500]
    escalation.save(update_fields=["state", "resolved_at", "resolved_by", "resolution"])
    audit_record(
        clinic=escalation.clinic_id,
        actor=actor,
        action=Actions.ESCALATION_RESOLVED,
        target=escalation,
        patient_id=escalation.patient_id,
        data={"reason": escalation.reason},
    )
    return escalation


@transaction.atomic
def escalation_acknowledge(*, escalation: Escalation, actor: User) -> Escalation:
    """Someone has seen an urgent alert: it stays open but no longer leads the board."""
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    if escalation.state == EscalationState.RESOLVED:
        raise DomainError("This alert was already resolved.", code="conflict")
    if escalation.acknowledged_at is not None:
        return escalation
    escalation.acknowledged_at = timezone.now()
    escalation.acknowledged_by = actor
    escalation.save(update_fields=["acknowledged_at", "acknowledged_by"])
    audit_record(
        clinic=escalation.clinic_id,
        actor=actor,
        action=Actions.ESCALATION_ACKNOWLEDGED,
        target=escalation,
        patient_id=escalation.patient_id,
        data={"reason": escalation.reason},
    )
    return escalation


# --- worrying words -------------------------------------------------------------------------------
def trouble_words_found(words: list[str], text: str) -> list[str]:
    """The clinic's words that occur in `text`, each at the start of a word, ignoring case."""
    folded = text.casefold()
    return [w for w in words if re.search(r"(?<!\w)" + re.escape(w), folded)]


def urgent_reply_text(*, clinic: Clinic, language: str) -> str:
    """What a patient who wrote worrying words reads at once, in their language."""
    with for_patient(language):
        parts = [gettext(URGENT_REPLY)]
        if clinic.phone:
            phone = clinic.phone.as_international
            parts.append(gettext(URGENT_CLINIC_PHONE).format(clinic=clinic.name, phone=phone))
        parts.append(gettext(URGENT_TOLD))
    return " ".join(parts)


def _reply_language(said: str, patient: Patient | None) -> str:
    if _DEVANAGARI.search(said):
        return Language.HINDI
    return patient.preferred_language if patient is not None else Language.ENGLISH


def trouble_words_handle(*, message: Message, conversation: Conversation, said: str) -> bool:
    """Answer a message with worrying words at once and alert the patient's doctors (module
    docstring). `said` is the patient's whole text, past what was stored. True when found."""
    words = messaging_settings_for(message.clinic_id).trouble_word_list()
    found = trouble_words_found(words, said)
    if not found:
        return False
    patient = (
        Patient.objects.select_related("clinic").get(pk=conversation.patient_id)
        if conversation.patient_id
        else None
    )
    clinic = patient.clinic if patient is not None else Clinic.objects.get(pk=message.clinic_id)
    text = urgent_reply_text(clinic=clinic, language=_reply_language(said, patient))
    try:
        with transaction.atomic():
            # Never held to the clinic's plan: a patient in trouble is told where to get
            # help whatever the month's message count (a commercial limit is no reason).
            message_queue_text(
                conversation=conversation,
                body=text,
                actor=None,
                reply_to=message.wamid,
                within_plan=False,
            )
    except DomainError as error:  # the number stopped working: the board still has it
        logger.warning("urgent reply to message %s not sent: %s", message.pk, error.code)
    if patient is not None:
        escalation_open(
            patient=patient,
            reason=EscalationReason.TROUBLE_WORDS,
            detail=f"The patient's WhatsApp message mentions: {', '.join(found)[:400]}",
            subject=f"message:{message.pk}",
            doctor=patient_last_doctor(patient.pk),
            message=message,
        )
    return True
