"""Approved templates as a message needs them: the one for a purpose and language, its text
with the values filled in, and the values checked the way Meta checks them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from clinics.errors import DomainError
from messaging.models import MessageTemplate, TemplateStatus

PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def template_for(*, clinic_id: int, purpose: str, language: str) -> MessageTemplate | None:
    """The approved template for a purpose, in the patient's language or else in English."""
    candidates = {
        t.language: t
        for t in MessageTemplate.objects.filter(
            clinic_id=clinic_id, purpose=purpose, status=TemplateStatus.APPROVED
        )
    }
    return candidates.get(language) or candidates.get("en") or next(iter(candidates.values()), None)


# How a marketing template tells the patient they can stop it (Meta's marketing rules, and
# STOP is what messaging.services.optout acts on).
OPTOUT_LINE = re.compile(r"\bSTOP\b|\bunsubscribe\b|\bopt[ -]?out\b|बंद", re.IGNORECASE)


def has_optout_line(template: MessageTemplate) -> bool:
    """Does the template's body or footer say how to stop these messages?"""
    return bool(OPTOUT_LINE.search(f"{template.body}\n{template.footer_text}"))


def render_template_text(template: MessageTemplate, body_params: Sequence[Any]) -> str:
    """The template's body with its placeholders filled, as the patient reads it."""
    values = [str(v) for v in body_params]

    def fill(match: re.Match) -> str:
        key = match.group(1)
        if key.isdigit() and 0 < int(key) <= len(values):
            return values[int(key) - 1]
        return match.group(0)

    text = PLACEHOLDER.sub(fill, template.body)
    if template.header_text:
        text = f"{template.header_text}\n{text}"
    return text


def check_parameters(template: MessageTemplate, body_params: Sequence[Any]) -> None:
    if len(body_params) != template.parameter_count:
        raise DomainError(
            f"The template {template.name} needs {template.parameter_count} values; "
            f"{len(body_params)} given.",
            field="parameters",
        )
    for value in body_params:
        text = str(value)
        if not text.strip():
            raise DomainError("Every template value must be filled in.", field="parameters")
        if "\n" in text or "    " in text:
            # Meta refuses parameters with new lines or four spaces in a row.
            raise DomainError(
                "Template values cannot contain new lines or runs of spaces.", field="parameters"
            )
