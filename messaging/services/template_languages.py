"""A clinic's own language for Vaidya's templates (Kannada for a Bengaluru clinic), without a
code change.

Vaidya ships its templates in English and Hindi (`messaging.defaults`). An owner picks another
language a patient may prefer (`patients.models.Language`), writes the body of each template
purpose and its buttons' labels, and the drafts go to Meta through the one submission path
(`templates.templates_submit_defaults`). Each body must carry exactly the placeholders of the
English default ({{1}} ... {{n}}: the reminder code fills them in that order); buttons keep the
English default's actions. Patients who prefer that language get those templates once Meta
approves them, and English until then (`template_text.template_for`). The one-time code's
body and footer are Meta's own (the authentication format): only its button label is asked.
The values inside (dates, "Dr") follow Django's formats for the language and fall back to
English words where Vaidya has no catalogue, as free-text replies do.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from clinics.audit import Actions, audit_record
from clinics.errors import DomainError, ValidationFailed
from clinics.models import Clinic, User
from messaging.defaults import LANGUAGES, DefaultTemplate, default_for
from messaging.models import MessageTemplate, TemplateCategory, TemplateStatus
from messaging.services.template_text import PLACEHOLDER
from messaging.template_purposes import PURPOSES, STAFF_ALERT
from patients.models import Language

MAX_BODY = 1024  # Meta's limit on a template body
MAX_BUTTON = 25  # and on a quick-reply button's label


@dataclass(frozen=True)
class PurposeText:
    """What the owner writes for one purpose: the body and the buttons' labels, in order."""

    body: str
    buttons: tuple[str, ...] = ()


def addable_languages() -> list[tuple[str, str]]:
    """The languages a clinic may add: those a patient may prefer, beyond Vaidya's own."""
    return [(code, label) for code, label in Language.choices if code not in LANGUAGES]


def language_purposes() -> list[DefaultTemplate]:
    """The English defaults a new language needs a text for: every patient-facing purpose
    (alerts to a doctor stay in the doctor's English or Hindi)."""
    return [
        default
        for key in PURPOSES
        if key != STAFF_ALERT.key and (default := default_for(key, "en")) is not None
    ]


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text or ""))


def _checked(default: DefaultTemplate, given: PurposeText | None, errors: dict) -> PurposeText:
    label = PURPOSES[default.purpose].label
    given = given or PurposeText("")
    body = " ".join(given.body.split()) if default.category != "AUTHENTICATION" else ""
    buttons = tuple(" ".join(b.split()) for b in given.buttons)
    problems: list[str] = []
    if default.category != TemplateCategory.AUTHENTICATION:
        expected = _placeholders(default.body)
        if not body:
            problems.append(f"{label}: write the message.")
        elif len(body) > MAX_BODY:
            problems.append(f"{label}: at most {MAX_BODY} characters.")
        elif _placeholders(body) != expected:
            wanted = ", ".join("{{" + n + "}}" for n in sorted(expected, key=int)) or "none"
            problems.append(f"{label}: use exactly the placeholders of the English ({wanted}).")
        elif body.startswith("{{") or body.endswith("}}"):
            problems.append(f"{label}: start and end with words, not a placeholder.")
    if len(buttons) != len(default.button_texts) or not all(buttons):
        problems.append(
            f"{label}: give a label for each of its {len(default.button_texts)} buttons."
        )
    elif any(len(b) > MAX_BUTTON for b in buttons):
        problems.append(f"{label}: a button label is at most {MAX_BUTTON} characters.")
    if problems:
        errors[default.purpose] = problems
    return PurposeText(body or default.body, buttons)


@transaction.atomic
def templates_language_add(
    *, clinic: Clinic, actor: User, language: str, texts: dict[str, PurposeText]
) -> list[MessageTemplate]:
    """Write the clinic's drafts of Vaidya's templates in `language` (one per purpose, see the
    module docstring); they are sent to Meta with the next submission. Refuses a language
    Vaidya ships, one a patient cannot prefer, and texts whose placeholders differ from the
    English. A draft or refused template of that language is replaced; one already on WhatsApp
    (pending or approved) is left as it is."""
    if language not in dict(addable_languages()):
        raise DomainError("Choose a language a patient may prefer.", field="language")
    errors: dict[str, list[str]] = {}
    checked = {
        d.purpose: (d, _checked(d, texts.get(d.purpose), errors)) for d in language_purposes()
    }
    if errors:
        raise ValidationFailed(errors, message="Some templates need another look.")
    existing = {
        t.purpose: t
        for t in MessageTemplate.objects.select_for_update().filter(
            clinic=clinic, language=language, purpose__in=list(checked)
        )
    }
    written = []
    for purpose, (default, text) in checked.items():
        row = existing.get(purpose)
        if row is not None and row.status not in (TemplateStatus.DRAFT, TemplateStatus.REJECTED):
            continue
        row = row or MessageTemplate(clinic=clinic, name=default.name, language=language)
        row.category = default.category
        row.purpose = purpose
        row.body = text.body
        row.footer_text = default.footer if default.category != "AUTHENTICATION" else ""
        row.buttons = [
            {**button, "text": label}
            for button, label in zip(default.buttons, text.buttons, strict=True)
        ]
        row.parameter_count = len(_placeholders(text.body))
        row.examples = list(default.examples)
        row.status = TemplateStatus.DRAFT
        row.rejected_reason = ""
        row.save()
        written.append(row)
    audit_record(
        clinic=clinic,
        actor=actor,
        action=Actions.TEMPLATES_LANGUAGE_ADDED,
        data={"language": language, "templates": len(written)},
    )
    return written
