"""The WhatsApp notice 48 hours before the retention purge erases a patient's whole record: the
`ErasureNoticeSender` that `compliance.purge` uses (registered in `MessagingConfig.ready()`).

The notice is the clinic's approved "record_erasure_notice" template (the 24-hour window is
long closed for a patient last seen years ago), queued like any care message and sent by a
worker after the commit. Without a connected number, a phone, the patient's consent or an
approved template, it raises `DomainError` and the purge records that there was no channel.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from clinics.errors import DomainError
from clinics.formatting import format_date
from clinics.models import Clinic
from compliance.purge import NOTICE_HOURS, ErasureNoticeSender
from messaging.models import MessagePurpose
from messaging.services.account_state import require_account
from messaging.services.reminder_content import first_name
from messaging.services.send_rules import conversation_for_patient
from messaging.services.sending import messages_write, outgoing_template
from messaging.services.template_text import template_for
from messaging.template_purposes import RECORD_ERASURE_NOTICE
from patients.models import Patient

CHANNEL = "whatsapp"


def whatsapp_erasure_notice(*, patient: Patient) -> str:
    """Queue the notice to the patient's WhatsApp number; returns the channel's name."""
    account = require_account(patient.clinic_id)
    template = template_for(
        clinic_id=patient.clinic_id,
        purpose=RECORD_ERASURE_NOTICE.key,
        language=patient.preferred_language or "en",
    )
    if template is None:
        raise DomainError("No approved template for the erasure notice.", code="no_template")
    conversation = conversation_for_patient(patient=patient, account=account)
    clinic = Clinic.objects.get(pk=patient.clinic_id)
    erase_on = timezone.now() + timedelta(hours=NOTICE_HOURS)
    outgoing = outgoing_template(
        template=template,
        purpose=MessagePurpose.CARE,
        account=account,
        conversation=conversation,
        patient=patient,
        body_params=[
            first_name(patient),
            clinic.name,
            format_date(erase_on, clinic.tzinfo),
            clinic.phone.as_international if clinic.phone else clinic.name,
        ],
    )
    # The law's notice before an erasure goes out whatever the clinic's plan.
    messages_write([outgoing], answers=False, within_plan=False)
    return CHANNEL


WHATSAPP_ERASURE_NOTICE = ErasureNoticeSender(name=CHANNEL, order=10, send=whatsapp_erasure_notice)
