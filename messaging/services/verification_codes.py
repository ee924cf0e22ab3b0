"""One-time codes over WhatsApp: the `CodeSender` that `compliance.verification` uses.

The code goes to the conversation with the number on the patient's record: as a free-form
text naming the clinic while the 24-hour window is open, otherwise as the clinic's approved
"verification_code" template (Meta's authentication category). A code is not an answer to
the patient, so the conversation keeps waiting for a reply if it was.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy

from clinics.errors import DomainError
from clinics.models import Clinic
from compliance.verification import CodeSender
from messaging.models import MessageKind, MessagePurpose
from messaging.services.account_state import require_account
from messaging.services.send_rules import conversation_for_patient, require_sendable
from messaging.services.sending import (
    enqueue_send,
    messages_write,
    outgoing_message,
    outgoing_template,
)
from messaging.services.template_text import template_for
from messaging.template_purposes import VERIFICATION_CODE
from patients.models import Patient

TEXTS = {
    "en": "{code} is your code to open your document from {clinic}. "
    "It works for {minutes} minutes. Do not share it with anyone.",
    "hi": "{clinic} से आपका दस्तावेज़ खोलने के लिए आपका कोड {code} है। "
    "यह {minutes} मिनट तक चलेगा। इसे किसी के साथ शेयर न करें।",
}
CANNOT_SEND = gettext_lazy(
    "We could not send a code to your WhatsApp number. Please ask the clinic to send the "
    "document again."
)


def whatsapp_code_send(*, patient: Patient, code: str, minutes: int) -> None:
    """Queue the code to the patient's registered WhatsApp number (see module doc)."""
    try:
        account = require_account(patient.clinic_id)
        conversation = conversation_for_patient(patient=patient, account=account)
        conversation.account = account
        language = patient.preferred_language or "en"
        if conversation.window_open(timezone.now()):
            require_sendable(
                account=account,
                conversation=conversation,
                patient=patient,
                purpose=MessagePurpose.REPLY,
                free_form=True,
            )
            clinic = Clinic.objects.get(pk=patient.clinic_id)
            body = TEXTS.get(language, TEXTS["en"]).format(
                code=code, clinic=clinic.name, minutes=minutes
            )
            outgoing = outgoing_message(
                conversation,
                patient_id=patient.pk,
                kind=MessageKind.TEXT,
                purpose=MessagePurpose.REPLY,
                body=body,
            )
        else:
            template = template_for(
                clinic_id=patient.clinic_id, purpose=VERIFICATION_CODE.key, language=language
            )
            if template is None:
                raise DomainError("No approved one-time code template.", code="no_template")
            outgoing = outgoing_template(
                template=template,
                purpose=MessagePurpose.CARE,
                account=account,
                conversation=conversation,
                patient=patient,
                body_params=[code],
            )
    except DomainError as error:
        raise DomainError(str(CANNOT_SEND), code=error.code) from error
    [message] = messages_write([outgoing], answers=False)
    enqueue_send(message.pk)


WHATSAPP_CODES = CodeSender(name="whatsapp", order=10, send=whatsapp_code_send)
