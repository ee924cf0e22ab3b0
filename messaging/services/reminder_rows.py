"""Writing planned reminders: insert them (with COPY on PostgreSQL for long plans), plan again
the ones that were cancelled, and cancel those still planned for a source.

Rows are unique by (clinic, source, kind, due_at): planning the same thing twice plans once,
and planning again a row that was cancelled plans it again. What to plan is decided in
`messaging.services.reminders`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from messaging.models import Reminder, ReminderStatus

BATCH_SIZE = 1000
# Plans of at least this many rows are written with COPY on PostgreSQL.
COPY_FROM_ROWS = 20


def plan_rows(rows: list[Reminder]) -> int:
    """Insert planned reminders; a row that exists stays as it is, a cancelled one is planned
    again. Returns the number of rows given."""
    if not rows:
        return 0
    new = ((r.clinic_id, r.patient_id, r.kind, r.source, r.due_at, r.context) for r in rows)
    if len(rows) < COPY_FROM_ROWS or not _copy_new(new):
        _insert_or_replan(rows)
    return len(rows)


def plan_series(
    *,
    clinic_id: int,
    patient_id: int,
    kind: str,
    source: str,
    contexts: dict[dt.datetime, dict[str, Any]],
) -> int:
    """`plan_rows` for one source's reminders of one kind (`contexts`: due time -> context), without
    a model instance per row when COPY writes them (102 instances cost about 2 ms of CPU, more
    than computing the doses). Returns the number of rows given."""
    if not contexts:
        return 0
    dues = sorted(contexts)
    if len(dues) >= COPY_FROM_ROWS and _copy_new(
        (clinic_id, patient_id, kind, source, due, contexts[due]) for due in dues
    ):
        return len(dues)
    _insert_or_replan(
        [
            Reminder(
                clinic_id=clinic_id,
                patient_id=patient_id,
                kind=kind,
                source=source,
                due_at=due,
                context=contexts[due],
            )
            for due in dues
        ]
    )
    return len(dues)


def _insert_or_replan(rows: list[Reminder]) -> None:
    """Insert the rows that do not exist yet, and plan again those that were cancelled."""
    Reminder.objects.bulk_create(rows, ignore_conflicts=True, batch_size=BATCH_SIZE)
    by_key: dict[tuple[str, str], list[Reminder]] = {}
    for row in rows:
        by_key.setdefault((row.source, row.kind), []).append(row)
    for (source, kind), group in by_key.items():
        contexts = {r.due_at: r.context for r in group}
        cancelled = Reminder.objects.filter(
            clinic_id=group[0].clinic_id,
            source=source,
            kind=kind,
            status=ReminderStatus.CANCELLED,
        ).only("id", "due_at", "context")
        for reminder in cancelled:
            if reminder.due_at in contexts:
                reminder.status = ReminderStatus.PLANNED
                reminder.outcome = ""
                reminder.context = contexts.get(reminder.due_at, reminder.context)
                reminder.save(update_fields=["status", "outcome", "context", "updated_at"])


_COPY_COLUMNS = (
    "clinic_id",
    "patient_id",
    "kind",
    "source",
    "due_at",
    "context",
    "status",
    "claim_token",
    "outcome",
    "created_at",
    "updated_at",
)
# The same JSON as the context field writes (json.dumps with this encoder), one encoder for all.
_encode_json = DjangoJSONEncoder().encode


def _copy_new(
    rows: Iterable[tuple[int, int, str, str, dt.datetime, dict[str, Any]]],
) -> bool:
    """On PostgreSQL, insert new rows (clinic_id, patient_id, kind, source, due_at, context)
    with COPY (Django's bulk insert spends about 0.3 ms a row quoting parameters in Python;
    COPY streams them).

    True when every row was written. COPY cannot skip rows that exist, so a conflict (planning
    again) rolls back to a savepoint and returns False, for the caller's conflict-tolerant
    insert; False too when COPY does not apply. Because the unique key (clinic, source, kind,
    due_at) holds for every status, a COPY that succeeded met no existing row, cancelled or
    not: nothing is left to plan again."""
    if connection.vendor != "postgresql":
        return False
    now = timezone.now()
    # Every row's trailing columns (status, claim_token, outcome, created_at, updated_at).
    tail = (ReminderStatus.PLANNED.value, "", "", now, now)
    table = Reminder._meta.db_table
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            statement = f"COPY {table} ({', '.join(_COPY_COLUMNS)}) FROM STDIN"
            # The driver's own cursor: wrap its errors as Django's (IntegrityError below).
            with connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
                write_row = copy.write_row
                # A context object shared by several rows is encoded once (rows hold them
                # alive for the whole loop, so their ids stay theirs).
                encoded: dict[int, str] = {}
                for clinic_id, patient_id, kind, source, due_at, context in rows:
                    text = encoded.get(id(context))
                    if text is None:
                        text = encoded[id(context)] = _encode_json(context)
                    write_row((clinic_id, patient_id, kind, source, due_at, text, *tail))
    except IntegrityError:
        return False
    return True


def cancel_planned(
    *, clinic_id: int, sources: Iterable[str], reason: str, kinds: Iterable[str] | None = None
) -> int:
    queryset = Reminder.objects.filter(
        clinic_id=clinic_id, source__in=list(sources), status=ReminderStatus.PLANNED
    )
    if kinds is not None:
        queryset = queryset.filter(kind__in=list(kinds))
    return queryset.update(
        status=ReminderStatus.CANCELLED, outcome=reason[:300], updated_at=timezone.now()
    )
