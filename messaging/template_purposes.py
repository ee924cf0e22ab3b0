"""What each of Vaidya's own templates is for, and the values it takes, in order.

The default texts (English and Hindi) live in `messaging.defaults`; the reminder code fills
these parameters. A template's `purpose` field links the clinic's registered template to one
of these. Quick-reply buttons carry payloads "<action>:<reminder id>" (messaging.replies).
"""

from __future__ import annotations

from dataclasses import dataclass

# Vaidya's own templates are registered with Meta as "vaidya_<purpose>".
NAME_PREFIX = "vaidya_"


@dataclass(frozen=True)
class Purpose:
    key: str
    label: str
    category: str
    parameters: tuple[str, ...]  # what {{1}}, {{2}}, ... hold
    button_actions: tuple[str, ...] = ()  # reply actions of the quick-reply buttons, in order
    # How many of the last parameters a template approved before they were added may lack
    # (the reminder code then leaves them out rather than failing Meta's count check).
    added_parameters: int = 0


APPOINTMENT_CONFIRMATION = Purpose(
    "appointment_confirmation",
    "Appointment confirmation",
    "UTILITY",
    ("patient's first name", "doctor", "date and time", "clinic"),
    ("appt_confirm", "appt_reschedule", "appt_cancel"),
)
APPOINTMENT_REMINDER = Purpose(
    "appointment_reminder",
    "Appointment reminder",
    "UTILITY",
    ("patient's first name", "doctor", "date and time", "clinic"),
    ("appt_confirm", "appt_reschedule", "appt_cancel"),
)
MEDICINE_REMINDER = Purpose(
    "medicine_reminder",
    "Medicine reminder",
    "UTILITY",
    ("patient's first name", "medicines and doses", "time", "clinic"),
    ("dose_taken", "dose_skipped"),
    added_parameters=1,
)
FOLLOW_UP_REMINDER = Purpose(
    "follow_up_reminder",
    "Follow-up reminder",
    "UTILITY",
    ("patient's first name", "doctor", "follow-up date", "clinic", "clinic's phone"),
    ("fu_book",),
    added_parameters=1,
)
REVIEW_REQUEST = Purpose(
    "review_request",
    "Review request",
    "UTILITY",
    ("patient's first name", "clinic"),
    ("rate_1", "rate_2", "rate_3", "rate_4", "rate_5"),
)
DOCUMENT_READY = Purpose(
    "document_ready",
    "Document ready",
    "UTILITY",
    ("patient's first name", "document", "secure link", "clinic"),
)
# A bill's Razorpay payment link, sent when staff press "Send on WhatsApp" on the bill
# (messaging.services.payment_links).
PAYMENT_LINK = Purpose(
    "payment_link",
    "Bill payment link",
    "UTILITY",
    ("patient's first name", "clinic", "amount", "bill number", "payment link"),
)
# When the clinic moves or cancels an appointment (not when the patient did, on WhatsApp).
APPOINTMENT_MOVED = Purpose(
    "appointment_moved",
    "Appointment moved",
    "UTILITY",
    ("patient's first name", "doctor", "new date and time", "clinic", "reason"),
    ("appt_confirm", "appt_reschedule", "appt_cancel"),
)
APPOINTMENT_CANCELLED = Purpose(
    "appointment_cancelled",
    "Appointment cancelled",
    "UTILITY",
    ("patient's first name", "doctor", "date and time", "clinic", "reason", "clinic's phone"),
    ("appt_rebook",),
)
# A few days before a long-term medicine runs out (messaging.services.refills).
REFILL_REMINDER = Purpose(
    "refill_reminder",
    "Refill reminder",
    "UTILITY",
    ("patient's first name", "doctor", "run-out date", "clinic"),
    ("refill_request", "refill_book"),
)
# Meta's AUTHENTICATION category: the body is Meta's fixed wording around the code, with its
# expiry footer and a copy-code button; sent when the 24-hour window is closed
# (compliance.verification; messaging.services.verification_codes).
VERIFICATION_CODE = Purpose(
    "verification_code",
    "One-time code",
    "AUTHENTICATION",
    ("one-time code",),
)
# To a doctor's own WhatsApp, never to a patient. The values say the least that lets the doctor
# act (see messaging.services.staff_alerts): no clinical detail, no message text, no number.
STAFF_ALERT = Purpose(
    "staff_alert",
    "Alert to a doctor",
    "UTILITY",
    ("clinic", "what happened", "patient's initials and number", "link to the follow-up board"),
)
# Before the retention purge erases a patient's whole record (compliance.purge): 48 hours ahead.
RECORD_ERASURE_NOTICE = Purpose(
    "record_erasure_notice",
    "Notice before records are erased",
    "UTILITY",
    ("patient's first name", "clinic", "date the records are erased", "clinic's phone"),
)

PURPOSES: dict[str, Purpose] = {
    p.key: p
    for p in (
        APPOINTMENT_CONFIRMATION,
        APPOINTMENT_REMINDER,
        MEDICINE_REMINDER,
        FOLLOW_UP_REMINDER,
        REVIEW_REQUEST,
        DOCUMENT_READY,
        PAYMENT_LINK,
        VERIFICATION_CODE,
        STAFF_ALERT,
        APPOINTMENT_MOVED,
        APPOINTMENT_CANCELLED,
        REFILL_REMINDER,
        RECORD_ERASURE_NOTICE,
    )
}


LANGUAGE_NAMES = {"en": "English", "en_US": "English", "en_GB": "English", "hi": "Hindi"}


def template_title(name: str, language: str = "") -> str:
    """What staff read for a template: "Appointment reminder · Hindi", not
    "vaidya_appointment_reminder (hi)"; a clinic's own template by its name in words."""
    purpose = PURPOSES.get(name.removeprefix(NAME_PREFIX)) if name.startswith(NAME_PREFIX) else None
    title = purpose.label if purpose else name.replace("_", " ").strip().capitalize()
    shown = LANGUAGE_NAMES.get(language, language)
    return f"{title} · {shown}" if shown else title
