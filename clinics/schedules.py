"""Schedules declared in code; `manage.py sync_schedules` writes them to django-q2.

Each schedule is a dict with the fields of `django_q.models.Schedule` it sets: `name` (starting
with `vaidya.`, which marks the schedules that `sync_schedules` owns), `func` (dotted path),
`schedule_type` and `minutes` or `cron`. Apps higher up (messaging, billing) add theirs by
decorating a function that returns them with `register_schedules`, so this module never imports
them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from django.conf import settings

SCHEDULE_PREFIX = "vaidya."
MINUTES = "I"  # django_q.models.Schedule.MINUTES
CRON = "C"  # django_q.models.Schedule.CRON

ScheduleSpec = dict[str, Any]
_providers: list[Callable[[], list[ScheduleSpec]]] = []


def register_schedules(
    provider: Callable[[], list[ScheduleSpec]],
) -> Callable[[], list[ScheduleSpec]]:
    """Add a function that returns more schedules (evaluated when they are synced)."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def audit_seal_minutes() -> int:
    """AUDIT_SEAL_INTERVAL_SECONDS rounded up to whole minutes (django-q2's finest interval)."""
    return max(1, math.ceil(settings.AUDIT_SEAL_INTERVAL_SECONDS / 60))


@register_schedules
def _clinics_schedules() -> list[ScheduleSpec]:
    return [
        {
            "name": "vaidya.audit_seal_pending",
            "func": "clinics.tasks.audit_seal_pending",
            "schedule_type": MINUTES,
            "minutes": audit_seal_minutes(),
        },
        {
            "name": "vaidya.audit_publish_heads",
            "func": "clinics.tasks.audit_publish_heads",
            "schedule_type": MINUTES,
            "minutes": max(1, settings.AUDIT_PUBLISH_INTERVAL_MINUTES),
        },
        {
            # Work whose task a dead worker took with it: enqueued again (clinics/recovery.py).
            "name": "vaidya.waiting_work_requeue",
            "func": "clinics.tasks.requeue_waiting_work",
            "schedule_type": MINUTES,
            "minutes": 1,
        },
        {
            "name": "vaidya.idempotency_purge_expired",
            "func": "clinics.tasks.idempotency_purge_expired",
            "schedule_type": MINUTES,
            "minutes": 60,
        },
        {
            # The whole installation, to BACKUP_DESTINATION, with retention (clinics/backups/).
            "name": "vaidya.backup_daily",
            "func": "clinics.backups.tasks.backup_daily",
            "schedule_type": CRON,
            "cron": settings.BACKUP_CRON,
            # A large installation's backup runs longer than Q_TIMEOUT allows ordinary tasks.
            "kwargs": f"q_options={{'timeout': {settings.BACKUP_TIMEOUT_SECONDS}}}",
        },
        {
            "name": "vaidya.backup_check",
            "func": "clinics.backups.tasks.backup_check",
            "schedule_type": MINUTES,
            "minutes": 60,
        },
    ]


def declared_schedules() -> list[ScheduleSpec]:
    """Every schedule Vaidya declares, with settings applied."""
    schedules: list[ScheduleSpec] = []
    for provider in _providers:
        schedules.extend(provider())
    return schedules
