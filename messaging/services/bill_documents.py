"""A bill sent to the patient on WhatsApp as the "your document is ready" message: messaging's
answer to the `bill.document` care event that billing sends when staff press "Send on
WhatsApp" on an issued bill.

The message carries a secure link (`messaging.links.shared_file_link("bill", id)`) that opens
the bill's PDF after the patient types back a one-time code, like a document's link; the file
is found through billing's `patients.shared_files` entry, so messaging never imports billing.
Outside the 24-hour window it is the clinic's approved "document_ready" template (the patient's
care opt-in needed, like every business-initiated message); inside it, without that template,
a text. What cannot go out raises a DomainError whose message tells staff why (no WhatsApp,
no opt-in, no template, the plan's monthly messages used up), so billing's request is refused
as a whole and nothing is recorded as sent.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from clinics.errors import DomainError
from clinics.languages import for_patient
from clinics.models import Clinic
from messaging import links
from messaging.models import Message, MessagePurpose, MessageStatus
from messaging.services.account_state import require_account
from messaging.services.reminder_content import first_name
from messaging.services.send_rules import conversation_for_patient, require_sendable
from messaging.services.sending import message_queue_template, message_queue_text
from messaging.services.template_text import template_for
from messaging.template_purposes import DOCUMENT_READY
from patients import events
from patients.models import Patient

BILL_KIND = gettext_noop("bill {number}")
BILL_TEXT = gettext_noop(
    "Hello {name}, your {document} from {clinic} is ready. Open it with this secure link: "
    "{url} The link works for a few days only."
)
NO_TEMPLATE = (
    "The clinic's WhatsApp template for ready documents is not approved yet, and the patient "
    "has not written in the last 24 hours: print the bill, or try again once WhatsApp "
    "approves the template."
)


def bill_document_message(*, patient: Patient, bill_id: int, bill_number: str) -> Message:
    """Queue the bill's secure link to the patient's WhatsApp (see the module's docstring)."""
    account = require_account(patient.clinic_id)
    conversation = conversation_for_patient(patient=patient, account=account)
    clinic = Clinic.objects.get(pk=patient.clinic_id)
    url = links.shared_file_link("bill", bill_id)
    language = patient.preferred_language or "en"
    template = template_for(
        clinic_id=patient.clinic_id, purpose=DOCUMENT_READY.key, language=language
    )
    if template is None and not conversation.window_open(timezone.now()):
        # Say first what the patient's consent or number rules out, then the template.
        require_sendable(
            account=account,
            conversation=conversation,
            patient=patient,
            purpose=MessagePurpose.CARE,
            free_form=False,
        )
        raise DomainError(NO_TEMPLATE, code="no_template")
    with for_patient(template.language if template is not None else language):
        document = gettext(BILL_KIND).format(number=bill_number)
        text = gettext(BILL_TEXT)
    if template is not None:
        message = message_queue_template(
            template=template,
            actor=None,
            purpose=MessagePurpose.CARE,
            conversation=conversation,
            body_params=[first_name(patient), document, url, clinic.name],
        )
    else:
        body = text.format(name=first_name(patient), document=document, clinic=clinic.name, url=url)
        message = message_queue_text(conversation=conversation, body=body, actor=None)
    if message.status == MessageStatus.FAILED:
        # Held back by the clinic's plan: staff are told now, and nothing counts as sent.
        raise DomainError(message.error_title, code="plan_limit")
    return message


def on_care_event(event: str, **kwargs: Any) -> Message | None:
    """The care listener: only `bill.document` concerns a bill's document."""
    if event != events.BILL_DOCUMENT:
        return None
    return bill_document_message(
        patient=kwargs["patient"], bill_id=kwargs["bill_id"], bill_number=kwargs["bill_number"]
    )
