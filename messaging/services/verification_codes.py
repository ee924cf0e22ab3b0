"""One-time codes over WhatsApp: the `CodeSender` that `compliance.verification` uses.

The code goes to the conversation with the number on the patient's record: as a free-form
text naming the clinic while the 24-hour window is open, otherwise as the clinic's approved
"verification_code" template (Meta's authentication category). A code is not an answer to
the patient, so the conversation keeps waiting for a reply if it was.

The code never reaches the database: the message row holds "••••••" where the code was (staff
reading the inbox cannot use it), and the real text is sent once, right after the commit, by
the request that asked for it. A code that fails to go out is not retried (a retry would
send the mask); the patient asks for a new one.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from clinics.errors import DomainError
from clinics.languages import for_patient
from clinics.models import Clinic
from clinics.tenancy import clinic_scope
from compliance.verification import CodeSender
from messaging.models import Message, MessageKind, MessagePurpose, MessageStatus
from messaging.services.account_state import require_account
from messaging.services.delivery import send_claimed
from messaging.services.send_rules import conversation_for_patient, require_sendable
from messaging.services.sending import messages_write, outgoing_message, outgoing_template
from messaging.services.template_text import template_for
from messaging.template_purposes import VERIFICATION_CODE
from patients.models import Patient

MASK = "••••••"
NOT_RETRIED = "One-time codes are not sent again: the patient can ask for a new one."
CODE_TEXT = gettext_noop(
    "{code} is your code to open your document from {clinic}. It works for {minutes} minutes. "
    "Do not share it with anyone."
)
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
            with for_patient(language):
                text = gettext(CODE_TEXT)
            outgoing = outgoing_message(
                conversation,
                patient_id=patient.pk,
                claimed=True,
                kind=MessageKind.TEXT,
                purpose=MessagePurpose.REPLY,
                body=text.format(code=MASK, clinic=clinic.name, minutes=minutes),
            )
            real: dict[str, Any] = {
                "body": text.format(code=code, clinic=clinic.name, minutes=minutes)
            }
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
                body_params=[MASK],
                claimed=True,
            )
            # Meta's authentication format: the copy-code button carries the code too.
            real = {
                "parameters": {**outgoing.message.parameters, "body": [code], "copy_code": code}
            }
    except DomainError as error:
        raise DomainError(str(CANNOT_SEND), code=error.code) from error
    # A one-time code for the patient's data rights goes out whatever the clinic's plan.
    [message] = messages_write([outgoing], answers=False, within_plan=False)
    transaction.on_commit(partial(_send_now, message.pk, patient.clinic_id, real))


def _send_now(message_id: int, clinic_id: int, real: dict[str, Any]) -> None:
    """Send the claimed code message with the real code (kept only in memory)."""
    with clinic_scope(clinic_id):
        message = Message.objects.select_related("conversation", "conversation__account").get(
            pk=message_id
        )
        for field, value in real.items():
            setattr(message, field, value)
        conversation = message.conversation
        sent = send_claimed(
            message=message, conversation=conversation, account=conversation.account
        )
        if sent.status != MessageStatus.SENT:
            Message.objects.filter(
                pk=message_id, status__in=(MessageStatus.QUEUED, MessageStatus.SENDING)
            ).update(status=MessageStatus.FAILED, next_attempt_at=None, error_title=NOT_RETRIED)


WHATSAPP_CODES = CodeSender(name="whatsapp", order=10, send=whatsapp_code_send)
