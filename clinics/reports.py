"""The clinic's reports: a period, the sections the apps above add, and their CSV files.

`clinics` draws the page and knows nothing of appointments or messages: the sections come from
`clinics.registry.report_sources` (patients: patients seen, new and follow-up, no-shows and
cancellations, waits; messaging: WhatsApp reminders; billing later). Each source gets one
`ReportQuery` and aggregates in the database, so the page makes the same number of queries for
a day as for two years.
"""

from __future__ import annotations

import csv
import io
from calendar import monthrange
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, models, transaction
from django.db.models import FloatField, Func
from django.db.models.functions import TruncDate

from clinics.charts import BarChart, Series
from clinics.formatting import format_date
from clinics.models import Clinic, Membership
from clinics.registry import report_sources
from clinics.roles import Perm, Role

# The longest period a report covers: two years of days (one of them a leap year).
MAX_SPAN_DAYS = 731
# Up to this many days a chart has a bar a day; a longer period has a bar a month.
DAILY_CHART_DAYS = 62
DOCTOR_ROLES = (Role.OWNER, Role.DOCTOR)
# A spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class SecondsBetween(Func):
    """Seconds from the second datetime to the first, as a float, computed by the database
    (PostgreSQL and SQLite): `SecondsBetween("started_at", "checked_in_at")`."""

    arity = 2
    output_field = FloatField()
    template = "CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS double precision)"
    arg_joiner = " - "

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            # julianday() is a float of days: about 50 microseconds off, so round to the
            # millisecond (12 minutes must not become 11.99999).
            template="ROUND((julianday(%(expressions)s)) * 86400.0, 3)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


class LocalDate(TruncDate):
    """`TruncDate` in the clinic's zone. On SQLite, over a period without a clock change, the
    date is SQLite's own `date(column, '+330 minutes')`: the same days, without calling Python
    for every row (Django's zone conversion), ten times faster over a year of rows."""

    def __init__(self, expression: str, *, tzinfo: ZoneInfo, offset: timedelta | None) -> None:
        super().__init__(expression, tzinfo=tzinfo)
        self.offset = offset

    def as_sqlite(self, compiler, connection, **extra_context):
        if self.offset is None:
            return self.as_sql(compiler, connection, **extra_context)
        sql, params = compiler.compile(self.lhs)
        minutes = int(self.offset.total_seconds() // 60)
        return f"date({sql}, %s)", (*params, f"{minutes:+d} minutes")


class Preset(models.TextChoices):
    TODAY = "today", "Today"
    LAST_7_DAYS = "last7", "Last 7 days"
    THIS_MONTH = "this_month", "This month"
    LAST_MONTH = "last_month", "Last month"
    CUSTOM = "custom", "Custom dates"


@dataclass(frozen=True)
class ReportPeriod:
    """Clinic-local days from `start` to `end`, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    def __str__(self) -> str:
        if self.start == self.end:
            return format_date(self.start)
        return f"{format_date(self.start)} to {format_date(self.end)}"


def preset_period(preset: str, today: date) -> ReportPeriod:
    """The period a preset names, seen from the clinic's `today`."""
    if preset == Preset.TODAY:
        return ReportPeriod(today, today)
    if preset == Preset.LAST_7_DAYS:
        return ReportPeriod(today - timedelta(days=6), today)
    first_of_month = today.replace(day=1)
    if preset == Preset.LAST_MONTH:
        end = first_of_month - timedelta(days=1)
        return ReportPeriod(end.replace(day=1), end)
    return ReportPeriod(first_of_month, today)


@dataclass(frozen=True)
class ReportQuery:
    """What every source is asked: the clinic, the period, which doctor (None: everyone) and
    whose per-doctor figures the member may see."""

    clinic: Clinic
    period: ReportPeriod
    doctor_id: int | None = None
    # None: every doctor's own figures may be shown; else only those of these memberships.
    visible_doctor_ids: frozenset[int] | None = None
    doctor_names: dict[int, str] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return self.clinic.tzinfo

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.period.start, time.min, tzinfo=self.tz)

    @property
    def end_at(self) -> datetime:
        """The local midnight after the last day (exclusive)."""
        return datetime.combine(self.period.end + timedelta(days=1), time.min, tzinfo=self.tz)

    def local_day(self, field_name: str) -> LocalDate:
        """The clinic-local date of a datetime column, for GROUP BY."""
        return LocalDate(field_name, tzinfo=self.tz, offset=self.fixed_offset)

    @cached_property
    def fixed_offset(self) -> timedelta | None:
        """The zone's UTC offset if it keeps one over the whole period (no clock change)."""
        offsets = {
            self.tz.utcoffset(datetime.combine(day, time.min))
            for day in [*self.period.each_day(), self.period.end + timedelta(days=1)]
        }
        return offsets.pop() if len(offsets) == 1 else None

    def shows_doctor(self, doctor_id: int) -> bool:
        return self.visible_doctor_ids is None or doctor_id in self.visible_doctor_ids

    def doctor_name(self, doctor_id: int) -> str:
        return self.doctor_names.get(doctor_id, f"Doctor #{doctor_id}")

    @property
    def narrowed_to(self) -> str:
        """'' for the whole clinic, else the chosen doctor's name."""
        return self.doctor_name(self.doctor_id) if self.doctor_id else ""


@dataclass(frozen=True)
class Figure:
    label: str
    value: str


@dataclass
class ReportSection:
    """One section of the page: headline figures, a chart, a table (the chart's numbers, for
    screen readers and for reading exact values) and the CSV file's rows."""

    slug: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    chart: BarChart | None = None
    headers: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""
    # The CSV's own rows when they differ from the table's (a day a row where the table has a
    # month a row); None: the table's.
    csv_headers: list[str] | None = None
    csv_rows: list[list[Any]] | None = None


