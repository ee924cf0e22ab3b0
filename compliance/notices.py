"""The notices a patient is shown before agreeing, kept with each consent as shown."""

from __future__ import annotations

from clinics.models import Clinic
from compliance.models import ConsentPurpose

NOTICES = {
    ConsentPurpose.WHATSAPP_CARE: (
        "{clinic} will send you WhatsApp messages about your care at {phone}: appointment "
        "confirmations and reminders, medicine reminders, follow-ups, and a link when a document "
        "is ready. Reply STOP at any time to stop them, or tell the clinic."
    ),
    ConsentPurpose.WHATSAPP_MARKETING: (
        "{clinic} may also send you occasional WhatsApp messages about clinic news and health "
        "camps at {phone}. This is separate from care messages. Reply STOP at any time."
    ),
}


def notice_text(*, purpose: str, clinic: Clinic, phone: str) -> str:
    return NOTICES[ConsentPurpose(purpose)].format(clinic=clinic.name, phone=phone)
