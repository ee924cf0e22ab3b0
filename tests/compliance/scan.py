"""Looking for planted personal data everywhere: every text and JSON column of every installed
model (found through Django's introspection, not a list) and every file in the object store."""

from __future__ import annotations

import os

from django.apps import apps
from django.db import models
from django_scopes import scopes_disabled

from clinics.storage import storage

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField, models.FileField)


def text_columns():
    """(model, field name) for every concrete text, JSON and file column of every model."""
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, TEXT_FIELDS):
                yield model, field.name


def database_hits(values, *, except_rows=frozenset()) -> list[tuple[str, int, str, str]]:
    """(model label, pk, field, value) for every row holding one of `values`, leaving out
    `except_rows` ({(model label lower, pk)})."""
    hits = []
    wanted = [v.lower() for v in values]
    with scopes_disabled():
        for model, name in text_columns():
            # Read in Python, not with a lookup: encrypted columns hold ciphertext in the
            # database and are searched decrypted, as a reader would see them.
            for pk, raw in model._base_manager.values_list("pk", name).iterator():
                text = str(raw).lower() if raw else ""
                for value, low in zip(values, wanted, strict=True):
                    if low in text and (model._meta.label_lower, pk) not in except_rows:
                        hits.append((model._meta.label_lower, pk, name, value))
    return hits


def storage_hits(values) -> list[tuple[str, str]]:
    """(key, value) for every stored file whose (decrypted) content holds one of `values`."""
    backend = storage()
    hits = []
    root = backend.location
    for folder, _dirs, files in os.walk(root):
        for filename in files:
            key = os.path.relpath(os.path.join(folder, filename), root)
            with backend.open(key, "rb") as fh:
                content = fh.read()
            for value in values:
                if value.encode() in content or value in key:
                    hits.append((key, value))
    return hits
