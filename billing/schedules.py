"""The billing app's schedules (synced to django-q2 by `manage.py sync_schedules`)."""

from __future__ import annotations

from clinics.schedules import MINUTES, ScheduleSpec, register_schedules


@register_schedules
def billing_schedules() -> list[ScheduleSpec]:
    return [
        {
            # Open payment links fetched from Razorpay: repairs a webhook that never came.
            "name": "vaidya.payment_links_reconcile",
            "func": "billing.razorpay.tasks.reconcile_payment_links",
            "schedule_type": MINUTES,
            "minutes": 15,
        },
        {
            # Subscriptions past their grace period, and the ones whose webhook never came.
            "name": "vaidya.subscriptions_reconcile",
            "func": "billing.subscriptions.tasks.reconcile_subscriptions",
            "schedule_type": MINUTES,
            "minutes": 60,
        },
    ]
