"""The day (the whole clinic, or one doctor), the week and the live queue: read-only pages."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinics.dates import out_of_range_message
from clinics.decorators import require_perm
from clinics.formatting import format_date
from clinics.models import Membership
from clinics.roles import Perm
from patients.forms_schedule import parse_day
from patients.models import AppointmentStatus
from patients.selectors.appointments import former_doctors, queue
from patients.selectors.queue_display import doctor_rooms
from patients.selectors.schedule_views import clinic_day, doctor_choices, doctor_week
from patients.views.schedule.cards import Cards
from patients.views.schedule.common import (
    appointment_row,
    can_manage_hours,
    clinic_today,
    clinic_url,
    clock,
    doctor_name,
    doctor_or_404,
    render_page,
    waited_text,
)
from patients.views.schedule.layout import clinic_grid, doctor_column

QUEUE_REFRESH_SECONDS = 15


def _requested_day(request: HttpRequest, name: str, default: date) -> date:
    """The day asked for in `?<name>=`, or `default` with a message when it cannot be shown."""
    value = request.GET.get(name, "")
    day = parse_day(value, None)
    if day is not None:
        return day
    if value.strip():
        messages.warning(
            request,
            f"That date cannot be shown. {out_of_range_message()} "
            f"Showing {format_date(default)} instead.",
        )
    return default


def _day_context(request: HttpRequest, day: date, doctor: Membership | None) -> dict:
    tz = request.clinic.tzinfo
    now = timezone.now()
    today = now.astimezone(tz).date()
    can_edit = request.membership.has_perm(Perm.APPOINTMENTS_EDIT)
    cards = Cards(request, can_edit=can_edit, next_url=request.get_full_path())
    days = clinic_day(day=day, tz=tz, now=now, doctor=doctor)
    columns = [
        doctor_column(request, d, cards=cards, day=day, tz=tz, today=today, now=now) for d in days
    ]
    resting = []
    if doctor is None:
        # Doctors who do not work that weekday and have nobody booked get no empty column.
        shown = [i for i, c in enumerate(columns) if c.works or c.rows]
        resting = [c for i, c in enumerate(columns) if i not in shown]
        columns, days = [columns[i] for i in shown], [days[i] for i in shown]
    grid = clinic_grid(columns, days, day=day, tz=tz) if doctor is None and columns else []
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
        "doctor": doctor,
        "can_edit": can_edit,
        "next_url": request.get_full_path(),
        "weekday_name": f"{day:%A}",
    }


# --- the day, the doctor's day and the week ------------------------------------------------


@require_GET
@require_perm(Perm.APPOINTMENTS_VIEW)
def schedule_day(request: HttpRequest) -> HttpResponse:
    day = _requested_day(request, "date", clinic_today(request))
    return render_page(request, "patients/schedule/day.html", _day_context(request, day, None))


@require_perm(Perm.APPOINTMENTS_VIEW)
def schedule_doctor_day(request: HttpRequest, membership_id: int) -> HttpResponse:
    doctor = doctor_or_404(membership_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    day = _requested_day(request, "date", clinic_today(request))
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
    start = _requested_day(request, "start", today)
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


def _board(doctor: Membership) -> dict:
    return {"doctor": doctor, "name": doctor_name(doctor), "with_doctor": [], "waiting": []}


def _queue_context(request: HttpRequest) -> dict:
    tz = request.clinic.tzinfo
    now = timezone.now()
    today = now.astimezone(tz).date()
    boards: dict[int, dict] = {d.pk: _board(d) for d in doctor_choices()}
    appointments = queue(day=today, tz=tz)
    former = former_doctors(appointments, boards.keys())
    for appointment in appointments:
        board = boards.get(appointment.doctor_id)
        if board is None:
            doctor = former[appointment.doctor_id]
            board = boards[doctor.pk] = _board(doctor)
        row = appointment_row(appointment, tz=tz, today=today, now=now)
        if appointment.status == AppointmentStatus.IN_CONSULTATION:
            row.since = clock(appointment.started_at, tz) if appointment.started_at else ""
            row.waited = waited_text(appointment.started_at, now)
            board["with_doctor"].append(row)
        else:
            row.since = clock(appointment.checked_in_at, tz) if appointment.checked_in_at else ""
            row.waited = waited_text(appointment.checked_in_at, now)
            board["waiting"].append(row)
    rooms = doctor_rooms(boards)
    for board in boards.values():
        board["room"] = rooms.get(board["doctor"].pk, "")
    queue_url = clinic_url(request, "schedule-queue")
    can_edit = request.membership.has_perm(Perm.APPOINTMENTS_EDIT)
    if can_edit:
        cards = Cards(request, can_edit=can_edit, next_url=queue_url)
        for board in boards.values():
            for row in board["with_doctor"]:
                row.buttons = cards.actions_of(row)
    return {
        "boards": list(boards.values()),
        "waiting_total": sum(len(b["waiting"]) for b in boards.values()),
        "today": today,
        "now_label": clock(now, tz),
        "can_edit": can_edit,
        "can_open_visits": request.membership.has_perm(Perm.CLINICAL_DRAFT),
        "can_bill": request.membership.has_perm(Perm.BILLING_EDIT),
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
