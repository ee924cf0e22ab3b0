"""The compliance app's schedules (synced to django-q2 by `manage.py sync_schedules`)."""

from __future__ import annotations

from clinics.schedules import CRON, MINUTES, ScheduleSpec, register_schedules


@register_schedules
def compliance_schedules() -> list[ScheduleSpec]:
    return [
        {
            # Each owner hears once, a day before, about a data-rights request coming due.
            "name": "vaidya.rights_requests_remind",
            "func": "compliance.tasks.remind_rights_requests",
            "schedule_type": MINUTES,
            "minutes": 30,
        },
        {
            # Daily at 02:30 UTC (08:00 IST): after the night's reminders, before the clinic opens.
            "name": "vaidya.retention_purge",
            "func": "compliance.tasks.retention_purge_all",
            "schedule_type": CRON,
            "cron": "30 2 * * *",
        },
        {
            # Export ZIPs are removed 7 days after they were prepared.
            "name": "vaidya.exports_expire",
            "func": "compliance.tasks.exports_expire_all",
            "schedule_type": CRON,
            "cron": "20 2 * * *",
        },
        {
            # A departed staff member's personal data goes 30 days after the account closed.
            "name": "vaidya.staff_data_erase",
            "func": "compliance.tasks.staff_data_erase_all",
            "schedule_type": CRON,
            "cron": "40 2 * * *",
        },
    ]
