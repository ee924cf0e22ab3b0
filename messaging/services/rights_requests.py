"""Data-rights requests in a patient's WhatsApp message: access, a copy, correction, deletion.

"Please delete all my data and send me a copy of my records" is recognised in English, Hindi
and Hinglish. The patient is answered at once, in their language and naming the clinic, with
what happens next: the clinic will contact them, check it is them, and answer within
ANSWER_TARGET_DAYS (the law allows at most 90). The request goes to the staff's rights desk
(compliance.rights_intake) when one is registered; until then the conversation stays in
"Needs reply" with a visible label of the kinds ("Data request: copy, deletion"). Nothing is
deleted or sent automatically: identity is checked by a person first.
"""

from __future__ import annotations

import logging
import re

from django.db import transaction

from clinics.errors import DomainError
from clinics.models import Clinic
from compliance.rights_intake import (
    ACCESS,
    ANSWER_LIMIT_DAYS,
    ANSWER_TARGET_DAYS,
    COPY,
    CORRECTION,
    DELETION,
    KINDS,
    RightsRequestSeen,
    kinds_label,
    rights_request_hand_over,
)
from messaging.models import Conversation, Message, MessageKind, MessagePurpose
from messaging.services.optout import DEVANAGARI, normalise
from messaging.services.send_rules import require_sendable
from messaging.services.sending import enqueue_send, messages_write, outgoing_message
from patients.models import Patient

logger = logging.getLogger(__name__)

# What the request is about: the patient's data, in the three languages.
_DATA = (
    r"(?:data|records?|information|info|details|medical history|history|reports?|files?|"
    r"jankari|jaankari|डेटा|डाटा|रिकॉर्ड|रिकार्ड|जानकारी|विवरण|रिपोर्ट|फ़ाइल|फाइल)"
)
# Details a patient may ask to correct.
_FIELDS = (
    r"(?:name|address|date of birth|dob|age|phone number|number|email|gender|details|"
    r"information|records?|naam|pata|नाम|पता|जन्म तिथि|उम्र|जानकारी|रिकॉर्ड|विवरण)"
)
_MY = r"(?:(?:all|of|my|our|the|your|his|her|personal|medical|health)\s+)*"

PATTERNS: dict[str, tuple[re.Pattern[str], ...]] = {
    ACCESS: tuple(
        re.compile(p)
        for p in (
            rf"\bwhat\s+{_MY}{_DATA}\s+(?:do|does|have|did|are)\b",
            rf"\b(?:access|see|view|know)\s+(?:to\s+)?{_MY}{_DATA}",
            rf"\bwhich\s+{_MY}{_DATA}\b",
            rf"(?:क्या|कौन सी|कौनसी|कौन-सी)\s.{{0,20}}{_DATA}",
            rf"{_DATA}.{{0,30}}(?:देखनी|देखना|दिखाओ|दिखाइए|बताइए|बताओ)",
            rf"\b(?:kya|kaun sa|kaunsa|konsa|kaun si|konsi)\s+(?:\w+\s+){{0,3}}{_DATA}",
            rf"{_DATA}\s+(?:\w+\s+){{0,3}}(?:dekhna|dekhni|dikhao|batao)\b",
        )
    ),
    COPY: tuple(
        re.compile(p)
        for p in (
            rf"\b(?:copy|copies|export|download)\b.{{0,40}}{_DATA}",
            rf"{_DATA}.{{0,30}}\b(?:copy|copies)\b",
            rf"\bsend\s+(?:me\s+)?{_MY}(?:data|records|information)\b",
            rf"(?:कॉपी|प्रति|प्रतिलिपि|नकल).{{0,30}}{_DATA}",
            rf"{_DATA}.{{0,30}}(?:कॉपी|प्रति|प्रतिलिपि|नकल)",
        )
    ),
    CORRECTION: tuple(
        re.compile(p)
        for p in (
            rf"\b(?:correct|fix|update|change)\s+{_MY}(?:\w+\s+)?{_FIELDS}",
            rf"{_FIELDS}\s+(?:is|are|was|were)\s+(?:\w+\s+)?(?:wrong|incorrect|misspelt|misspelled)",
            rf"\b(?:wrong|incorrect)\s+{_FIELDS}",
            rf"{_FIELDS}.{{0,30}}(?:गलत|ग़लत|सुधार|सुधारें|सुधारो|ठीक करें|ठीक करो|बदल)",
            rf"{_FIELDS}\s+(?:\w+\s+){{0,3}}(?:galat|sudhar|sudharo|theek karo|thik karo|sahi karo|"
            r"badal do|change karo|update karo)\b",
        )
    ),
    DELETION: tuple(
        re.compile(p)
        for p in (
            rf"\b(?:delete|erase|remove|wipe|destroy)\s+{_MY}(?:\w+\s+)?{_DATA}",
            r"\bforget\s+me\b",
            rf"{_DATA}.{{0,30}}(?:हटा|मिटा|डिलीट|नष्ट)",
            rf"{_DATA}\s+(?:\w+\s+){{0,3}}(?:delete|hata|hatao|mita|mitao|remove)",
        )
    ),
}