def rate(part: int, whole: int) -> str:
    """'12.5 %', or '-' when there is nothing to divide by."""
    return f"{100 * part / whole:.1f} %" if whole else "-"


def minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.0f} min"


def chart_buckets(
    period: ReportPeriod, per_day: dict[date, Sequence[float]], width: int
) -> tuple[list[str], list[list[float]]]:
    """Labels and `width` value columns for a chart: a bar a day up to DAILY_CHART_DAYS days,
    else a bar a month (the days summed)."""
    if period.days <= DAILY_CHART_DAYS:
        days = period.each_day()
        columns = [[float(per_day.get(d, [0] * width)[k]) for d in days] for k in range(width)]
        return [f"{d.day} {d:%b}" for d in days], columns
    months: dict[tuple[int, int], list[float]] = {}
    day = period.start
    while day <= period.end:
        months[(day.year, day.month)] = [0.0] * width
        day = day.replace(day=monthrange(day.year, day.month)[1]) + timedelta(days=1)
    for d, values in per_day.items():
        bucket = months.get((d.year, d.month))
        if bucket is not None:
            for k in range(width):
                bucket[k] += values[k]
    labels = [f"{date(y, m, 1):%b %Y}" for y, m in months]
    return labels, [[v[k] for v in months.values()] for k in range(width)]


@dataclass(frozen=True)
class Column:
    """A count per day in a `daily_section`: its CSV header, its label, whether it is charted."""

    key: str
    label: str
    charted: bool = True


def daily_section(
    query: ReportQuery,
    *,
    slug: str,
    title: str,
    columns: Sequence[Column],
    per_day: dict[date, Sequence[int]],
    figures: list[Figure],
    desc: str,
    note: str = "",
) -> ReportSection:
    """A section of counts per day: charted and tabled a bar a day (a month a bar past
    DAILY_CHART_DAYS days), exported a row a day for every day of the period."""
    labels, values = chart_buckets(query.period, per_day, len(columns))
    zeros = [0] * len(columns)
    return ReportSection(
        slug=slug,
        title=title,
        figures=figures,
        chart=BarChart(
            title=title,
            desc=f"{desc} ({query.period}).",
            labels=labels,
            series=[Series(c.label, values[i]) for i, c in enumerate(columns) if c.charted],
        ),
        headers=["Day" if query.period.days <= DAILY_CHART_DAYS else "Month"]
        + [c.label for c in columns],
        rows=[[label, *(int(v[i]) for v in values)] for i, label in enumerate(labels)],
        csv_headers=["date", *(c.key for c in columns)],
        csv_rows=[[d, *per_day.get(d, zeros)] for d in query.period.each_day()],
        note=note,
    )


def csv_cell(value: Any) -> Any:
    """A cell as a spreadsheet should see it: dates in ISO form, numbers as they are, text with
    a leading apostrophe when a spreadsheet would run it as a formula."""
    if isinstance(value, date):
        return value.isoformat()
    if value is None:
        return ""
    if isinstance(value, int | float):
        return value
    text = str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def section_csv(section: ReportSection) -> str:
    headers = section.csv_headers if section.csv_headers is not None else section.headers
    rows = section.csv_rows if section.csv_rows is not None else section.rows
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in headers])
    writer.writerows([csv_cell(c) for c in row] for row in rows)
    return buffer.getvalue()


def report_doctors() -> list[Membership]:
    """The clinic's doctors (owners who see patients included), those who left too: their
    past work is in the figures. One query; call inside the clinic's scope."""
    return list(
        Membership.objects.filter(role__in=DOCTOR_ROLES)
        .select_related("user")
        .order_by("-is_active", "user__full_name", "pk")
    )


def doctor_label(membership: Membership) -> str:
    name = membership.user.full_name or membership.user.email
    return name if membership.is_active else f"{name} (left)"


def report_query(
    *,
    clinic: Clinic,
    period: ReportPeriod,
    membership: Membership,
    doctors: Iterable[Membership],
    doctor_id: int | None,
) -> ReportQuery:
    """The query a member may ask: every doctor's own figures for those who may compare
    doctors, else only their own (the clinic's totals stay visible to both)."""
    visible = None if membership.has_perm(Perm.REPORTS_ALL_DOCTORS) else frozenset({membership.pk})
    return ReportQuery(
        clinic=clinic,
        period=period,
        doctor_id=doctor_id,
        visible_doctor_ids=visible,
        doctor_names={d.pk: doctor_label(d) for d in doctors},
    )


def report_sections(
    query: ReportQuery, membership: Membership, *, only: str = ""
) -> list[ReportSection]:
    """Every section the member's role may see, in page order (with `only`, just the source
    that adds that section). Call inside the clinic's scope; each source makes a fixed
    number of queries."""
    sections: list[ReportSection] = []
    with without_jit():
        for source in report_sources:
            if source.perm and not membership.has_perm(source.perm):
                continue
            if only and only not in source.slugs:
                continue
            sections.extend(source.load(query=query))
    return sections


@contextmanager
def without_jit() -> Iterator[None]:
    """Run the reports' queries in a transaction with PostgreSQL's JIT compilation off.

    A year's report is a few GROUP BY queries over tens of thousands of rows whose estimated
    cost crosses `jit_above_cost`: compiling them took 1.6 s of a 2 s query (measured with
    bench/reports_bench.py) for 0.4 s of work. `SET LOCAL` ends with the transaction.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        yield
