"""Calling patients in: one click from a queue row opens the visit, "Call next" per doctor,
reopening a finished consultation, the waiting-room display and the printable token slip."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.formatting import format_date
from clinics.roles import Perm
from patients.models import Appointment
from patients.selectors.queue_display import doctor_rooms, waiting_room
from patients.services import queue as services
from patients.views.schedule.common import (
    clinic_url,
    clock,
    doctor_name,
    doctor_or_404,
    for_appointment,
    render_page,
    safe_next_url,
)
from patients.views.visits.page import visit_url

DISPLAY_REFRESH_SECONDS = 5


def _queue_url(request: HttpRequest) -> str:
    return safe_next_url(request, clinic_url(request, "schedule-queue"))


@require_perm(Perm.CLINICAL_DRAFT)
@for_appointment("POST")
def appointment_call_in(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    """Call a waiting patient in and go straight to their visit (one click from the queue)."""
    try:
        called = services.appointment_call_in(
            appointment=appointment, actor=request.user, actor_membership=request.membership
        )
    except DomainError as exc:
        messages.error(request, f"{appointment.patient.full_name}: {exc.message}")
        return redirect(_queue_url(request))
    return redirect(visit_url(request, called.visit.pk))


@require_perm(Perm.APPOINTMENTS_EDIT)
@require_POST
def call_next(request: HttpRequest, membership_id: int) -> HttpResponse:
    """Call the doctor's next token. Whoever may draft visits lands in its visit; the front
    desk goes back to the queue with the token called."""
    doctor = doctor_or_404(membership_id)
    expected = request.POST.get("expected", "")
    opens_visit = request.membership.has_perm(Perm.CLINICAL_DRAFT)
    try:
        called = services.queue_call_next(
            doctor=doctor,
            actor=request.user,
            actor_membership=request.membership,
            open_visit=opens_visit,
            expected_id=int(expected) if expected.isdigit() else None,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_queue_url(request))
    a = called.appointment
    if called.visit is not None:
        return redirect(visit_url(request, called.visit.pk))
    messages.success(
        request,
        f"Token {a.token_number}: {a.patient.full_name} is called in to {doctor_name(a.doctor)}.",
    )
    return redirect(_queue_url(request))


@require_perm(Perm.APPOINTMENTS_EDIT)
@for_appointment("POST")
def appointment_reopen(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    try:
        services.appointment_reopen(appointment=appointment, actor=request.user)
    except DomainError as exc:
        messages.error(request, f"{appointment.patient.full_name}: {exc.message}")
    else:
        messages.success(
            request,
            f"Reopened: {appointment.patient.full_name} is with "
            f"{doctor_name(appointment.doctor)} again.",
        )
    return redirect(_queue_url(request))


# --- the waiting room ----------------------------------------------------------------------


def _display_context(request: HttpRequest) -> dict:
    tz = request.clinic.tzinfo
    now = timezone.now()
    return {
        "boards": waiting_room(day=now.astimezone(tz).date(), tz=tz),
        "now_label": clock(now, tz),
        "refresh_seconds": DISPLAY_REFRESH_SECONDS,
    }


@require_GET
@require_perm(Perm.APPOINTMENTS_VIEW)
def waiting_display(request: HttpRequest) -> HttpResponse:
    """The waiting room's screen: tokens being called and the next ones, per doctor and room.
    No patient's name, number or phone."""
    return render_page(request, "patients/schedule/display.html", _display_context(request))


@require_GET
@require_perm(Perm.APPOINTMENTS_VIEW)
def waiting_display_partial(request: HttpRequest) -> HttpResponse:
    response = render_page(
        request, "patients/schedule/partials/_display.html", _display_context(request)
    )
    response["Cache-Control"] = "no-store"
    return response


@require_perm(Perm.APPOINTMENTS_VIEW)
@for_appointment("GET")
def token_slip(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    """A token slip to print at check-in (80 mm receipt printers): no phone, no address."""
    tz = request.clinic.tzinfo
    issued = appointment.checked_in_at or appointment.starts_at
    context = {
        "clinic_name": request.clinic.name,
        "appointment": appointment,
        "doctor_name": doctor_name(appointment.doctor),
        "room": doctor_rooms([appointment.doctor_id]).get(appointment.doctor_id, ""),
        "issued": f"{format_date(issued, tz)}, {clock(issued, tz)}",
        "back_url": _queue_url(request),
    }
    return render_page(request, "patients/schedule/slip.html", context)
