"""Recovering work whose task was lost: the sweep over the `waiting_work` registry.

A row that waits on a background task (a document "preparing", a message "queued", a stored
webhook delivery) is written, then its task is enqueued after commit. With the Redis broker a
worker pulls tasks in bulk; killed hard (`kill -9`, the machine lost) it takes the tasks it had
not run with it, and the row would wait for ever. Each kind of waiting row records when its task
was (re-)enqueued (`queued_at`); `waiting_work_requeue` (the `vaidya.waiting_work_requeue`
schedule, once per clinic) enqueues the task again for the rows that waited longer than the
task can take, and stamps them, so a second sweep right after finds nothing. The tasks tolerate
running twice (they claim the row before acting), so a task thought lost that was only slow
does no harm.

The kinds are registered by the apps that own them (`clinics.registry.waiting_work`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from clinics.queue import enqueue
from clinics.registry import WaitingWork, waiting_work

logger = logging.getLogger(__name__)

# Rows enqueued again per kind and clinic in one sweep; the next sweep takes the rest.
REQUEUE_LIMIT = 500


def task_lost_after() -> timedelta:
    """How long a task can take from enqueue to end (TASK_LOST_AFTER_SECONDS, longer than the
    cluster's timeout): work waiting longer than this had its task lost."""
    return timedelta(seconds=settings.TASK_LOST_AFTER_SECONDS)


def stale_after(entry: WaitingWork) -> timedelta:
    """The bound after which a row of this kind counts as lost (never below the default)."""
    bound = entry.stale_after() if entry.stale_after is not None else task_lost_after()
    return max(bound, task_lost_after())


def _enqueue_after_commit(task: str, ids: list[int]) -> None:
    def _enqueue() -> None:
        for row_id in ids:
            enqueue(task, row_id)

    transaction.on_commit(_enqueue)


def _requeue_kind(entry: WaitingWork, now: datetime, limit: int, ids: Iterable[int] | None) -> int:
    rows = entry.model.objects.filter(entry.stale(now - stale_after(entry)))
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    rows = rows.order_by(entry.queued_at, "pk")
    if connection.features.has_select_for_update_skip_locked:
        # Two sweeps at once (two schedulers, a Retry click) take different rows.
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    found = list(rows.values_list("pk", flat=True)[:limit])
    if not found:
        return 0
    entry.model.objects.filter(pk__in=found).update(**{entry.queued_at: now})
    _enqueue_after_commit(entry.task, found)
    logger.warning("Enqueued %s lost %s task(s) again.", len(found), entry.name)
    return len(found)


@transaction.atomic
def waiting_work_requeue(
    *,
    now: datetime | None = None,
    limit: int = REQUEUE_LIMIT,
    kinds: Iterable[str] | None = None,
) -> dict[str, int]:
    """Enqueue again, after commit, the tasks of the current clinic's rows that waited on them
    longer than they can take, stamping the rows as enqueued now; {kind: how many}.

    Runs inside a clinic scope (`for_each_clinic`). Idempotent: the rows it enqueues are fresh
    again, so a second run finds nothing until the bound passes once more.
    """
    now = now or timezone.now()
    wanted = set(kinds) if kinds is not None else None
    return {
        entry.name: _requeue_kind(entry, now, limit, None)
        for entry in waiting_work
        if wanted is None or entry.name in wanted
    }


@transaction.atomic
def waiting_row_requeue(*, kind: str, row_id: int, now: datetime | None = None) -> bool:
    """Enqueue one row's task again if it waited longer than the task can take (what a Retry
    button does on work that looks stuck); False when it is not (or no longer) waiting that
    long. Inside the row's clinic scope."""
    entry = next((e for e in waiting_work if e.name == kind), None)
    if entry is None:
        raise LookupError(f"No waiting work is registered as {kind!r}.")
    return _requeue_kind(entry, now or timezone.now(), 1, [row_id]) == 1


def waiting_since_cutoff(kind: str, now: datetime | None = None) -> datetime:
    """The time before which a row of `kind` enqueued (or started) counts as lost."""
    entry = next((e for e in waiting_work if e.name == kind), None)
    if entry is None:
        raise LookupError(f"No waiting work is registered as {kind!r}.")
    return (now or timezone.now()) - stale_after(entry)
