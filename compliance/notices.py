"""The notices a patient is shown before agreeing, kept with each consent as shown.

A notice is written in the patient's language (English when Vaidya has no catalogue for it):
the ledger keeps exactly the text the patient was shown, in that language.
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

from clinics.languages import for_patient
from clinics.models import Clinic
from compliance.models import ConsentPurpose

NOTICES = {
    ConsentPurpose.WHATSAPP_CARE: gettext_noop(
        "{clinic} will send you WhatsApp messages about your care at {phone}: appointment "
        "confirmations and reminders, medicine reminders, follow-ups, and a link when a document "
        "is ready. Reply STOP at any time to stop them, or tell the clinic."
    ),
    ConsentPurpose.WHATSAPP_MARKETING: gettext_noop(
        "{clinic} may also send you occasional WhatsApp messages about clinic news and health "
        "camps at {phone}. This is separate from care messages. Reply STOP at any time."
    ),
}


def notice_text(*, purpose: str, clinic: Clinic, phone: str, language: str | None = None) -> str:
    """The notice for `purpose` in `language` (the patient's; English without a catalogue)."""
    with for_patient(language):
        return gettext(NOTICES[ConsentPurpose(purpose)]).format(clinic=clinic.name, phone=phone)
