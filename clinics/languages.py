"""Which language a patient-facing text is written in.

A patient's preferred language (`patients.models.Language`) may be one Vaidya has no catalogue
for yet: their documents and messages then fall back to English. Staff pages follow the staff
member's own choice (`LocaleMiddleware`), never the patient's; anything a patient reads is
rendered inside `for_patient(...)` so it does not depend on who clicked.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from django.conf import settings
from django.utils import translation

ENGLISH = "en"


def patient_language(code: str | None) -> str:
    """The language a patient's text is written in: theirs when Vaidya has a catalogue for it
    (settings.LANGUAGES), else English."""
    code = (code or "").strip().lower()
    available = {lang for lang, _name in settings.LANGUAGES}
    return code if code in available else ENGLISH


def for_patient(code: str | None) -> AbstractContextManager[None]:
    """Translate what is rendered inside in the patient's language (see `patient_language`)."""
    return translation.override(patient_language(code))


def in_english() -> AbstractContextManager[None]:
    """Translate what is rendered inside in English (the text kept beside a translation)."""
    return translation.override(ENGLISH)
