"""The messaging app's schedules (synced to django-q2 by `manage.py sync_schedules`)."""

from __future__ import annotations

from clinics.schedules import MINUTES, ScheduleSpec, register_schedules


@register_schedules
def messaging_schedules() -> list[ScheduleSpec]:
    return [
        {
            # Sends due reminders until none is left (several can run at once safely).
            "name": "vaidya.reminders_dispatch",
            "func": "messaging.tasks.dispatch_reminders",
            "schedule_type": MINUTES,
            "minutes": 1,
        },
        {
            "name": "vaidya.messages_retry_due",
            "func": "messaging.tasks.retry_due_messages",
            "schedule_type": MINUTES,
            "minutes": 1,
        },
        # Messages and webhook deliveries whose task was lost are enqueued again by clinics'
        # `vaidya.waiting_work_requeue` (their kinds are in `clinics.registry.waiting_work`).
        {
            # Unanswered doses, missed-dose alerts, and reminders left claimed by a worker
            # that stopped.
            "name": "vaidya.care_sweep",
            "func": "messaging.tasks.care_sweep",
            "schedule_type": MINUTES,
            "minutes": 10,
        },
    ]