KIND_WORDS = {
    "en": {
        ACCESS: "see the information we hold about you",
        COPY: "get a copy of your records",
        CORRECTION: "correct your details",
        DELETION: "delete your data",
    },
    "hi": {
        ACCESS: "आपके बारे में रखी गई जानकारी देखना",
        COPY: "आपके रिकॉर्ड की कॉपी पाना",
        CORRECTION: "आपकी जानकारी सुधारना",
        DELETION: "आपका डेटा हटाना",
    },
}
ACKNOWLEDGEMENTS = {
    "en": "{clinic} has received your request to {kinds}. Someone from the clinic will contact "
    "you to confirm it is you before anything is done. We aim to answer within {target} days "
    "(at the latest {limit} days). Medical records the law requires us to keep cannot be "
    "deleted; we will tell you which ones and why.{contact}",
    "hi": "{clinic} को आपका अनुरोध मिल गया है: {kinds}। कुछ भी करने से पहले क्लिनिक से कोई आपसे "
    "संपर्क करके पुष्टि करेगा कि यह आप ही हैं। हम {target} दिनों में (अधिक से अधिक {limit} दिनों "
    "में) जवाब देने की कोशिश करेंगे। जो मेडिकल रिकॉर्ड कानून के अनुसार रखने ज़रूरी हैं, वे हटाए "
    "नहीं जा सकते; हम बताएंगे कौन से और क्यों।{contact}",
}
CONTACT = {"en": " Questions: {contact}.", "hi": " सवालों के लिए: {contact}।"}


def rights_request_kinds(text: str) -> tuple[str, ...]:
    """The kinds of data-rights request in a message (in KINDS order), or () for none."""
    words = normalise(text)
    if not words or len(words) > 1000:
        return ()
    return tuple(k for k in KINDS if any(p.search(words) for p in PATTERNS[k]))


def rights_request_handle(*, message: Message, conversation: Conversation) -> bool:
    """Recognise a data-rights request in the patient's message, acknowledge it and route it
    (see module doc); False when the message is not one."""
    kinds = rights_request_kinds(message.body)
    if not kinds:
        return False
    seen = RightsRequestSeen(
        clinic_id=conversation.clinic_id,
        patient_id=conversation.patient_id,
        kinds=kinds,
        words=message.body,
        channel="whatsapp",
        reference=f"message:{message.pk}",
    )
    with transaction.atomic():
        if not rights_request_hand_over(seen):
            # No rights desk yet: the inbox keeps it in front of staff, labelled.
            Conversation.objects.filter(pk=conversation.pk).update(
                needs_reply=True, request_label=kinds_label(kinds)
            )
    _acknowledge(conversation, kinds, message.body)
    return True


def _language(conversation: Conversation, said: str) -> str:
    patient = (
        Patient.objects.filter(pk=conversation.patient_id).only("preferred_language").first()
        if conversation.patient_id
        else None
    )
    if patient is not None and patient.preferred_language in ACKNOWLEDGEMENTS:
        return patient.preferred_language
    return "hi" if DEVANAGARI.search(said or "") else "en"


def acknowledgement_text(*, clinic: Clinic, kinds: tuple[str, ...], language: str) -> str:
    """What the patient reads back: what was asked, who acts, when, and whom to ask."""
    language = language if language in ACKNOWLEDGEMENTS else "en"
    asked = [KIND_WORDS[language][k] for k in kinds]
    joiner = " और " if language == "hi" else " and "
    contact_value = _privacy_contact(clinic) or (
        clinic.phone.as_international if clinic.phone else clinic.email
    )
    contact = CONTACT[language].format(contact=contact_value) if contact_value else ""
    return ACKNOWLEDGEMENTS[language].format(
        clinic=clinic.name,
        kinds=joiner.join(asked),
        target=ANSWER_TARGET_DAYS,
        limit=ANSWER_LIMIT_DAYS,
        contact=contact,
    )


def _privacy_contact(clinic: Clinic) -> str:
    """The clinic's contact person for privacy (DPDP Rules, rule 9), when set."""
    phone = clinic.privacy_contact_phone
    reach = clinic.privacy_contact_email or (phone.as_international if phone else "")
    name = " ".join((clinic.privacy_contact_name or "").split())
    return f"{name}, {reach}" if name and reach else ""


def _acknowledge(conversation: Conversation, kinds: tuple[str, ...], said: str) -> None:
    clinic = Clinic.objects.get(pk=conversation.clinic_id)
    body = acknowledgement_text(clinic=clinic, kinds=kinds, language=_language(conversation, said))
    try:
        with transaction.atomic():
            conversation = Conversation.objects.select_related("account", "patient").get(
                pk=conversation.pk
            )
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
            )
            # Not an answer: the request still waits for a person at the clinic.
            [reply] = messages_write([outgoing], answers=False)
            enqueue_send(reply.pk)
    except DomainError as error:
        logger.warning(
            "data request acknowledgement not queued for conversation %s: %s",
            conversation.pk,
            error.code,
        )
