"""What patients adds to the reports page (`clinics/reports.py`): patients seen per day and per
doctor, new and follow-up, no-shows and cancellations, and the wait from check-in to
consultation. `PatientsConfig.ready()` registers `REPORTS` with `clinics.registry`.

Three queries whatever the period: appointments by (clinic-local day, doctor), visits opened
without an appointment by (day, doctor), and waits by (doctor, whole minute).

Definitions (also shown on the page):
- seen: an appointment the doctor took (with the doctor or done, or still waiting but with a
  visit opened for it), dated by its time; and a visit opened without an appointment, dated
  by its opening;
- new: seen with no earlier consultation at the clinic (an earlier visit, or an earlier
  appointment the doctor took); follow-up otherwise;
- wait: from check-in to the doctor calling the patient in (`started_at`), for appointments
  with both times; the median is to the whole minute.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Cast, Floor

from clinics.charts import BarChart, Series
from clinics.formatting import format_date
from clinics.registry import ReportSource
from clinics.reports import (
    Column,
    Figure,
    ReportQuery,
    ReportSection,
    SecondsBetween,
    daily_section,
    minutes,
    rate,
)
from patients.models import Appointment, AppointmentKind, AppointmentStatus, Visit

SEEN_STATUSES = (AppointmentStatus.IN_CONSULTATION, AppointmentStatus.COMPLETED)
# Bands of the waiting-time chart, in minutes: [start, end).
WAIT_BANDS = ((0, 10), (10, 20), (20, 30), (30, 45), (45, 60), (60, 90), (90, None))
COUNTS = ("booked", "walk_ins", "cancelled", "no_show", "seen", "new")


@dataclass
class Counts:
    booked: int = 0
    walk_ins: int = 0
    cancelled: int = 0
    no_show: int = 0
    seen: int = 0
    new: int = 0

    @property
    def follow_up(self) -> int:
        return self.seen - self.new

    def add(self, row: dict[str, Any]) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + row.get(name, 0))


@dataclass
class Waits:
    """Waits by whole minute: {minute: count} and their exact total in seconds."""

    by_minute: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    count: int = 0
    total_seconds: float = 0.0

    def add(self, minute: int, count: int, seconds: float) -> None:
        self.by_minute[minute] += count
        self.count += count
        self.total_seconds += seconds

    @property
    def average(self) -> float | None:
        return self.total_seconds / self.count if self.count else None

    @property
    def median(self) -> float | None:
        """The median wait in seconds, to the whole minute (the lower middle one)."""
        if not self.count:
            return None
        middle, running = (self.count + 1) // 2, 0
        for minute in sorted(self.by_minute):
            running += self.by_minute[minute]
            if running >= middle:
                return minute * 60.0
        return None  # pragma: no cover - the counts add up to self.count

    def band_counts(self) -> list[int]:
        return [
            sum(n for m, n in self.by_minute.items() if m >= lo and (hi is None or m < hi))
            for lo, hi in WAIT_BANDS
        ]


# --- the queries ------------------------------------------------------------------------------
def _seen_appointment() -> Q:
    """The doctor took the appointment: with the doctor or done, or waiting with a visit."""
    # Any version: a correction is a copy made later, with the same appointment and patient.
    has_visit = Visit.objects.filter(appointment=OuterRef("pk"))
    return Q(status__in=SEEN_STATUSES) | (
        Q(status=AppointmentStatus.CHECKED_IN) & Q(Exists(has_visit))
    )


def _earlier_consultation(patient: OuterRef, before: OuterRef, same_appointment: Any) -> Q:
    """The patient was seen before `before`: an earlier appointment the doctor took, or an
    earlier visit (other than this appointment's). Most follow-ups had an earlier appointment:
    that check comes first, and the visits are looked at only for the others."""
    appointments = Appointment.objects.filter(
        patient=patient, status__in=SEEN_STATUSES, starts_at__lt=before
    )
    visits = Visit.objects.filter(patient=patient, created_at__lt=before)
    if same_appointment is not None:
        visits = visits.exclude(appointment=same_appointment)
    return Q(Exists(appointments)) | Q(Exists(visits))


def _doctor(queryset: QuerySet, query: ReportQuery) -> QuerySet:
    return queryset.filter(doctor_id=query.doctor_id) if query.doctor_id else queryset


def appointment_counts(query: ReportQuery) -> list[dict[str, Any]]:
    """[{day, doctor_id, booked, walk_ins, cancelled, no_show, seen, new}]: one query."""
    seen = _seen_appointment()
    earlier = _earlier_consultation(OuterRef("patient"), OuterRef("starts_at"), OuterRef("pk"))
    appointments = Appointment.objects.filter(
        starts_at__gte=query.start_at, starts_at__lt=query.end_at
    )
    return list(
        _doctor(appointments, query)
        .annotate(day=query.local_day("starts_at"))
        .values("day", "doctor_id")
        .annotate(
            booked=Count("pk", filter=Q(kind=AppointmentKind.BOOKED)),
            walk_ins=Count("pk", filter=Q(kind=AppointmentKind.WALK_IN)),
            cancelled=Count("pk", filter=Q(status=AppointmentStatus.CANCELLED)),
            no_show=Count("pk", filter=Q(status=AppointmentStatus.NO_SHOW)),
            seen=Count("pk", filter=seen),
            new=Count("pk", filter=seen & ~earlier),
        )
        .order_by()
    )


def unbooked_visit_counts(query: ReportQuery) -> list[dict[str, Any]]:
    """[{day, doctor_id, seen, new}] for visits opened without an appointment: one query."""
    earlier = _earlier_consultation(OuterRef("patient"), OuterRef("created_at"), None)
    visits = Visit.objects.filter(
        amends__isnull=True,
        appointment__isnull=True,
        created_at__gte=query.start_at,
        created_at__lt=query.end_at,
    )
    return list(
        _doctor(visits, query)
        .annotate(day=query.local_day("created_at"))
        .values("day", "doctor_id")
        .annotate(seen=Count("pk"), new=Count("pk", filter=~earlier))
        .order_by()
    )


def wait_counts(query: ReportQuery) -> list[dict[str, Any]]:
    """[{doctor_id, minute, count, seconds}]: waits from check-in to call-in, one query."""
    appointments = Appointment.objects.filter(
        starts_at__gte=query.start_at,
        starts_at__lt=query.end_at,
        checked_in_at__isnull=False,
        started_at__gte=F("checked_in_at"),
    )
    return list(
        _doctor(appointments, query)
        .annotate(wait=SecondsBetween("started_at", "checked_in_at"))
        .annotate(minute=Cast(Floor(F("wait") / 60), IntegerField()))
        .values("doctor_id", "minute")
        .annotate(count=Count("pk"), seconds=Sum("wait"))
        .order_by()
    )


# --- the sections -----------------------------------------------------------------------------
@dataclass
class Figures:
    by_day: dict[date, Counts] = field(default_factory=lambda: defaultdict(Counts))
    by_doctor: dict[int, Counts] = field(default_factory=lambda: defaultdict(Counts))
    total: Counts = field(default_factory=Counts)
    waits: Waits = field(default_factory=Waits)
    doctor_waits: dict[int, Waits] = field(default_factory=lambda: defaultdict(Waits))


def gather(query: ReportQuery) -> Figures:
    figures = Figures()
    for row in appointment_counts(query) + unbooked_visit_counts(query):
        figures.by_day[row["day"]].add(row)
        figures.by_doctor[row["doctor_id"]].add(row)
        figures.total.add(row)
    for row in wait_counts(query):
        figures.waits.add(row["minute"], row["count"], row["seconds"])
        figures.doctor_waits[row["doctor_id"]].add(row["minute"], row["count"], row["seconds"])
    return figures


def _per_day(figures: Figures, *names: str) -> dict[date, list[int]]:
    return {d: [getattr(c, n) for n in names] for d, c in figures.by_day.items()}


def seen_section(query: ReportQuery, figures: Figures) -> ReportSection:
    busiest = max(figures.by_day.items(), key=lambda kv: kv[1].seen, default=None)
    total = figures.total.seen
    return daily_section(
        query,
        slug="patients-seen",
        title="Patients seen",
        columns=[Column("seen", "Seen")],
        per_day=_per_day(figures, "seen"),
        figures=[
            Figure("Seen", f"{total:,}"),
            Figure("A day on average", f"{total / query.period.days:,.1f}"),
            Figure(
                "Busiest day",
                f"{format_date(busiest[0])} ({busiest[1].seen})"
                if busiest and busiest[1].seen
                else "-",
            ),
        ],
        desc=f"Patients seen: {total} in all",
        note="Seen: an appointment the doctor took, or a visit opened without one.",
    )


def _doctor_row(name: str, counts: Counts, waits: Waits) -> list[Any]:
    return [
        name,
        counts.seen,
        counts.new,
        counts.follow_up,
        counts.no_show,
        counts.cancelled,
        minutes(waits.average),
        minutes(waits.median),
    ]


DOCTOR_HEADERS = [
    "Doctor",
    "Seen",
    "New",
    "Follow-up",
    "No-shows",
    "Cancelled",
    "Average wait",
    "Median wait",
]


def doctors_section(query: ReportQuery, figures: Figures) -> ReportSection:
    shown = sorted((d for d in figures.by_doctor if query.shows_doctor(d)), key=query.doctor_name)
    rows = [
        _doctor_row(query.doctor_name(d), figures.by_doctor[d], figures.doctor_waits[d])
        for d in shown
    ]
    rows.append(
        _doctor_row(
            "Whole clinic" if not query.doctor_id else "All shown", figures.total, figures.waits
        )
    )
    hidden = query.visible_doctor_ids is not None
    return ReportSection(
        slug="patients-doctors",
        title="Patients seen per doctor",
        chart=BarChart(
            title="Patients seen per doctor",
            desc=f"Patients seen by each doctor, {query.period}.",
            labels=[query.doctor_name(d) for d in shown],
            series=[Series("Seen", [float(figures.by_doctor[d].seen) for d in shown])],
        )
        if len(shown) > 1
        else None,
        headers=DOCTOR_HEADERS,
        rows=rows,
        note="Only owners see each doctor's figures; yours are shown with the clinic's."
        if hidden
        else "",
    )


def new_section(query: ReportQuery, figures: Figures) -> ReportSection:
    total = figures.total
    return daily_section(
        query,
        slug="patients-new-follow-up",
        title="New and follow-up patients",
        columns=[Column("new", "New"), Column("follow_up", "Follow-up")],
        per_day=_per_day(figures, "new", "follow_up"),
        figures=[
            Figure("New", f"{total.new:,}"),
            Figure("Follow-up", f"{total.follow_up:,}"),
            Figure("New share", rate(total.new, total.seen)),
        ],
        desc=f"Patients seen: {total.new} new, {total.follow_up} follow-up",
        note="New: seen for the first time at the clinic (no earlier visit or consultation).",
    )


def attendance_section(query: ReportQuery, figures: Figures) -> ReportSection:
    total = figures.total
    return daily_section(
        query,
        slug="patients-attendance",
        title="No-shows and cancellations",
        columns=[
            Column("booked", "Booked", charted=False),
            Column("walk_ins", "Walk-ins", charted=False),
            Column("no_shows", "No-shows"),
            Column("cancelled", "Cancelled"),
        ],
        per_day=_per_day(figures, "booked", "walk_ins", "no_show", "cancelled"),
        figures=[
            Figure("Booked appointments", f"{total.booked:,}"),
            Figure("Walk-ins", f"{total.walk_ins:,}"),
            Figure("No-shows", f"{total.no_show:,} ({rate(total.no_show, total.booked)})"),
            Figure(
                "Cancelled",
                f"{total.cancelled:,} ({rate(total.cancelled, total.booked + total.walk_ins)})",
            ),
        ],
        desc=f"{total.no_show} no-shows and {total.cancelled} cancellations",
        note="No-show rate: of booked appointments; cancellation rate: of all appointments "
        "(walk-ins included).",
    )


def _band_label(lo: int, hi: int | None) -> str:
    return f"{lo}-{hi} min" if hi is not None else f"{lo} min or more"


def waiting_section(query: ReportQuery, figures: Figures) -> ReportSection:
    waits = figures.waits
    bands = waits.band_counts()
    labels = [_band_label(lo, hi) for lo, hi in WAIT_BANDS]
    return ReportSection(
        slug="patients-waiting",
        title="Wait from check-in to consultation",
        figures=[
            Figure("Average wait", minutes(waits.average)),
            Figure("Median wait", minutes(waits.median)),
            Figure("Consultations timed", f"{waits.count:,} of {figures.total.seen:,} seen"),
        ],
        chart=BarChart(
            title="Waiting times",
            desc=f"How long patients waited after check-in, {query.period}.",
            labels=labels,
            series=[Series("Patients", [float(b) for b in bands])],
        )
        if waits.count
        else None,
        headers=["Wait", "Patients"],
        rows=[[label, n] for label, n in zip(labels, bands, strict=True)] if waits.count else [],
        csv_headers=["wait", "patients"],
        csv_rows=[[label, n] for label, n in zip(labels, bands, strict=True)],
        note="The wait runs from check-in to the doctor calling the patient in on the queue. "
        "Patients seen without being called in on the queue have no start time and are left "
        "out.",
    )


def patient_reports(*, query: ReportQuery) -> list[ReportSection]:
    """The patients app's sections: three queries whatever the period."""
    figures = gather(query)
    return [
        seen_section(query, figures),
        doctors_section(query, figures),
        new_section(query, figures),
        attendance_section(query, figures),
        waiting_section(query, figures),
    ]


REPORTS = ReportSource(
    name="patients.visits",
    order=10,
    load=patient_reports,
    slugs=(
        "patients-seen",
        "patients-doctors",
        "patients-new-follow-up",
        "patients-attendance",
        "patients-waiting",
    ),
)
