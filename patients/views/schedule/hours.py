"""A doctor's weekly hours and leave: for settings.edit, or the doctor themself."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.utils import timezone

from clinics.decorators import require_perm
from clinics.errors import Conflict, DomainError, ValidationFailed
from clinics.models import Membership
from clinics.roles import Perm
from clinics.web import add_domain_error
from patients.forms_schedule import LeaveForm, RoomForm, SessionRowFormSet
from patients.models import DoctorLeave
from patients.models.scheduling import Weekday
from patients.selectors.queue_display import doctor_rooms
from patients.selectors.schedule_views import (
    booked_in_period,
    doctor_leave,
    upcoming_leave,
    weekly_hours,
)
from patients.services import appointments as services
from patients.services.queue import doctor_room_set
from patients.views.schedule.common import (
    appointment_row,
    clinic_today,
    clinic_url,
    doctor_name,
    doctor_or_404,
    leave_label,
    render_page,
)

# --- doctors' hours and leave --------------------------------------------------------------


def _hours_formsets(doctor: Membership, data=None) -> list[dict]:
    by_day: dict[int, list[dict]] = {day: [] for day in Weekday.values}
    if data is None:
        for h in weekly_hours(doctor):
            by_day[h.weekday].append(
                {"start": h.start_time, "end": h.end_time, "slot_minutes": h.slot_minutes}
            )
    days = []
    for weekday, label in Weekday.choices:
        formset = SessionRowFormSet(
            data, prefix=f"d{weekday}", initial=by_day[weekday] if data is None else None
        )
        if data is None and not by_day[weekday]:
            formset.extra = 2  # a day off so far: room for a morning and an evening session
        for form in formset.forms:
            form.fields["slot_minutes"].widget.attrs.setdefault("placeholder", "15")
        days.append({"weekday": weekday, "label": label, "formset": formset})
    return days


def _hours_context(
    request: HttpRequest,
    doctor: Membership,
    *,
    days=None,
    leave_form=None,
    hours_errors=None,
    clashes=None,
    room_form=None,
) -> dict:
    tz = request.clinic.tzinfo
    leaves = [
        {"leave": x, "label": leave_label(x, tz)}
        for x in upcoming_leave(doctor=doctor, now=timezone.now())
    ]
    return {
        "doctor": doctor,
        "doctor_name": doctor_name(doctor),
        "is_self": doctor.pk == request.membership.pk,
        "days": days if days is not None else _hours_formsets(doctor),
        "hours_errors": hours_errors or [],
        "leave_form": leave_form or LeaveForm(initial={"first_day": clinic_today(request)}),
        "leaves": leaves,
        "room_form": room_form
        or RoomForm(initial={"room": doctor_rooms([doctor.pk]).get(doctor.pk, "")}),
        "clashes": [
            appointment_row(a, tz=tz, today=clinic_today(request), now=timezone.now())
            for a in clashes or []
        ],
    }


@require_perm(Perm.SETTINGS_EDIT, or_own="membership_id")
def doctor_hours(request: HttpRequest, membership_id: int) -> HttpResponse:
    doctor = doctor_or_404(membership_id)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    hours_errors: list[str] = []
    if request.method == "POST":
        days = _hours_formsets(doctor, request.POST)
        if all(d["formset"].is_valid() for d in days):
            sessions = []
            for d in days:
                for form in d["formset"].forms:
                    session = form.session(d["weekday"])
                    if session is not None:
                        sessions.append(session)
                        form.session_number = len(sessions)
            try:
                services.working_hours_set(doctor=doctor, actor=request.user, sessions=sessions)
            except ValidationFailed as exc:
                hours_errors = [m for messages_ in exc.errors.values() for m in messages_]
            except DomainError as exc:
                hours_errors = [exc.message]
            else:
                count = len(sessions)
                messages.success(
                    request,
                    f"Saved {doctor_name(doctor)}'s hours: "
                    f"{count} session{'' if count == 1 else 's'} a week.",
                )
                return redirect(clinic_url(request, "doctor-hours", doctor.pk))
        else:
            hours_errors = ["Please correct the times marked in red below."]
        context = _hours_context(request, doctor, days=days, hours_errors=hours_errors)
    else:
        context = _hours_context(request, doctor)
    return render_page(request, "patients/schedule/hours.html", context)


@require_perm(Perm.SETTINGS_EDIT, or_own="membership_id")
def doctor_leave_add(request: HttpRequest, membership_id: int) -> HttpResponse:
    doctor = doctor_or_404(membership_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    tz = request.clinic.tzinfo
    form = LeaveForm(request.POST)
    clashes = []
    if form.is_valid():
        starts_at, ends_at = form.period(tz)
        try:
            leave = services.doctor_leave_add(
                doctor=doctor,
                actor=request.user,
                starts_at=starts_at,
                ends_at=ends_at,
                kind=form.cleaned_data["kind"],
                reason=form.cleaned_data["reason"],
            )
        except Conflict as exc:
            add_domain_error(form, exc)
            clashes = list(booked_in_period(doctor=doctor, starts_at=starts_at, ends_at=ends_at))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            what = "on leave" if leave.kind == "leave" else "blocked"
            messages.success(
                request,
                f"{doctor_name(doctor)} is {what}: {leave_label(leave, tz)}. "
                "Those times cannot be booked.",
            )
            return redirect(clinic_url(request, "doctor-hours", doctor.pk))
    context = _hours_context(request, doctor, leave_form=form, clashes=clashes)
    return render_page(request, "patients/schedule/hours.html", context)


@require_perm(Perm.SETTINGS_EDIT, or_own="membership_id")
def doctor_leave_remove(request: HttpRequest, membership_id: int, leave_id: int) -> HttpResponse:
    doctor = doctor_or_404(membership_id)
    try:
        leave = doctor_leave(doctor=doctor, leave_id=leave_id)
    except DoctorLeave.DoesNotExist:
        raise Http404("No such leave") from None
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    label = leave_label(leave, request.clinic.tzinfo)
    try:
        services.doctor_leave_remove(leave=leave, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Removed {doctor_name(doctor)}'s leave ({label}): it can be booked again."
        )
    return redirect(clinic_url(request, "doctor-hours", doctor.pk))


@require_perm(Perm.SETTINGS_EDIT, or_own="membership_id")
def doctor_room(request: HttpRequest, membership_id: int) -> HttpResponse:
    """Where the doctor sees patients: on the waiting-room display and the token slip."""
    doctor = doctor_or_404(membership_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = RoomForm(request.POST)
    if form.is_valid():
        try:
            row = doctor_room_set(doctor=doctor, actor=request.user, room=form.cleaned_data["room"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                f"{doctor_name(doctor)} sees patients in {row.room}."
                if row.room
                else f"{doctor_name(doctor)} has no room set.",
            )
            return redirect(clinic_url(request, "doctor-hours", doctor.pk))
    context = _hours_context(request, doctor, room_form=form)
    return render_page(request, "patients/schedule/hours.html", context, status=400)
