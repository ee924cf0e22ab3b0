"""What messaging adds to the reports page (`clinics/reports.py`): WhatsApp appointment
reminders sent, and what patients answered. `MessagingConfig.ready()` registers `REPORTS`.

One query whatever the period: appointment reminders (the confirmation at booking and the
reminders before) by the clinic-local day they were due.
"""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, Count, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat

from clinics.registry import ReportSource
from clinics.reports import Column, Figure, ReportQuery, ReportSection, daily_section, rate
from clinics.roles import Perm
from messaging.models import Reminder, ReminderStatus
from messaging.services.care_replies import (
    APPOINTMENT_KINDS,
    ASKED_TO_MOVE,
    CANCELLED_BY_PATIENT,
    CONFIRMED,
)
from patients.models import Appointment

COLUMNS = (
    Column("sent", "Sent"),
    Column("not_sent", "Could not be sent", charted=False),
    Column("confirmed", "Confirmed"),
    Column("asked_to_move", "Asked for another time", charted=False),
    Column("cancelled", "Cancelled by the patient", charted=False),
)
NOT_SENT = (ReminderStatus.FAILED, ReminderStatus.SKIPPED)


def _doctor_sources(doctor_id: int) -> QuerySet:
    """The reminder sources ("appointment:<id>") of one doctor's appointments."""
    return (
        Appointment.objects.filter(doctor_id=doctor_id)
        .annotate(source=Concat(Value("appointment:"), Cast("pk", CharField())))
        .values("source")
    )


def reminder_counts(query: ReportQuery) -> list[dict[str, Any]]:
    """[{day, sent, not_sent, confirmed, asked_to_move, cancelled}]: one query."""
    reminders = Reminder.objects.filter(
        kind__in=APPOINTMENT_KINDS, due_at__gte=query.start_at, due_at__lt=query.end_at
    )
    if query.doctor_id:
        reminders = reminders.filter(source__in=_doctor_sources(query.doctor_id))
    return list(
        reminders.annotate(day=query.local_day("due_at"))
        .values("day")
        .annotate(
            sent=Count("pk", filter=Q(status=ReminderStatus.SENT)),
            not_sent=Count("pk", filter=Q(status__in=NOT_SENT)),
            confirmed=Count("pk", filter=Q(outcome=CONFIRMED)),
            asked_to_move=Count("pk", filter=Q(outcome=ASKED_TO_MOVE)),
            cancelled=Count("pk", filter=Q(outcome=CANCELLED_BY_PATIENT)),
        )
        .order_by()
    )


def reminders_section(*, query: ReportQuery) -> list[ReportSection]:
    per_day = {row["day"]: [row[c.key] for c in COLUMNS] for row in reminder_counts(query)}
    totals = {c.key: sum(day[i] for day in per_day.values()) for i, c in enumerate(COLUMNS)}
    sent, confirmed = totals["sent"], totals["confirmed"]
    section = daily_section(
        query,
        slug="messaging-reminders",
        title="WhatsApp appointment reminders",
        columns=COLUMNS,
        per_day=per_day,
        figures=[
            Figure("Sent", f"{sent:,}"),
            Figure("Confirmed", f"{confirmed:,} ({rate(confirmed, sent)})"),
            Figure("Asked for another time", f"{totals['asked_to_move']:,}"),
            Figure("Cancelled by the patient", f"{totals['cancelled']:,}"),
            Figure("Could not be sent", f"{totals['not_sent']:,}"),
        ],
        desc=f"Appointment reminders: {sent} sent, {confirmed} confirmed",
        note="Reminders are counted on the day they were due; confirmed: the patient pressed "
        "Confirm on it.",
    )
    return [section]


REPORTS = ReportSource(
    name="messaging.reminders",
    order=40,
    perm=Perm.MESSAGING_VIEW,
    load=reminders_section,
    slugs=("messaging-reminders",),
)
