"""The compliance app's schedules (synced to django-q2 by `manage.py sync_schedules`)."""

from __future__ import annotations

from clinics.schedules import MINUTES, ScheduleSpec, register_schedules


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
    ]
