"""Booking, walk-ins and the appointment actions (check in, call in, complete, did not come,
cancel, reschedule). Each write calls one service."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods

from clinics.dates import beyond_horizon_message, last_bookable_day, out_of_range_message
from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.formatting import format_date
from clinics.models import Membership
from clinics.roles import Perm, Role
from clinics.web import add_domain_error
from patients.forms_schedule import (
    MAX_PATIENT_MATCHES,
    PATIENTS_TARGET,
    SLOTS_TARGET,
    BookingForm,
    CancelForm,
    CheckInOverrideForm,
    RescheduleForm,
    WalkInForm,
    parse_day,
)
from patients.models import Appointment, AppointmentKind, AppointmentStatus
from patients.selectors import patient_list
from patients.selectors.schedule_views import doctor_choices, slot_choices
from patients.services import appointments as services
from patients.slots import Slot
from patients.views.schedule.common import (
    SlotLink,
    clinic_today,
    clinic_url,
    day_url,
    doctor_name,
    for_appointment,
    local_day,
    render_page,
    safe_next_url,
    slot_links,
    when_text,
)

# --- booking and walk-ins ------------------------------------------------------------------


def _slot_groups(request: HttpRequest, doctor: Membership, slots: list[Slot]) -> list[dict]:
    tz = request.clinic.tzinfo
    groups: dict[str, list[SlotLink]] = {"Morning": [], "Afternoon": [], "Evening": []}
    for slot, link in zip(slots, slot_links(request, doctor, slots, tz), strict=True):
        hour = slot.start.astimezone(tz).hour
        name = "Morning" if hour < 12 else "Afternoon" if hour < 17 else "Evening"
        groups[name].append(link)
    return [{"name": name, "slots": links} for name, links in groups.items() if links]


def _slots_context(
    request: HttpRequest, doctor_id, day_value, selected: str = "", errors=None
) -> dict:
    """What the slot picker shows for a doctor and a date (either may be missing)."""
    tz = request.clinic.tzinfo
    context = {"groups": [], "note": "", "selected": selected or "", "errors": errors or []}
    doctor = None
    if str(doctor_id or "").isdigit():
        doctor = next((d for d in doctor_choices() if d.pk == int(doctor_id)), None)
    if isinstance(day_value, date):
        day = day_value
    else:
        day = parse_day(day_value, None) if day_value else None
    if doctor is None:
        context["note"] = "Choose a doctor to see the free times."
        return context
    if day is None:
        context["note"] = (
            out_of_range_message() if day_value else "Choose a date to see the free times."
        )
        return context
    now = timezone.now()
    if day > last_bookable_day(request.clinic, now):
        context["note"] = beyond_horizon_message(request.clinic, now)
        return context
    choices = slot_choices(doctor=doctor, day=day, tz=tz, now=now)
    context.update(
        groups=_slot_groups(request, doctor, choices.slots),
        note=choices.note,
        doctor=doctor,
        day=day,
        day_label=f"{day:%A}, {format_date(day)}",
    )
    return context


@require_GET
@require_perm(Perm.APPOINTMENTS_EDIT)
def appointment_slots(request: HttpRequest) -> HttpResponse:
    context = _slots_context(
        request,
        request.GET.get("doctor"),
        request.GET.get("date"),
        selected=request.GET.get("starts_at", ""),
    )
    response = render_page(request, "patients/schedule/partials/_slots.html", context)
    response["Cache-Control"] = "no-store"
    return response


def _patient_matches(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("patient", "").strip()[:200]
    matches = list(patient_list(query=query)[:MAX_PATIENT_MATCHES]) if query else []
    context = {"matches": matches, "query": query, "chosen": None}
    response = render_page(request, "patients/schedule/partials/_patient_matches.html", context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def _wants_patient_matches(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and htmx.target == PATIENTS_TARGET and request.method == "GET"


def _prefilled_patient(request: HttpRequest):
    patient_id = request.GET.get("patient_id", "")
    if not patient_id.isdigit():
        return None
    return patient_list(include_archived=True).filter(pk=int(patient_id)).first()


def _can_override(request: HttpRequest) -> bool:
    """Whether to offer going outside a doctor's hours: the owner, or a doctor (for their own
    patients; the service checks which doctor)."""
    return request.membership.role in (Role.OWNER, Role.DOCTOR)


@require_perm(Perm.APPOINTMENTS_EDIT)
@require_http_methods(["GET", "POST"])
def appointment_book(request: HttpRequest) -> HttpResponse:
    if _wants_patient_matches(request):
        return _patient_matches(request)
    tz = request.clinic.tzinfo
    slots_url = clinic_url(request, "appointment-slots")
    selected = ""
    slot_errors: list[str] = []
    if request.method == "POST":
        form = BookingForm(request.POST, tz=tz, slots_url=slots_url)
        if form.is_valid():
            patient, doctor = form.chosen_patient, form.cleaned_data["doctor"]
            try:
                appointment = services.appointment_book(
                    patient=patient,
                    doctor=doctor,
                    actor=request.user,
                    starts_at=form.cleaned_data["starts_at"],
                    reason=form.cleaned_data["reason"],
                    override_reason=form.cleaned_data["override_reason"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    f"Booked {patient.full_name} with {doctor_name(doctor)} "
                    f"at {when_text(appointment.starts_at, tz)}.",
                )
                return redirect(day_url(request, local_day(request, appointment.starts_at)))
        slot_errors = list(form.errors.get("starts_at", []))
        if not slot_errors:
            selected = form.data.get("starts_at", "")
        doctor_id = form.data.get("doctor")
        day_value = form.cleaned_data.get("date") or form.data.get("date")
    else:
        doctors = list(doctor_choices())
        doctor_id = request.GET.get("doctor") or (doctors[0].pk if len(doctors) == 1 else "")
        day_value = request.GET.get("date") or clinic_today(request).isoformat()
        selected = request.GET.get("starts_at", "")
        form = BookingForm(
            initial={"doctor": doctor_id, "date": parse_day(day_value, clinic_today(request))},
            tz=tz,
            slots_url=slots_url,
        )
        form.chosen_patient = _prefilled_patient(request)
    context = {
        "form": form,
        "slots": _slots_context(request, doctor_id, day_value, selected, slot_errors),
        "patients_target": PATIENTS_TARGET,
        "slots_target": SLOTS_TARGET,
        "can_override": _can_override(request),
    }
    response = render_page(request, "patients/schedule/book.html", context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@require_perm(Perm.APPOINTMENTS_EDIT)
@require_http_methods(["GET", "POST"])
def walk_in(request: HttpRequest) -> HttpResponse:
    if _wants_patient_matches(request):
        return _patient_matches(request)
    if request.method == "POST":
        form = WalkInForm(request.POST)
        if form.is_valid():
            patient, doctor = form.chosen_patient, form.cleaned_data["doctor"]
            try:
                appointment = services.appointment_walk_in(
                    patient=patient,
                    doctor=doctor,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    override_reason=form.cleaned_data["override_reason"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    f"Token {appointment.token_number}: {patient.full_name} is in the queue "
                    f"for {doctor_name(doctor)}.",
                )
                return redirect(clinic_url(request, "schedule-queue"))
    else:
        doctors = list(doctor_choices())
        doctor_id = request.GET.get("doctor") or (doctors[0].pk if len(doctors) == 1 else "")
        form = WalkInForm(initial={"doctor": doctor_id})
        form.chosen_patient = _prefilled_patient(request)
    context = {
        "form": form,
        "patients_target": PATIENTS_TARGET,
        "can_override": _can_override(request),
    }
    response = render_page(request, "patients/schedule/walk_in.html", context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


# --- appointment actions -------------------------------------------------------------------


def _back(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    return redirect(
        safe_next_url(request, day_url(request, local_day(request, appointment.starts_at)))
    )


def _simple_action(service, success):
    """A POST that calls one service on the appointment and goes back where it came from."""

    @require_perm(Perm.APPOINTMENTS_EDIT)
    @for_appointment("POST")
    def view(request: HttpRequest, appointment: Appointment) -> HttpResponse:
        try:
            done = service(appointment=appointment, actor=request.user)
        except DomainError as exc:
            messages.error(request, f"{appointment.patient.full_name}: {exc.message}")
        else:
            messages.success(request, success(request, appointment, done))
        return _back(request, appointment)

    view.__name__ = service.__name__
    view.__qualname__ = service.__name__
    return view


def _checked_in(request, appointment, done) -> str:
    return (
        f"Checked in {appointment.patient.full_name} ({appointment.patient.patient_number}). "
        f"Token {done.token_number} for {doctor_name(appointment.doctor)}."
    )


def _started(request, appointment, done) -> str:
    return f"{appointment.patient.full_name} is with {doctor_name(appointment.doctor)} now."


def _completed(request, appointment, done) -> str:
    return (
        f"{appointment.patient.full_name}'s consultation with "
        f"{doctor_name(appointment.doctor)} is done."
    )


def _no_show(request, appointment, done) -> str:
    return (
        f"Marked {appointment.patient.full_name} as did not come "
        f"({when_text(appointment.starts_at, request.clinic.tzinfo)})."
    )


@require_perm(Perm.APPOINTMENTS_EDIT)
@for_appointment("POST")
def appointment_check_in(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    """Check a patient in. Outside the doctor's hours the owner or the doctor is asked for a
    reason to go ahead (the page again, with the refusal and a reason field)."""
    form = CheckInOverrideForm(request.POST)
    override = form.cleaned_data["override_reason"] if form.is_valid() else ""
    try:
        done = services.appointment_check_in(
            appointment=appointment, actor=request.user, override_reason=override
        )
    except DomainError as exc:
        if exc.code in services.OVERRIDABLE and _can_override(request):
            add_domain_error(form, exc)
            context = {
                "form": form,
                "back_url": safe_next_url(request, clinic_url(request, "schedule-queue")),
                **_appointment_summary(request, appointment),
            }
            return render_page(request, "patients/schedule/check_in.html", context, status=409)
        messages.error(request, f"{appointment.patient.full_name}: {exc.message}")
    else:
        messages.success(request, _checked_in(request, appointment, done))
    return _back(request, appointment)


appointment_start = _simple_action(services.appointment_start, _started)
appointment_complete = _simple_action(services.appointment_complete, _completed)
appointment_no_show = _simple_action(services.appointment_mark_no_show, _no_show)


def _appointment_summary(request: HttpRequest, appointment: Appointment) -> dict:
    tz = request.clinic.tzinfo
    return {
        "appointment": appointment,
        "doctor_name": doctor_name(appointment.doctor),
        "when": (
            f"walk-in, arrived {when_text(appointment.starts_at, tz)}"
            if appointment.kind == AppointmentKind.WALK_IN
            else when_text(appointment.starts_at, tz)
        ),
    }


@require_perm(Perm.APPOINTMENTS_EDIT)
@for_appointment("GET", "POST")
def appointment_cancel(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    tz = request.clinic.tzinfo
    fallback = day_url(request, local_day(request, appointment.starts_at))
    back_url = safe_next_url(request, fallback)
    if request.method == "POST":
        form = CancelForm(request.POST)
        if form.is_valid():
            try:
                services.appointment_cancel(
                    appointment=appointment,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    patient_note=form.cleaned_data["patient_note"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    f"Cancelled {appointment.patient.full_name}'s appointment with "
                    f"{doctor_name(appointment.doctor)} at {when_text(appointment.starts_at, tz)}.",
                )
                return redirect(back_url)
    else:
        form = CancelForm()
    context = {"form": form, "back_url": back_url, **_appointment_summary(request, appointment)}
    return render_page(request, "patients/schedule/cancel.html", context)


@require_perm(Perm.APPOINTMENTS_EDIT)
@for_appointment("GET", "POST")
def appointment_reschedule(request: HttpRequest, appointment: Appointment) -> HttpResponse:
    tz = request.clinic.tzinfo
    slots_url = clinic_url(request, "appointment-slots")
    current_day = local_day(request, appointment.starts_at)
    selected, slot_errors = "", []
    if request.method == "POST":
        form = RescheduleForm(request.POST, slots_url=slots_url)
        if form.is_valid():
            try:
                moved = services.appointment_reschedule(
                    appointment=appointment,
                    actor=request.user,
                    starts_at=form.cleaned_data["starts_at"],
                    patient_note=form.cleaned_data["patient_note"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    f"Moved {appointment.patient.full_name}'s appointment with "
                    f"{doctor_name(appointment.doctor)} to {when_text(moved.starts_at, tz)}.",
                )
                return redirect(day_url(request, local_day(request, moved.starts_at)))
        slot_errors = list(form.errors.get("starts_at", []))
        if not slot_errors:
            selected = form.data.get("starts_at", "")
        day_value = form.cleaned_data.get("date") or form.data.get("date")
    else:
        today = clinic_today(request)
        day_value = request.GET.get("date") or max(current_day, today).isoformat()
        form = RescheduleForm(
            initial={"date": parse_day(day_value, current_day)}, slots_url=slots_url
        )
    context = {
        "form": form,
        "slots": _slots_context(request, appointment.doctor_id, day_value, selected, slot_errors),
        "slots_target": SLOTS_TARGET,
        "can_move": appointment.kind == AppointmentKind.BOOKED
        and appointment.status == AppointmentStatus.BOOKED,
        **_appointment_summary(request, appointment),
    }
    return render_page(request, "patients/schedule/reschedule.html", context)
