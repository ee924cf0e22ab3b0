"""Vaidya's own message templates, in English and Hindi, one per purpose and language.

Each body fills its placeholders {{1}}, {{2}}, ... in the order `messaging.template_purposes`
documents for its purpose (the reminder code passes the values in that order; a language may
place them differently in its sentence). Quick-reply buttons follow the purpose's
`button_actions`, in order: the button's payload is the action, and the reminder code sends
"<action>:<reminder id>" with each message. Texts stay short (Meta allows 25 characters on a
button) and every body starts and ends with words, not a placeholder, as Meta's review asks.
"""

from __future__ import annotations

from dataclasses import dataclass

from messaging.template_purposes import NAME_PREFIX, PURPOSES

LANGUAGES = ("en", "hi")
# How long a one-time code works (compliance.verification's codes live 10 minutes).
CODE_EXPIRY_MINUTES = 10


@dataclass(frozen=True)
class DefaultTemplate:
    purpose: str
    language: str
    body: str
    button_texts: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    footer: str = ""

    @property
    def name(self) -> str:
        return default_name(self.purpose)

    @property
    def category(self) -> str:
        return PURPOSES[self.purpose].category

    @property
    def buttons(self) -> list[dict[str, str]]:
        if self.category == "AUTHENTICATION":
            return [{"text": text, "payload": "", "otp": "COPY_CODE"} for text in self.button_texts]
        actions = PURPOSES[self.purpose].button_actions
        return [
            {"text": text, "payload": action}
            for text, action in zip(self.button_texts, actions, strict=True)
        ]


def default_name(purpose: str) -> str:
    return f"{NAME_PREFIX}{purpose}"


_EN_APPOINTMENT = ("Asha", "Dr Mehta", "12 Jan 2027, 10:30 am", "Sunrise Clinic")
_HI_APPOINTMENT = ("आशा", "डॉ. मेहता", "12 जनवरी 2027, सुबह 10:30", "सनराइज़ क्लिनिक")
_APPOINTMENT_BUTTONS_EN = ("Confirm", "Reschedule", "Cancel")
_APPOINTMENT_BUTTONS_HI = ("पुष्टि करें", "समय बदलें", "रद्द करें")
_RATINGS = ("1", "2", "3", "4", "5")

