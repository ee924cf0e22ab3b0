"""Find models whose fields look personal and that the personal-data registry does not cover.

A field looks personal by its type (free text, JSON, files, emails, phone numbers, raw bytes, IP
addresses) or by its name (name, phone, birth, note, reason, ...). A model is covered when a kind
about nobody is registered for it (its description says why), or when each such field is in a
kind's `fields` or named with a reason in a kind's `extra["not_personal"]` or `extra["kept"]`.
tests/compliance/test_personal_data_registry.py runs it over every installed model of the
project's apps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db import models

from compliance.personal_data import NOBODY, kind_for_model

PROJECT_APPS = ("clinics", "patients", "compliance", "messaging", "billing")

_ALWAYS = (
    models.TextField,
    models.JSONField,
    models.FileField,
    models.EmailField,
    models.BinaryField,
    models.GenericIPAddressField,
)
_NAMED = re.compile(
    r"name|phone|mobile|email|address|birth|dob|note|text|body|payload|comment|reason|detail"
    r"|remark|message|context|signature|abha|wa_id|bsuid|complaint|history|advice|condition"
    r"|allerg|relation|pincode|city|user_agent|label|title|secret|identification"
)


def looks_personal(field: Any) -> bool:
    if not getattr(field, "concrete", False) or field.is_relation or field.primary_key:
        return False
    if isinstance(field, _ALWAYS) or type(field).__name__ == "PhoneNumberField":
        return True
    named = isinstance(field, models.CharField) or (
        isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField)
    )
    return named and bool(_NAMED.search(field.name))


def uncovered_fields(model: Any) -> list[str]:
    """The personal-looking fields of a model the registry says nothing about ("app.Model.f"),
    or the model itself ("app.Model") when it has such fields and is not registered at all."""
    personal = [f.name for f in model._meta.get_fields() if looks_personal(f)]
    if not personal:
        return []
    kinds = kind_for_model(model._meta.label)
    if not kinds:
        return [model._meta.label]
    if any(k.subject == NOBODY for k in kinds):
        return []
    said: set[str] = set()
    for kind in kinds:
        said.update(kind.fields)
        said.update(kind.extra.get("not_personal", {}))
        said.update(kind.extra.get("kept", {}))
    return [f"{model._meta.label}.{name}" for name in personal if name not in said]


def unregistered(models_: Iterable[Any]) -> list[str]:
    problems: list[str] = []
    for model in models_:
        problems.extend(uncovered_fields(model))
    return problems


def project_models() -> list[Any]:
    from django.apps import apps  # noqa: PLC0415

    return [m for m in apps.get_models() if m._meta.app_label in PROJECT_APPS and not m._meta.proxy]
