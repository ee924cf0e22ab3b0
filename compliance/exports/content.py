"""What an export holds: the JSON of every registered kind and the summary of what is held.

Both read only the personal-data registry (`compliance.personal_data`), so a kind registered
later is exported without a change here. Run inside the clinic's scope.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterator
from typing import Any

from django.db.models.fields.files import FieldFile

from compliance.personal_data import PersonalData, kind_model, kind_rows, kinds_about


def jsonable(value: Any) -> Any:
    """A value as JSON can carry it: dates as ISO 8601, money as a string, files by name."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _default_columns(kind: PersonalData) -> list[str]:
    model = kind_model(kind)
    names = ["pk", *kind.fields]
    if kind.age_field and kind.age_field not in names:
        names.append(kind.age_field)
    for extra in ("created_at", "occurred_at", "signed_at"):
        if extra not in names and any(f.name == extra for f in model._meta.concrete_fields):
            names.append(extra)
    return names


def kind_records(kind: PersonalData, person_id: int) -> Iterator[dict[str, Any]]:
    """The kind's rows about one person, each as a JSON-ready dict (the kind's `export`, or its
    registered fields with the row's id and dates)."""
    rows = kind_rows(kind, person_id)
    if kind.export is not None:
        for row in rows.iterator(chunk_size=1000):
            yield jsonable(kind.export(row))
        return
    columns = _default_columns(kind)
    for values in rows.order_by("pk").values(*columns).iterator(chunk_size=2000):
        values["id"] = values.pop("pk")
        yield jsonable(values)


def person_json(subject: str, person_id: int) -> dict[str, Any]:
    """Every registered kind about the person: {"kinds": {name: {description, count, rows}}}.

    Kinds with no rows are listed with a count of 0, so the reader sees what was looked at."""
    kinds: dict[str, Any] = {}
    for kind in kinds_about(subject):
        records = list(kind_records(kind, person_id))
        kinds[kind.name] = {
            "description": kind.description,
            "count": len(records),
            "rows": records,
        }
    return {"kinds": kinds}


def summary_rows(counts: dict[str, int], subject: str) -> list[dict[str, Any]]:
    """What is held, why, under which retention rule and who else received it, per kind the
    person has rows of (for the PDF summary)."""
    out = []
    for kind in kinds_about(subject):
        count = counts.get(kind.name, 0)
        if not count:
            continue
        rc = kind.retention_class
        out.append(
            {
                "name": kind.name,
                "description": kind.description,
                "count": count,
                "purpose": kind.purpose,
                "retention_label": rc.label,
                "retention_basis": rc.basis,
                "counts_from": rc.counts_from,
                "processors": list(kind.processors),
            }
        )
    return out