DEFAULTS: tuple[DefaultTemplate, ...] = (
    # appointment_confirmation: first name, doctor, date and time, clinic
    DefaultTemplate(
        "appointment_confirmation",
        "en",
        "Hello {{1}}, your appointment with {{2}} on {{3}} at {{4}} is booked. "
        "Please confirm, or tell us if you need another time.",
        _APPOINTMENT_BUTTONS_EN,
        _EN_APPOINTMENT,
    ),
    DefaultTemplate(
        "appointment_confirmation",
        "hi",
        "नमस्ते {{1}}, {{4}} में {{2}} के साथ {{3}} का आपका अपॉइंटमेंट बुक हो गया है। "
        "कृपया पुष्टि करें, या बताएं अगर आपको कोई और समय चाहिए।",
        _APPOINTMENT_BUTTONS_HI,
        _HI_APPOINTMENT,
    ),
    # appointment_reminder: first name, doctor, date and time, clinic
    DefaultTemplate(
        "appointment_reminder",
        "en",
        "Hello {{1}}, a reminder of your appointment with {{2}} on {{3}} at {{4}}. Will you come?",
        _APPOINTMENT_BUTTONS_EN,
        _EN_APPOINTMENT,
    ),
    DefaultTemplate(
        "appointment_reminder",
        "hi",
        "नमस्ते {{1}}, याद दिला रहे हैं: {{4}} में {{2}} के साथ {{3}} को आपका अपॉइंटमेंट है। क्या आप आएंगे?",
        _APPOINTMENT_BUTTONS_HI,
        _HI_APPOINTMENT,
    ),
    # medicine_reminder: first name, medicines and doses, time, clinic
    DefaultTemplate(
        "medicine_reminder",
        "en",
        "Hello {{1}}, it is time for your medicine: {{2}} ({{3}}). "
        "Please tell {{4}} whether you took it.",
        ("Taken", "Skipped"),
        ("Asha", "Metformin 500 mg, 1 tablet", "8:00 AM", "Sunrise Clinic"),
    ),
    DefaultTemplate(
        "medicine_reminder",
        "hi",
        "नमस्ते {{1}}, दवा लेने का समय हो गया है: {{2}} ({{3}})। "
        "कृपया {{4}} को बताएं कि आपने दवा ली या नहीं।",
        ("ले ली", "नहीं ली"),
        ("आशा", "मेटफॉर्मिन 500 mg - 1 गोली", "8:00 पूर्वाह्न", "सनराइज़ क्लिनिक"),
    ),
    # follow_up_reminder: first name, doctor, follow-up date, clinic, clinic's phone
    DefaultTemplate(
        "follow_up_reminder",
        "en",
        "Hello {{1}}, {{2}} would like to see you again on {{3}} at {{4}} for a follow-up. "
        "Press Choose a time to book one, or call the clinic on {{5}}.",
        ("Choose a time",),
        ("Asha", "Dr Mehta", "15 Jan 2027", "Sunrise Clinic", "+91 80 4000 1234"),
    ),
    DefaultTemplate(
        "follow_up_reminder",
        "hi",
        "नमस्ते {{1}}, {{2}} आपको {{3}} को {{4}} में दोबारा जांच के लिए देखना चाहते हैं। "
        'समय चुनने के लिए "समय चुनें" दबाएं, या क्लिनिक को {{5}} पर फ़ोन करें।',
        ("समय चुनें",),
        ("आशा", "डॉ. मेहता", "15 जनवरी 2027", "सनराइज़ क्लिनिक", "+91 80 4000 1234"),
    ),
    # review_request: first name, clinic
    DefaultTemplate(
        "review_request",
        "en",
        "Hello {{1}}, thank you for visiting {{2}}. How was your visit? "
        "Please rate it from 1 (poor) to 5 (excellent).",
        _RATINGS,
        ("Asha", "Sunrise Clinic"),
    ),
    DefaultTemplate(
        "review_request",
        "hi",
        "नमस्ते {{1}}, {{2}} आने के लिए धन्यवाद। आपका अनुभव कैसा रहा? "
        "कृपया 1 (खराब) से 5 (बहुत अच्छा) तक रेटिंग दें।",
        _RATINGS,
        ("आशा", "सनराइज़ क्लिनिक"),
    ),
    # document_ready: first name, document, secure link, clinic
    DefaultTemplate(
        "document_ready",
        "en",
        "Hello {{1}}, your {{2}} from {{4}} is ready. Open it with this secure link: {{3}} "
        "The link works for a few days only.",
        (),
        ("Asha", "prescription", "https://vaidya.example/d/abc123/", "Sunrise Clinic"),
    ),
    DefaultTemplate(
        "document_ready",
        "hi",
        "नमस्ते {{1}}, {{4}} से आपका {{2}} तैयार है। इसे इस सुरक्षित लिंक से खोलें: {{3}} "
        "यह लिंक कुछ ही दिन चलेगा।",
        (),
        ("आशा", "पर्चा", "https://vaidya.example/d/abc123/", "सनराइज़ क्लिनिक"),
    ),
    # payment_link: first name, clinic, amount, bill number, payment link
    DefaultTemplate(
        "payment_link",
        "en",
        "Hello {{1}}, your bill {{4}} from {{2}} is {{3}}. You can pay it online with this "
        "link: {{5}} Thank you.",
        (),
        ("Asha", "Sunrise Clinic", "Rs 1,250.00", "BL/26-27/000123", "https://rzp.io/l/abc123"),
    ),
    DefaultTemplate(
        "payment_link",
        "hi",
        "नमस्ते {{1}}, {{2}} का आपका बिल {{4}} {{3}} का है। आप इस लिंक से ऑनलाइन भुगतान कर सकते "
        "हैं: {{5}} धन्यवाद।",
        (),
        ("आशा", "सनराइज़ क्लिनिक", "Rs 1,250.00", "BL/26-27/000123", "https://rzp.io/l/abc123"),
    ),
    # verification_code: the code. Meta's authentication format: Meta writes the body (the
    # code and its security line, in the template's language) and the expiry footer, and the
    # copy-code button carries the code; no clinic name, links or other values (Meta's rule
    # for the category). The page that asked for the code names the clinic.
    DefaultTemplate(
        "verification_code",
        "en",
        "{{1}} is your verification code. For your security, do not share this code.",
        ("Copy code",),
        ("482913",),
        footer=f"This code expires in {CODE_EXPIRY_MINUTES} minutes.",
    ),
    DefaultTemplate(
        "verification_code",
        "hi",
        "{{1}} आपका वेरिफ़िकेशन कोड है। अपनी सुरक्षा के लिए यह कोड किसी के साथ शेयर न करें।",
        ("कोड कॉपी करें",),
        ("482913",),
        footer=f"यह कोड {CODE_EXPIRY_MINUTES} मिनट में समाप्त हो जाएगा।",
    ),
    # staff_alert: clinic, what happened, patient's initials and number, link. Sent to a
    # doctor's own phone, so it carries no clinical detail (messaging.services.staff_alerts).
    DefaultTemplate(
        "staff_alert",
        "en",
        "Vaidya alert from {{1}}: patient {{3}} needs attention ({{2}}). "
        "Open Vaidya to see the details and follow up: {{4}} "
        "The alert stays open until someone acts on it.",
        (),
        (
            "Sunrise Clinic",
            "missed doses",
            "A. K. (P-000042)",
            "https://vaidya.example/c/sunrise/messages/follow-ups/",
        ),
    ),
    DefaultTemplate(
        "staff_alert",
        "hi",
        "Vaidya अलर्ट ({{1}}): मरीज़ {{3}} पर ध्यान देने की ज़रूरत है ({{2}})। "
        "जानकारी देखने और आगे की कार्रवाई के लिए Vaidya खोलें: {{4}} "
        "यह अलर्ट तब तक खुला रहेगा जब तक कोई इस पर कार्रवाई न करे।",
        (),
        (
            "सनराइज़ क्लिनिक",
            "दवा की खुराकें छूटीं",
            "A. K. (P-000042)",
            "https://vaidya.example/c/sunrise/messages/follow-ups/",
        ),
    ),
    # record_erasure_notice: first name, clinic, date, clinic's phone
    DefaultTemplate(
        "record_erasure_notice",
        "en",
        "Hello {{1}}, {{2}} has kept your health records for as long as the law asks. "
        "They will be erased on {{3}}. To keep them or ask for a copy, call {{4}} before then.",
        (),
        ("Asha", "Sunrise Clinic", "14 Jan 2037", "+91 80 4000 1234"),
    ),
    DefaultTemplate(
        "record_erasure_notice",
        "hi",
        "नमस्ते {{1}}, {{2}} ने आपके स्वास्थ्य रिकॉर्ड कानून के अनुसार रखे हैं। "
        "ये {{3}} को मिटा दिए जाएँगे। इन्हें रखवाने या इनकी कॉपी के लिए उससे पहले {{4}} पर कॉल करें।",
        (),
        ("आशा", "सनराइज़ क्लिनिक", "14 जनवरी 2037", "+91 80 4000 1234"),
    ),
    # appointment_moved: first name, doctor, new date and time, clinic, reason
    DefaultTemplate(
        "appointment_moved",
        "en",
        "Hello {{1}}, {{4}} has moved your appointment with {{2}} to {{3}} ({{5}}). "
        "Please confirm, or choose another time.",
        _APPOINTMENT_BUTTONS_EN,
        (*_EN_APPOINTMENT, "the doctor is at a conference"),
    ),
    DefaultTemplate(
        "appointment_moved",
        "hi",
        "नमस्ते {{1}}, {{4}} ने {{2}} के साथ आपका अपॉइंटमेंट बदलकर {{3}} कर दिया है ({{5}})। "
        "कृपया पुष्टि करें, या कोई और समय चुनें।",
        _APPOINTMENT_BUTTONS_HI,
        (*_HI_APPOINTMENT, "डॉक्टर एक सम्मेलन में हैं"),
    ),
    # appointment_cancelled: first name, doctor, date and time, clinic, reason, clinic's phone
    DefaultTemplate(
        "appointment_cancelled",
        "en",
        "Hello {{1}}, we are sorry: {{4}} has cancelled your appointment with {{2}} on {{3}} "
        "({{5}}). To book again, press Book again or call {{6}}. Thank you.",
        ("Book again",),
        (*_EN_APPOINTMENT, "the doctor is unwell", "+91 80 4000 1234"),
    ),
    DefaultTemplate(
        "appointment_cancelled",
        "hi",
        "नमस्ते {{1}}, क्षमा करें: {{4}} ने {{2}} के साथ {{3}} का आपका अपॉइंटमेंट रद्द कर दिया है "
        '({{5}})। दोबारा बुक करने के लिए "फिर से बुक करें" दबाएं या {{6}} पर फ़ोन करें। धन्यवाद।',
        ("फिर से बुक करें",),
        (*_HI_APPOINTMENT, "डॉक्टर अस्वस्थ हैं", "+91 80 4000 1234"),
    ),
    # refill_reminder: first name, doctor, run-out date, clinic (no medicine names: the text
    # may be read over the patient's shoulder)
    DefaultTemplate(
        "refill_reminder",
        "en",
        "Hello {{1}}, the regular medicines {{2}} prescribed will run out around {{3}}. "
        "Press Repeat prescription to ask {{4}} for more, or Book a visit.",
        ("Repeat prescription", "Book a visit"),
        ("Asha", "Dr Mehta", "15 Jan 2027", "Sunrise Clinic"),
    ),
    DefaultTemplate(
        "refill_reminder",
        "hi",
        "नमस्ते {{1}}, {{2}} की लिखी आपकी नियमित दवाएं लगभग {{3}} तक खत्म हो जाएंगी। "
        '{{4}} से और दवा मांगने के लिए "दवा फिर से लिखें" दबाएं, या "समय बुक करें"।',
        ("दवा फिर से लिखें", "समय बुक करें"),
        ("आशा", "डॉ. मेहता", "15 जनवरी 2027", "सनराइज़ क्लिनिक"),
    ),
)


def default_for(purpose: str, language: str) -> DefaultTemplate | None:
    return next((d for d in DEFAULTS if d.purpose == purpose and d.language == language), None)


def purpose_for_name(name: str) -> str:
    """The purpose of one of Vaidya's template names ("" for anyone else's template)."""
    purpose = name.removeprefix(NAME_PREFIX) if name.startswith(NAME_PREFIX) else ""
    return purpose if purpose in PURPOSES else ""
