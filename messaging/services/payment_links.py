"""A bill's payment link to the patient on WhatsApp: messaging's answer to the
`bill.payment_link` care event that billing sends when staff press "Send on WhatsApp".

Through the one send path (`sending.py`): inside the 24-hour window a free-form text in the
patient's language (gettext, Hindi in `locale/hi`); outside it the clinic's approved
"payment_link" template (English and Hindi defaults in `messaging.defaults`), which needs the
patient's care opt-in like every business-initiated message. What cannot go out raises a
DomainError whose message tells staff why, so billing's request is refused as a whole.

The message is queued as Vaidya's own (actor None): it does not answer the patient, so a
conversation waiting for a reply keeps waiting, and billing's audit event
(`billing.payment_link.sent`) records who asked for it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from clinics.errors import DomainError
from clinics.formatting import format_inr
from clinics.languages import for_patient
from clinics.models import Clinic
from messaging.models import Message, MessagePurpose, MessageStatus
from messaging.services.account_state import require_account
from messaging.services.reminder_content import first_name
from messaging.services.send_rules import conversation_for_patient
from messaging.services.sending import message_queue_template, message_queue_text
from messaging.services.template_text import template_for
from messaging.template_purposes import PAYMENT_LINK
from patients import events
from patients.models import Patient

LINK_TEXT = gettext_noop(
    "Hello {name}, your bill {number} from {clinic} is {amount}. You can pay it online here: "
    "{url} Thank you."
)
NO_TEMPLATE = (
    "The clinic's WhatsApp template for payment links is not approved yet, and the patient has "
    "not written in the last 24 hours: send the link another way, or try again once WhatsApp "
    "approves the template."
)


def payment_link_message(
    *,
    patient: Patient,
    bill_number: str,
    amount_paise: int,
    short_url: str,
) -> Message:
    """Queue the payment link to the patient's WhatsApp (see the module's docstring)."""
    account = require_account(patient.clinic_id)
    conversation = conversation_for_patient(patient=patient, account=account)
    clinic = Clinic.objects.get(pk=patient.clinic_id)
    amount = format_inr(Decimal(amount_paise) / 100)
    if conversation.window_open(timezone.now()):
        with for_patient(patient.preferred_language):
            text = gettext(LINK_TEXT)
        body = text.format(
            name=first_name(patient),
            number=bill_number,
            clinic=clinic.name,
            amount=amount,
            url=short_url,
        )
        return _sent(message_queue_text(conversation=conversation, body=body, actor=None))
    template = template_for(
        clinic_id=patient.clinic_id,
        purpose=PAYMENT_LINK.key,
        language=patient.preferred_language or "en",
    )
    if template is None:
        raise DomainError(NO_TEMPLATE, code="no_template")
    return _sent(
        message_queue_template(
            template=template,
            actor=None,
            purpose=MessagePurpose.CARE,
            conversation=conversation,
            body_params=[first_name(patient), clinic.name, amount, bill_number, short_url],
        )
    )


def _sent(message: Message) -> Message:
    if message.status == MessageStatus.FAILED:
        # Held back by the clinic's plan: staff are told now, and nothing counts as sent.
        raise DomainError(message.error_title, code="plan_limit")
    return message


def on_care_event(event: str, **kwargs: Any) -> Message | None:
    """The care listener: only `bill.payment_link` concerns payment links."""
    if event != events.BILL_PAYMENT_LINK:
        return None
    return payment_link_message(
        patient=kwargs["patient"],
        bill_number=kwargs["bill_number"],
        amount_paise=kwargs["amount_paise"],
        short_url=kwargs["short_url"],
    )
