"""Stored webhook deliveries that were not processed: found again, reported, replayed.

The webhook view stores a verified delivery and only then enqueues its task. Two things can
leave a delivery behind:
- the task was lost: with the Redis broker the enqueue runs after commit, and Meta has its 200
  whatever the queue does, so a Redis outage (or a restart: nothing is kept on disk) loses the
  task but not the delivery; so does a worker killed while holding it. The lost-task sweep
  (`WEBHOOKS_WAITING` in `clinics.registry.waiting_work`, the `vaidya.waiting_work_requeue`
  schedule) enqueues again every delivery that was never attempted and has waited longer than
  a task can take (`TASK_LOST_AFTER_SECONDS`);
- processing failed every time the broker tried (an inbound file that could not be copied, a
  bug): the delivery keeps its attempt count and the error's kind. An operator looks at them
  with `manage.py whatsapp_webhooks status` and replays them with `... replay` once the cause
  is fixed.

Processing is idempotent (statuses per wamid and status, inbound messages per wamid), so a
delivery processed twice, because a task thought lost was only slow, changes nothing.

The sweep runs once per clinic, in that clinic's scope (`clinics.tenancy.for_each_clinic`).
The ops functions (`webhook_backlog`, `webhook_failures`, `webhook_deliveries_replay`) visit the
clinics that have stored deliveries (`clinics.tenancy.clinic_ids_with`), each inside its own
scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Max, Min, Q

from clinics.recovery import waiting_work_requeue
from clinics.registry import WaitingWork
from clinics.tenancy import clinic_ids_with, clinic_scope
from messaging.models import WebhookDelivery
from messaging.services.inbound import webhook_delivery_process

WAITING_KIND = "messaging.webhook_deliveries"


def webhook_deliveries_waiting(cutoff: datetime) -> Q:
    """Deliveries never attempted whose task was enqueued before `cutoff`: it was lost. Failed
    deliveries (attempted at least once) are left for an operator to replay."""
    enqueued = Q(queued_at__lt=cutoff) | Q(queued_at__isnull=True, received_at__lt=cutoff)
    return enqueued & Q(attempts=0)


WEBHOOKS_WAITING = WaitingWork(
    name=WAITING_KIND,
    order=30,
    model=WebhookDelivery,
    task="messaging.tasks.process_webhook",
    stale=webhook_deliveries_waiting,
)


def webhook_deliveries_requeue_lost() -> int:
    """Enqueue the task again (after commit) for the scope's clinic's deliveries whose task was
    lost; returns how many. The lost-task sweep does this with the other kinds."""
    return waiting_work_requeue(kinds=[WAITING_KIND])[WAITING_KIND]


@dataclass
class BacklogRow:
    clinic_id: int
    clinic_name: str
    waiting: int
    failed: int
    oldest: datetime
    newest: datetime


def _clinics(clinic_id: int | None, **filters) -> list[int]:
    """The clinics to visit: the one asked for, or every clinic with matching deliveries."""
    return [clinic_id] if clinic_id is not None else clinic_ids_with(WebhookDelivery, **filters)


def webhook_backlog(*, clinic_id: int | None = None) -> list[BacklogRow]:
    """Stored deliveries per clinic: waiting (never attempted) and failed (attempted)."""
    rows: list[BacklogRow] = []
    for visited in _clinics(clinic_id):
        with clinic_scope(visited):
            rows += _backlog_of_scope()
    return sorted(rows, key=lambda row: (row.clinic_name, row.clinic_id))


def _backlog_of_scope() -> list[BacklogRow]:
    grouped = (
        WebhookDelivery.objects.values("clinic_id", "clinic__name")
        .annotate(
            waiting=Count("id", filter=Q(attempts=0)),
            failed=Count("id", filter=Q(attempts__gt=0)),
            oldest=Min("received_at"),
            newest=Max("received_at"),
        )
        .order_by("clinic_id")
    )
    return [
        BacklogRow(
            clinic_id=r["clinic_id"],
            clinic_name=r["clinic__name"],
            waiting=r["waiting"],
            failed=r["failed"],
            oldest=r["oldest"],
            newest=r["newest"],
        )
        for r in grouped
    ]


def webhook_failures(*, clinic_id: int | None = None, limit: int = 20) -> list[dict]:
    """The latest failed deliveries: id, clinic, attempts, error kind (never the body)."""
    failures: list[dict] = []
    for visited in _clinics(clinic_id, attempts__gt=0):
        with clinic_scope(visited):
            failures += (
                WebhookDelivery.objects.filter(attempts__gt=0)
                .order_by("-received_at", "-id")
                .values("id", "clinic_id", "received_at", "attempts", "error")[:limit]
            )
    failures.sort(key=lambda f: (f["received_at"], f["id"]), reverse=True)
    return failures[:limit]


@dataclass
class ReplayReport:
    processed: list[int] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        text = f"Replayed {len(self.processed)} webhook deliveries."
        if self.gone:
            text += f" {len(self.gone)} had been processed meanwhile."
        if self.failed:
            text += f" {len(self.failed)} failed again: " + "; ".join(
                f"delivery {pk}: {error}" for pk, error in self.failed
            )
        return text


def webhook_deliveries_replay(
    *, clinic_id: int | None = None, ids: list[int] | None = None, limit: int = 1000
) -> ReplayReport:
    """Process stored deliveries now, in this process, clinic by clinic and oldest first, each
    in its clinic's scope.

    A delivery that fails again is kept (with one more attempt counted) and reported; the others
    are processed and deleted as the task would.
    """
    chosen = {} if ids is None else {"pk__in": ids}
    report = ReplayReport()
    for visited in _clinics(clinic_id, **chosen):
        with clinic_scope(visited):
            left = limit - len(report.processed) - len(report.gone) - len(report.failed)
            pending = list(
                WebhookDelivery.objects.filter(**chosen)
                .order_by("received_at", "id")
                .values_list("pk", flat=True)[: max(left, 0)]
            )
            for delivery_id in pending:
                _replay_one(delivery_id, report)
    return report


def _replay_one(delivery_id: int, report: ReplayReport) -> None:
    try:
        result = webhook_delivery_process(delivery_id=delivery_id)
    except Exception:  # kept and reported; the next one is tried
        error = (
            WebhookDelivery.objects.filter(pk=delivery_id).values_list("error", flat=True).first()
        )
        report.failed.append((delivery_id, error or "failed"))
        return
    (report.gone if result == "gone" else report.processed).append(delivery_id)
