"""The day (the whole clinic, or one doctor), the week and the live queue: read-only pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from math import ceil

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinics.decorators import require_perm
from clinics.formatting import format_date
from clinics.models import Membership
from clinics.roles import Perm
from patients.forms_schedule import parse_day
from patients.models import AppointmentStatus
from patients.selectors.appointments import former_doctors, local_day_bounds, queue
from patients.selectors.schedule_views import DoctorDay, clinic_day, doctor_choices, doctor_week
from patients.slots import Slot
from patients.views.schedule.cards import CardRenderer, agenda_html, grid_rows_html
from patients.views.schedule.common import (
    AppointmentRow,
    SlotLink,
    appointment_row,
    can_manage_hours,
    clinic_today,
    clinic_url,
    clock,
    doctor_name,
    doctor_or_404,
    leave_label,
    minutes_label,
    render_page,
    slot_links,
    waited_text,
)

QUEUE_REFRESH_SECONDS = 15


@dataclass
class AgendaEntry:
    kind: str  # "appointment", "free" or "leave"
    row: AppointmentRow | None = None
    slots: list[SlotLink] = field(default_factory=list)
    text: str = ""


@dataclass
class DoctorColumn:
    doctor: Membership
    name: str
    works: bool
    hours: str
    agenda: list[AgendaEntry]
    free_count: int
    booked_count: int
    can_manage_hours: bool
    rows: dict[int, AppointmentRow] = field(default_factory=dict)
    slot_links: list[tuple[Slot, SlotLink]] = field(default_factory=list)
    agenda_html: str = ""  # the agenda's markup (patients.views.schedule.cards)


def _column(request, doctor_day: DoctorDay, *, day, tz, today, now) -> DoctorColumn:
    doctor = doctor_day.doctor
    rows = {a.pk: appointment_row(a, tz=tz, today=today, now=now) for a in doctor_day.appointments}
    links = list(
        zip(doctor_day.free, slot_links(request, doctor, doctor_day.free, tz), strict=True)
    )
    events: list[tuple[datetime, int, object]] = [
        (a.starts_at, 1, a) for a in doctor_day.appointments
    ]
    events += [(s.start, 2, link) for s, link in links]
    events += [(max(x.starts_at, local_day_bounds(day, tz)[0]), 0, x) for x in doctor_day.leaves]
    events.sort(key=lambda e: (e[0], e[1]))
    agenda: list[AgendaEntry] = []
    for _, kind, item in events:
        if kind == 2:
            if agenda and agenda[-1].kind == "free":
                agenda[-1].slots.append(item)
            else:
                agenda.append(AgendaEntry(kind="free", slots=[item]))
        elif kind == 1:
            agenda.append(AgendaEntry(kind="appointment", row=rows[item.pk]))
        else:
            label = item.get_kind_display()
            text = f"{'On leave' if item.kind == 'leave' else label}: {leave_label(item, tz, day)}"
            if item.reason:
                text += f" ({item.reason})"
            agenda.append(AgendaEntry(kind="leave", text=text))
    hours = ", ".join(f"{clock(s.start)} to {clock(s.end)}" for s in doctor_day.sessions)
    return DoctorColumn(
        doctor=doctor,
        name=doctor_name(doctor),
        works=bool(doctor_day.sessions),
        hours=hours,
        agenda=agenda,
        free_count=len(links),
        booked_count=sum(1 for r in rows.values() if not r.is_closed),
        can_manage_hours=can_manage_hours(request, doctor),
        rows=rows,
        slot_links=links,
    )


@dataclass
class GridCell:
    state: str = "off"  # "on" (in a session), "off", "leave"
    note: str = ""
    rows: list[AppointmentRow] = field(default_factory=list)
    slots: list[SlotLink] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.rows and not self.slots


@dataclass
class GridRow:
    label: str
    cells: list[GridCell]
    gap: bool = False


def _local_minutes(value: datetime, day: date, tz) -> int:
    local = value.astimezone(tz)
    if local.date() < day:
        return 0
    if local.date() > day:
        return 24 * 60
    return local.hour * 60 + local.minute


def _grid(columns: list[DoctorColumn], days: list[DoctorDay], *, day: date, tz) -> list[GridRow]:
    """Time rows (the smallest slot length apart) by doctor columns, quiet stretches folded."""
    starts, ends, steps = [], [], []
    for doctor_day in days:
        for s in doctor_day.sessions:
            starts.append(s.start.hour * 60 + s.start.minute)
            ends.append(s.end.hour * 60 + s.end.minute)
            steps.append(s.slot_minutes)
        for a in doctor_day.appointments:
            minute = _local_minutes(a.starts_at, day, tz)
            starts.append(minute)
            ends.append(max(minute + 1, _local_minutes(a.ends_at, day, tz)))
    if not starts:
        return []
    step = min(steps, default=15)
    first = min(starts) // step * step
    last = min(max(ends), 24 * 60)
    count = max(1, ceil((last - first) / step))
    table = [[GridCell() for _ in columns] for _ in range(count)]

    def index(minute: int) -> int:
        return min(max((minute - first) // step, 0), count - 1)

    for c, (column, doctor_day) in enumerate(zip(columns, days, strict=True)):
        for a in doctor_day.appointments:
            table[index(_local_minutes(a.starts_at, day, tz))][c].rows.append(column.rows[a.pk])
        for slot, link in column.slot_links:
            table[index(_local_minutes(slot.start, day, tz))][c].slots.append(link)
        previous_leave = None
        for r in range(count):
            minute = first + r * step
            cell = table[r][c]
            if any(
                s.start.hour * 60 + s.start.minute <= minute < s.end.hour * 60 + s.end.minute
                for s in doctor_day.sessions
            ):
                cell.state = "on"
            at = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
            leave = next((x for x in doctor_day.leaves if x.starts_at <= at < x.ends_at), None)
            if leave is not None and cell.state == "on":
                cell.state = "leave"
                if leave is not previous_leave:
                    cell.note = "On leave" if leave.kind == "leave" else "Blocked"
            previous_leave = leave

    rows: list[GridRow] = []
    gap_start = None
    for r in range(count + 1):
        quiet = r < count and all(cell.state == "off" and cell.empty for cell in table[r])
        if quiet:
            gap_start = r if gap_start is None else gap_start
            continue
        if gap_start is not None:
            label = (
                f"{minutes_label(first + gap_start * step)} to {minutes_label(first + r * step)}"
                if first + r * step < 24 * 60
                else minutes_label(first + gap_start * step)
            )
            rows.append(GridRow(label=label, cells=[GridCell() for _ in columns], gap=True))
            gap_start = None
        if r < count:
            rows.append(GridRow(label=minutes_label(first + r * step), cells=table[r]))
    # A fold at the very end of the day is just the day ending: no row for it.
    while rows and rows[-1].gap:
        rows.pop()
    return rows


def _day_context(request: HttpRequest, day: date, doctor: Membership | None) -> dict:
    tz = request.clinic.tzinfo
    now = timezone.now()
    today = now.astimezone(tz).date()
    days = clinic_day(day=day, tz=tz, now=now, doctor=doctor)
    columns = [_column(request, d, day=day, tz=tz, today=today, now=now) for d in days]
    resting = []
    if doctor is None:
        # Doctors who do not work that weekday and have nobody booked get no empty column.
        shown = [i for i, c in enumerate(columns) if c.works or c.rows]
        resting = [c for i, c in enumerate(columns) if i not in shown]
        columns, days = [columns[i] for i in shown], [days[i] for i in shown]
    can_edit = request.membership.has_perm(Perm.APPOINTMENTS_EDIT)
    cards = CardRenderer(request, can_edit=can_edit, next_url=request.get_full_path())
    for column in columns:
        for row in column.rows.values():
            row.card = cards.card(row)
        column.agenda_html = agenda_html(column.agenda, can_edit=can_edit)
    grid = _grid(columns, days, day=day, tz=tz) if doctor is None and columns else []
    return {
        "day": day,
        "day_label": f"{day:%A}, {format_date(day)}",
        "is_today": day == today,
        "is_past": day < today,
        "today": today,
        "prev_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "columns": columns,
        "resting": resting,
        "grid": grid,
        "grid_rows": grid_rows_html(grid, can_edit=can_edit, column_count=len(columns)),
        "doctor": doctor,
        "can_edit": can_edit,
        "next_url": request.get_full_path(),
        "weekday_name": f"{day:%A}",
    }


# --- the day, the doctor's day and the week ------------------------------------------------


@require_GET
@require_perm(Perm.APPOINTMENTS_VIEW)
def schedule_day(request: HttpRequest) -> HttpResponse:
    day = parse_day(request.GET.get("date"), clinic_today(request))
    return render_page(request, "patients/schedule/day.html", _day_context(request, day, None))


@require_perm(Perm.APPOINTMENTS_VIEW)
def schedule_doctor_day(request: HttpRequest, membership_id: int) -> HttpResponse:
    doctor = doctor_or_404(membership_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    day = parse_day(request.GET.get("date"), clinic_today(request))
    return render_page(request, "patients/schedule/day.html", _day_context(request, day, doctor))


def _week_doctor(request: HttpRequest, doctors: list[Membership]) -> Membership | None:
    wanted = request.GET.get("doctor", "")
    by_id = {str(d.pk): d for d in doctors}
    if wanted in by_id:
        return by_id[wanted]
    own = by_id.get(str(request.membership.pk))
    return own or (doctors[0] if doctors else None)


@require_GET
@require_perm(Perm.APPOINTMENTS_VIEW)
def schedule_week(request: HttpRequest) -> HttpResponse:
    tz = request.clinic.tzinfo
    now = timezone.now()
    today = now.astimezone(tz).date()
    start = parse_day(request.GET.get("start"), today)
    doctors = list(doctor_choices())
    doctor = _week_doctor(request, doctors)
    week = []
    if doctor is not None:
        for entry in doctor_week(doctor=doctor, start_day=start, tz=tz, now=now):
            week.append(
                {
                    "day": entry.day,
                    "label": f"{entry.day:%a} {format_date(entry.day)}",
                    "is_today": entry.day == today,
                    "booked": entry.booked,
                    "free": entry.free,
                    "works": entry.works,
                    "on_leave": entry.on_leave,
                    "rows": [
                        appointment_row(a, tz=tz, today=today, now=now) for a in entry.appointments
                    ],
                    "day_url": clinic_url(
                        request,
                        "schedule-doctor-day",
                        doctor.pk,
                        query={"date": entry.day.isoformat()},
                    ),
                }
            )

    def week_url(day: date) -> str:
        return clinic_url(
            request,
            "schedule-week",
            query={"start": day.isoformat(), "doctor": doctor.pk if doctor else ""},
        )

    context = {
        "doctors": doctors,
        "doctor": doctor,
        "start": start,
        "end": start + timedelta(days=6),
        "week": week,
        "prev_url": week_url(start - timedelta(days=7)),
        "next_url": week_url(start + timedelta(days=7)),
        "this_week_url": week_url(today),
        "can_edit": request.membership.has_perm(Perm.APPOINTMENTS_EDIT),
        "can_manage_hours": doctor is not None and can_manage_hours(request, doctor),
    }
    return render_page(request, "patients/schedule/week.html", context)


# --- the live queue ------------------------------------------------------------------------


def _queue_context(request: HttpRequest) -> dict:
    tz = request.clinic.tzinfo
    now = timezone.now()
    today = now.astimezone(tz).date()
    boards: dict[int, dict] = {
        d.pk: {"doctor": d, "name": doctor_name(d), "with_doctor": [], "waiting": []}
        for d in doctor_choices()
    }
    appointments = queue(day=today, tz=tz)
    former = former_doctors(appointments, boards.keys())
    for appointment in appointments:
        board = boards.get(appointment.doctor_id)
        if board is None:
            doctor = former[appointment.doctor_id]
            board = boards[doctor.pk] = {
                "doctor": doctor,
                "name": doctor_name(doctor),
                "with_doctor": [],
                "waiting": [],
            }
        row = appointment_row(appointment, tz=tz, today=today, now=now)
        if appointment.status == AppointmentStatus.IN_CONSULTATION:
            row.since = clock(appointment.started_at, tz) if appointment.started_at else ""
            row.waited = waited_text(appointment.started_at, now)
            board["with_doctor"].append(row)
        else:
            row.since = clock(appointment.checked_in_at, tz) if appointment.checked_in_at else ""
            row.waited = waited_text(appointment.checked_in_at, now)
            board["waiting"].append(row)
    queue_url = clinic_url(request, "schedule-queue")
    return {
        "boards": list(boards.values()),
        "waiting_total": sum(len(b["waiting"]) for b in boards.values()),
        "today": today,
        "now_label": clock(now, tz),
        "can_edit": request.membership.has_perm(Perm.APPOINTMENTS_EDIT),
        "next_url": queue_url,
        "refresh_seconds": QUEUE_REFRESH_SECONDS,
    }


@require_GET
@require_perm(Perm.APPOINTMENTS_VIEW)
def schedule_queue(request: HttpRequest) -> HttpResponse:
    return render_page(request, "patients/schedule/queue.html", _queue_context(request))


@require_GET
@require_perm(Perm.APPOINTMENTS_VIEW)
def schedule_queue_partial(request: HttpRequest) -> HttpResponse:
    response = render_page(
        request, "patients/schedule/partials/_queue.html", _queue_context(request)
    )
    response["Cache-Control"] = "no-store"
    return response
