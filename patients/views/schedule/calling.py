"""Calling patients in: one click from a queue row opens the visit, "Call next" per doctor,
reopening a finished consultation, the waiting-room display and the printable token slip."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.formatting import format_date
from clinics.models import Clinic
from clinics.roles import Perm
from clinics.tenancy import clinic_scope, find_by_public_token
from clinics.web import add_domain_error
from patients.forms_schedule import DisplayLinkForm
from patients.models import Appointment, DisplayLink
from patients.selectors.queue_display import display_link_list, doctor_rooms, waiting_room
from patients.services import queue as services
from patients.services.queue import display_token_digest
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
DISPLAY_PAGE = "patients/schedule/display.html"
DISPLAY_PARTIAL = "patients/schedule/partials/_display.html"


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


def _display_context(clinic: Clinic, live_url: str) -> dict:
    tz = clinic.tzinfo
    now = timezone.now()
    return {
        "clinic_name": clinic.name,
        "boards": waiting_room(day=now.astimezone(tz).date(), tz=tz),
        "now_label": clock(now, tz),
        "refresh_seconds": DISPLAY_REFRESH_SECONDS,
        "live_url": live_url,
    }


def _display(request: HttpRequest, clinic: Clinic, template: str, live_url: str) -> HttpResponse:
    with timezone.override(clinic.tzinfo):
        response = render(request, template, _display_context(clinic, live_url))
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
@require_perm(Perm.APPOINTMENTS_VIEW)
def waiting_display(request: HttpRequest) -> HttpResponse:
    """The waiting room's screen: tokens being called and the next ones, per doctor and room.
    No patient's name, number or phone."""
    live = clinic_url(request, "waiting-display-partial")
    return _display(request, request.clinic, DISPLAY_PAGE, live)


@require_GET
@require_perm(Perm.APPOINTMENTS_VIEW)
def waiting_display_partial(request: HttpRequest) -> HttpResponse:
    live = clinic_url(request, "waiting-display-partial")
    return _display(request, request.clinic, DISPLAY_PARTIAL, live)


def _link_clinic(token: str) -> Clinic | None:
    """The clinic of an unrevoked screen link, or None."""
    if not 20 <= len(token) <= 64:
        return None
    # Tenancy plumbing: the link's secret is the only key the screen has; it names the clinic,
    # and the queue is then read inside that clinic's scope.
    found = find_by_public_token(
        DisplayLink, token_digest=display_token_digest(token), revoked_at__isnull=True
    )
    if found is None:
        return None
    return Clinic.objects.filter(pk=found[1], is_active=True).first()


def _public_display(request: HttpRequest, token: str, template: str) -> HttpResponse:
    clinic = _link_clinic(token)
    if clinic is None:
        raise Http404("No such screen link")
    with clinic_scope(clinic):
        return _display(request, clinic, template, reverse("display-link-live", args=[token]))


@never_cache
@require_GET
def public_display(request: HttpRequest, token: str) -> HttpResponse:
    """The waiting room's screen through its link, without signing in (revocable)."""
    return _public_display(request, token, DISPLAY_PAGE)


@never_cache
@require_GET
def public_display_partial(request: HttpRequest, token: str) -> HttpResponse:
    return _public_display(request, token, DISPLAY_PARTIAL)


@require_perm(Perm.SETTINGS_EDIT)
@require_http_methods(["GET", "POST"])
def display_links(request: HttpRequest) -> HttpResponse:
    """The owner's screen links: make one (its address is shown once), see and revoke them."""
    form = DisplayLinkForm(request.POST or None)
    created_url = ""
    if request.method == "POST" and form.is_valid():
        try:
            _, token = services.display_link_create(
                clinic=request.clinic, actor=request.user, name=form.cleaned_data["name"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            created_url = request.build_absolute_uri(reverse("display-link", args=[token]))
            form = DisplayLinkForm()
    context = {"form": form, "links": display_link_list(), "created_url": created_url}
    status = 400 if form.errors else 200
    response = render_page(request, "patients/schedule/display_links.html", context, status)
    response["Cache-Control"] = "no-store"
    return response


@require_perm(Perm.SETTINGS_EDIT)
@require_POST
def display_link_revoke(request: HttpRequest, link_id: int) -> HttpResponse:
    link = display_link_list().filter(pk=link_id).first()
    if link is None:
        raise Http404("No such screen link")
    services.display_link_revoke(link=link, actor=request.user)
    messages.success(request, f"Revoked “{link.name}”: that screen stops showing the queue.")
    return redirect(clinic_url(request, "display-links"))


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
