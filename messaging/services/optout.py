"""STOP and START over WhatsApp: opting out is as easy as opting in.

A patient's message that is exactly one of the opt-out words (after trimming, case-folding and
removing punctuation) withdraws their WhatsApp care and marketing consent at once; START and
its equivalents give care consent back. So does a plain request in English, Hindi or Hinglish
that says the same ("Please stop sending me these messages", "मुझे मैसेज मत भेजो", "message
mat bhejo"). A message that only may mean it ("stop the reminders after Monday", "बस करो")
changes nothing: the reply asks "Reply STOP to confirm" in the patient's language. A message
about medicines ("should I stop the tablets?") is never read as an opt-out. All are answered
with a free-form reply naming the clinic (the window is open: they just wrote). "Cancel" is
not an opt-out word: it answers appointment reminders. For a conversation not yet linked to a
patient nothing can be recorded; the reply still confirms politely.
"""

from __future__ import annotations

import logging
import re
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

# What a message must say to count as "stop messaging me" without a confirming STOP: an ask
# about messages themselves. Matched against the normalised text (casefolded, no punctuation).
_MESSAGES = (
    r"(?:messages?|msgs?|texts?|sms|whatsapps?|reminders?|notifications?|मैसेज|संदेश|"
    r"मेसेज|रिमाइंडर|मैसेजेस)"
)
_THESE = r"(?:(?:these|the|your|any|all|such|those|more)\s+)*"
_CONFIDENT_STOP = tuple(
    re.compile(p)
    for p in (
        # English
        r"\b(?:stop|quit|cease)\s+(?:sending|messaging|texting)\b",
        rf"\b(?:stop|no more|don ?t send|do not send|dont send)\s+(?:me\s+)?{_THESE}{_MESSAGES}",
        rf"\b(?:i|we)\s+(?:do not|don ?t|dont)\s+want\s+{_THESE}{_MESSAGES}",
        r"\b(?:unsubscribe|opt out of|optout|remove)\s+me\b",
        r"\bremove\s+(?:my number|me)\s+from\b",
        # Hindi
        rf"{_MESSAGES}\s+(?:मत|न|ना)\s+भेज",
        rf"{_MESSAGES}\s+(?:भेजना\s+)?बंद\s+(?:करें|करो|कर दें|कर दो|कीजिए|कर दीजिए)",
        # Hinglish
        r"\b(?:message|messages|msg|msgs|sms|reminder|reminders)\s+(?:mat|na|naa|nahi)\s+bhej",
        r"\b(?:message|messages|msg|msgs|sms|reminder|reminders)\s+(?:bhejna\s+)?bandh?\s+"
        r"(?:karo|kar do|kardo|kijiye|kar dijiye|karein|karen)\b",
    )
)
# Words that may mean "stop messaging me" when the rest is unclear: ask first.
_MAYBE_STOP = re.compile(
    r"\b(?:stop|unsubscribe|no more|enough|band|bandh|bas karo|mat bhejo)\b|बंद|बस करो|मत भेज"
)
# A message about treatment is not an opt-out, whatever it says about stopping.
_ABOUT_TREATMENT = re.compile(
    r"\b(?:medicine|medicines|medication|tablet|tablets|tabs?|pills?|capsules?|syrup|dose|doses|"
    r"injection|dawa|dawai|goli)\b|दवा|दवाई|गोली|खुराक|इंजेक्शन"
)
# A condition or a question makes even a plain request unsure ("stop the reminders after
# Monday", "can you stop the messages?"): ask first.
_HEDGED = re.compile(
    r"\b(?:after|until|till|tomorrow|next|later|for now|for a while|for some days|can|could|"
    r"should|how|why|what|when|if|kya|kab|agar|baad)\b|क्या|कब|के बाद|तक|अगर"
)
MAYBE = "maybe"

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


ASK_TO_CONFIRM = gettext_noop(
    "Do you want to stop all WhatsApp messages from {clinic}? Reply STOP to confirm. "
    "If not, you need not do anything."
)
DEVANAGARI = re.compile(r"[\u0900-\u097F]")


def optout_keyword(text: str) -> str | None:
    """STOP, START, or None: is this whole message an opt-out or opt-in word?"""
    words = normalise(text)
    if words in STOP_WORDS:
        return STOP
    if words in START_WORDS:
        return START
    return None


def optout_intent(text: str) -> str | None:
    """STOP or START (act now), MAYBE (ask "Reply STOP to confirm"), or None.

    Exact words first; then a plain request to stop the messages; then a short message with a
    stop word whose meaning is unclear. Anything about medicines is left alone.
    """
    keyword = optout_keyword(text)
    if keyword is not None:
        return keyword
    words = normalise(text)  # "don't" reads "don t": apostrophes are punctuation
    if not words or len(words) > 300 or _ABOUT_TREATMENT.search(words):
        return None
    if any(p.search(words) for p in _CONFIDENT_STOP):
        return MAYBE if "?" in text or _HEDGED.search(words) else STOP
    if len(words.split()) <= 12 and _MAYBE_STOP.search(words):
        return MAYBE
    return None


@transaction.atomic
def optout_handle(*, message: Message, conversation: Conversation) -> bool:
    """Act on an opt-out or opt-in word in a patient's message; False if it is not one.

    STOP withdraws WhatsApp care and marketing consent; START grants care consent back
    (marketing is asked for separately). Either way the patient gets a confirmation.
    """
    keyword = optout_intent(message.body)
    if keyword is None:
        return False
    patient = (
        Patient.objects.filter(pk=conversation.patient_id).first()
        if conversation.patient_id
        else None
    )
    if keyword == MAYBE:
        # Nothing changes until the patient confirms; the message still waits for staff.
        _reply(ASK_TO_CONFIRM, conversation, _language(patient, message.body), keyword)
        Conversation.objects.filter(pk=conversation.pk).update(needs_reply=True)
        return False
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
    _confirm(keyword, conversation, patient, message.body)
    return True


def _language(patient: Patient | None, said: str) -> str:
    """The patient's language; for an unknown sender, Hindi when they wrote in Devanagari."""
    if patient is not None and patient.preferred_language:
        return patient.preferred_language
    return "hi" if DEVANAGARI.search(said or "") else "en"


def _confirm(
    keyword: str, conversation: Conversation, patient: Patient | None, said: str = ""
) -> None:
    _reply(CONFIRMATIONS[keyword], conversation, _language(patient, said), keyword)


def _reply(text: str, conversation: Conversation, language: str, keyword: str) -> None:
    """Send `text` (a gettext message id) in `language`, naming the clinic."""
    clinic = Clinic.objects.get(pk=conversation.clinic_id)
    with for_patient(language):
        body = gettext(text).format(clinic=clinic.name)
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
