"""Compliance's schedules (synced by `manage.py sync_schedules`)."""

from __future__ import annotations

from clinics.schedules import CRON, ScheduleSpec, register_schedules


@register_schedules
def _compliance_schedules() -> list[ScheduleSpec]:
    return [
        {
            # Daily at 02:30 UTC (08:00 IST): after the night's reminders, before the clinic opens.
            "name": "vaidya.retention_purge",
            "func": "compliance.tasks.retention_purge_all",
            "schedule_type": CRON,
            "cron": "30 2 * * *",
        }
    ]
