"""What the scheduling pages share: clinic-relative URLs, times as the clinic reads them,
the appointment lookup, and the rows the pages show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import wraps
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from clinics.formatting import format_date
from clinics.models import Membership
from clinics.roles import Perm
from patients.models import Appointment, AppointmentKind, AppointmentStatus, DoctorLeave
from patients.selectors.appointments import DayAppointment, local_day_bounds
from patients.selectors.schedule_views import appointment_for_page, schedule_doctor
from patients.slots import Slot


def clock(value: datetime | time, tz=None) -> str:
    """10:15 am, 5:30 pm: as the rest of Vaidya shows times (in the clinic's zone)."""
    if isinstance(value, datetime) and tz is not None:
        value = value.astimezone(tz)
    hour = value.hour % 12 or 12
    return f"{hour}:{value.minute:02d} {'am' if value.hour < 12 else 'pm'}"


def minutes_label(minutes: int) -> str:
    return clock(time(minutes // 60, minutes % 60))


def when_text(value: datetime, tz) -> str:
    """10:15 am on 12 Jan 2027"""
    return f"{clock(value, tz)} on {format_date(value, tz)}"


def waited_text(since: datetime | None, now: datetime) -> str:
    if since is None:
        return ""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 1:
        return "under a minute"
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} hr {minutes} min" if minutes else f"{hours} hr"
    return f"{minutes} min"


def shown_reason(reason: str) -> str:
    """The reason for the visit as the pages show it: "Walk-in" typed as the reason says no
    more than the walk-in label beside it, so it is not shown twice."""
    reason = (reason or "").strip()
    return "" if "".join(reason.casefold().replace("-", " ").split()) == "walkin" else reason


def doctor_name(doctor: Membership) -> str:
    return f"Dr {doctor.user.full_name}"


def render_page(request: HttpRequest, template: str, context: dict, status: int = 200):
    with timezone.override(request.clinic.tzinfo):
        return render(request, template, context, status=status)


def clinic_url(request: HttpRequest, name: str, *args, query: dict | None = None) -> str:
    url = reverse(name, args=[request.clinic.slug, *args])
    query = {k: v for k, v in (query or {}).items() if v not in (None, "")}
    return f"{url}?{urlencode(query)}" if query else url


def clinic_today(request: HttpRequest) -> date:
    return timezone.now().astimezone(request.clinic.tzinfo).date()


def local_day(request: HttpRequest, value: datetime) -> date:
    return value.astimezone(request.clinic.tzinfo).date()


def day_url(request: HttpRequest, day: date) -> str:
    return clinic_url(request, "schedule-day", query={"date": day.isoformat()})


def safe_next_url(request: HttpRequest, fallback: str) -> str:
    """Where to go back to after an action: the page it was done from, if it is ours."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if (
        candidate
        and candidate.startswith(f"/c/{request.clinic.slug}/")
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return fallback


def can_manage_hours(request: HttpRequest, doctor: Membership) -> bool:
    return request.membership.has_perm(Perm.SETTINGS_EDIT) or (
        request.membership.pk == doctor.pk and request.membership.is_active
    )


def doctor_or_404(membership_id: int) -> Membership:
    try:
        return schedule_doctor(membership_id)
    except Membership.DoesNotExist:
        raise Http404("No such doctor") from None


def for_appointment(*methods: str):
    """Give the view the appointment named by `appointment_id`, then allow only `methods`.

    The lookup comes first, so another clinic's appointment answers 404 to every method.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, appointment_id: int, **kwargs) -> HttpResponse:
            try:
                appointment = appointment_for_page(appointment_id)
            except Appointment.DoesNotExist:
                raise Http404("No such appointment") from None
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            return view(request, appointment, **kwargs)

        return wrapper

    return decorator


# --- what the pages show ------------------------------------------------------------------


@dataclass
class SlotLink:
    time: str
    value: str  # the slot's start, as the booking form takes it
    book_url: str = ""
    label: str = ""  # for screen readers: "Book 10:15 am with Dr Asha Rao"


@dataclass
class AppointmentRow:
    """An appointment as the pages show it, with the actions that make sense now."""

    appointment: Appointment | DayAppointment
    time: str
    is_walk_in: bool
    can_check_in: bool
    can_reschedule: bool
    can_cancel: bool
    can_no_show: bool
    can_start: bool
    can_complete: bool
    can_reopen: bool = False
    can_slip: bool = False  # has a token, still in the queue: its slip can be printed
    token: str = ""  # the token number as text, "" without one
    since: str = ""  # the queue: since when waiting, or with the doctor
    waited: str = ""
    reason: str = ""  # the reason for the visit, as shown (shown_reason)
    # Rendered once from their templates (patients.views.schedule.cards): the day view's
    # card, and the queue's action buttons.
    card: str = ""
    buttons: str = ""

    @property
    def is_closed(self) -> bool:
        return self.appointment.status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)

    @property
    def has_more(self) -> bool:
        return self.can_reschedule or self.can_cancel or self.can_no_show


def appointment_row(
    appointment: Appointment | DayAppointment, *, tz, today: date, now: datetime
) -> AppointmentRow:
    status = appointment.status
    booked = status == AppointmentStatus.BOOKED
    return AppointmentRow(
        appointment=appointment,
        time=clock(appointment.starts_at, tz),
        is_walk_in=appointment.kind == AppointmentKind.WALK_IN,
        can_check_in=booked and appointment.starts_at.astimezone(tz).date() == today,
        can_reschedule=booked and appointment.kind == AppointmentKind.BOOKED,
        can_cancel=status in (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN),
        can_no_show=booked and appointment.starts_at <= now,
        can_start=status == AppointmentStatus.CHECKED_IN,
        can_complete=status == AppointmentStatus.IN_CONSULTATION,
        can_reopen=status == AppointmentStatus.COMPLETED,
        can_slip=bool(appointment.token_number)
        and status in (AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_CONSULTATION),
        token=str(appointment.token_number) if appointment.token_number else "",
        reason=shown_reason(appointment.reason),
    )


def slot_links(request: HttpRequest, doctor: Membership, slots: list[Slot], tz) -> list[SlotLink]:
    """Links to book each of the doctor's free slots (the booking form, prefilled)."""
    # Reversed once: a free day has a hundred slots or more.
    book_path = reverse("appointment-book", args=[request.clinic.slug])
    name = doctor_name(doctor)
    links = []
    for slot in slots:
        value = slot.start.isoformat()
        time_label = clock(slot.start, tz)
        query = {
            "doctor": doctor.pk,
            "date": slot.start.astimezone(tz).date().isoformat(),
            "starts_at": value,
        }
        links.append(
            SlotLink(
                time=time_label,
                value=value,
                book_url=f"{book_path}?{urlencode(query)}",
                label=f"Book {time_label} with {name}",
            )
        )
    return links


def leave_label(leave: DoctorLeave, tz, day: date | None = None) -> str:
    """'All day', '2:00 pm to 4:00 pm', or '12 Jan 2027 to 14 Jan 2027' for longer leave."""
    start, end = leave.starts_at.astimezone(tz), leave.ends_at.astimezone(tz)
    whole_days = start.time() == time.min and end.time() == time.min
    if day is not None:
        day_start, day_end = local_day_bounds(day, tz)
        if leave.starts_at <= day_start and leave.ends_at >= day_end:
            return "all day"
        return f"{clock(max(start, day_start))} to {clock(min(end, day_end))}".replace(
            "12:00 am", "midnight"
        )
    if whole_days:
        last = (end - timedelta(days=1)).date()
        if last == start.date():
            return f"{format_date(start)}, all day"
        return f"{format_date(start)} to {format_date(last)}"
    if start.date() == end.date():
        return f"{format_date(start)}, {clock(start)} to {clock(end)}"
    return f"{format_date(start)}, {clock(start)} to {format_date(end)}, {clock(end)}"
