"""STOP and START over WhatsApp: opting out is as easy as opting in.

A patient's message that is exactly one of the opt-out words (after trimming, case-folding and
removing punctuation) withdraws their WhatsApp care and marketing consent at once; START and
its equivalents give care consent back. Both are confirmed with a free-form reply (the window
is open: they just wrote). "Cancel" is not an opt-out word: it answers appointment reminders.
For a conversation not yet linked to a patient nothing can be recorded; the reply still
confirms politely.
"""

from __future__ import annotations

import logging
import unicodedata

from django.db import transaction
from django.utils.translation import gettext, gettext_noop

from clinics.errors import DomainError
from clinics.languages import for_patient
from clinics.models import Clinic
from compliance.models import ConsentMethod, ConsentPurpose
from compliance.notices import notice_text
from compliance.services import consent_grant, consent_withdraw
from messaging.models import Conversation, Message
from messaging.services.sending import message_queue_text
from patients.models import Patient

logger = logging.getLogger(__name__)

STOP = "stop"
START = "start"


def normalise(text: str) -> str:
    """Case-folded, without punctuation or symbols, single-spaced (Devanagari marks kept)."""
    kept = "".join(
        " " if unicodedata.category(ch)[0] in {"P", "S"} else ch for ch in (text or "").casefold()
    )
    return " ".join(kept.split())


STOP_WORDS = frozenset(
    normalise(w)
    for w in (
        "STOP",
        "STOP ALL",
        "UNSUBSCRIBE",
        "OPT OUT",
        "OPT-OUT",
        "OPTOUT",
        "END",
        "QUIT",
        "बंद",
        "बंद करो",
        "बंद करें",
        "रोको",
        "रोकें",
        "मत भेजो",
        "band",
        "band karo",
        "bandh karo",
        "mat bhejo",
        "rok do",
    )
)
START_WORDS = frozenset(
    normalise(w) for w in ("START", "SUBSCRIBE", "शुरू", "चालू करो", "shuru", "chalu karo")
)

CONFIRMATIONS = {
    STOP: gettext_noop(
        "You will no longer receive WhatsApp messages from {clinic}. "
        "To get them again, reply START."
    ),
    START: gettext_noop(
        "Thank you. {clinic} will send you WhatsApp messages about your care again. "
        "Reply STOP at any time to stop them."
    ),
}


def optout_keyword(text: str) -> str | None:
    """STOP, START, or None: is this whole message an opt-out or opt-in word?"""
    words = normalise(text)
    if words in STOP_WORDS:
        return STOP
    if words in START_WORDS:
        return START
    return None


@transaction.atomic
def optout_handle(*, message: Message, conversation: Conversation) -> bool:
    """Act on an opt-out or opt-in word in a patient's message; False if it is not one.

    STOP withdraws WhatsApp care and marketing consent; START grants care consent back
    (marketing is asked for separately). Either way the patient gets a confirmation.
    """
    keyword = optout_keyword(message.body)
    if keyword is None:
        return False
    patient = (
        Patient.objects.filter(pk=conversation.patient_id).first()
        if conversation.patient_id
        else None
    )
    if patient is not None:
        try:
            if keyword == STOP:
                for purpose in (ConsentPurpose.WHATSAPP_CARE, ConsentPurpose.WHATSAPP_MARKETING):
                    consent_withdraw(
                        patient=patient,
                        purpose=purpose,
                        method=ConsentMethod.WHATSAPP_REPLY,
                        actor=None,
                        words=message.body,
                    )
            else:
                clinic = Clinic.objects.get(pk=patient.clinic_id)
                phone = str(patient.messaging_phone or "")
                consent_grant(
                    patient=patient,
                    purpose=ConsentPurpose.WHATSAPP_CARE,
                    method=ConsentMethod.WHATSAPP_REPLY,
                    actor=None,
                    notice=notice_text(
                        purpose=ConsentPurpose.WHATSAPP_CARE,
                        clinic=clinic,
                        phone=phone,
                        language=patient.preferred_language,
                    ),
                )
        except DomainError as error:
            logger.warning(
                "whatsapp %s for patient %s not recorded: %s", keyword, patient.pk, error.code
            )
    _confirm(keyword, conversation, patient)
    return True


def _confirm(keyword: str, conversation: Conversation, patient: Patient | None) -> None:
    clinic = Clinic.objects.get(pk=conversation.clinic_id)
    with for_patient(patient.preferred_language if patient is not None else None):
        body = gettext(CONFIRMATIONS[keyword]).format(clinic=clinic.name)
    try:
        with transaction.atomic():
            message_queue_text(conversation=conversation, body=body, actor=None)
    except DomainError as error:
        logger.warning(
            "whatsapp %s confirmation not queued for conversation %s: %s",
            keyword,
            conversation.pk,
            error.code,
        )
