"""The clinic's day in the API: doctors, their free slots, and booking and running appointments.

Every view finds the object named in its URL first (another clinic's answers 404), then parses
the input, then calls one service. Times are read with their offset and shown in the clinic's
time zone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from clinics.api.base import idempotent, parsed
from clinics.api.schema import error_responses
from clinics.api.serializers import ErrorSerializer
from clinics.api.views import ClinicAPIView
from clinics.dates import beyond_horizon_message, last_bookable_day
from clinics.errors import DomainError, ValidationFailed
from clinics.roles import Perm
from clinics.selectors import doctors, staff_list
from patients.api.serializers_schedule import (
    MAX_SLOT_DAYS,
    AppointmentBookInputSerializer,
    AppointmentCancelInputSerializer,
    AppointmentListQuerySerializer,
    AppointmentRescheduleInputSerializer,
    AppointmentSerializer,
    DoctorSerializer,
    DoctorSlotsSerializer,
    EmptyInputSerializer,
    SlotsQuerySerializer,
    WalkInInputSerializer,
)
from patients.api.views import ARCHIVED_RULE, IDEMPOTENCY_KEY
from patients.models import Appointment, Patient
from patients.selectors.appointments import (
    appointment_detail,
    day_appointments,
    doctor_free_slots_range,
)
from patients.services.appointments import (
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_mark_no_show,
    appointment_reschedule,
    appointment_start,
    appointment_walk_in,
)

DOCTOR_ID = OpenApiParameter(
    "doctor_id",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description="The doctor's id, from GET /api/v1/doctors/.",
)
APPOINTMENT_ID = OpenApiParameter(
    "appointment_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The appointment's id."
)
_CONFLICT = OpenApiResponse(
    ErrorSerializer,
    description=(
        "The time cannot be booked. `code` says why: booked (taken, also by someone a moment "
        "earlier), past, outside_hours, leave, blocked, busy, off_grid (not a slot start) or "
        "conflict (the appointment's status does not allow this)."
    ),
)
_STATUS_CONFLICT = OpenApiResponse(
    ErrorSerializer,
    description="The appointment's status does not allow this (code conflict), for example "
    "an appointment that is already cancelled.",
)

_WALK_IN = "a walk-in has no slot to move"
_NOT_TODAY = "only today's appointments (in the clinic's time zone) can be checked in"

# Services name their inputs after the model; the API's input names the ids.
ID_FIELDS = {
    "patient": "patient_id",
    "doctor": "doctor_id",
    "appointment": "appointment_id",
    "drug": "drug_id",
}


def api_field(path: str | None) -> str | None:
    """A service's field path as the API's input names it: items.1.drug -> items.1.drug_id."""
    if not path:
        return path
    head, _, last = path.rpartition(".")
    last = ID_FIELDS.get(last, last)
    return f"{head}.{last}" if head else last


@contextmanager
def fields_renamed() -> Iterator[None]:
    """Report a service's field errors under the names the API's input uses."""
    try:
        yield
    except ValidationFailed as exc:
        exc.errors = {api_field(name): messages for name, messages in exc.errors.items()}
        raise
    except DomainError as exc:
        exc.field = api_field(exc.field)
        raise


def _context(request) -> dict:
    return {"tz": request.clinic.tzinfo}


def _appointment_or_404(appointment_id: int) -> Appointment:
    try:
        return appointment_detail(appointment_id=appointment_id)
    except Appointment.DoesNotExist:
        raise exceptions.NotFound("No such appointment at this clinic.") from None


def _patient_and_doctor(data: dict) -> tuple[Patient, object]:
    """The clinic's patient and doctor named by `patient_id` and `doctor_id`, else 400."""
    problems = {}
    patient = Patient.objects.filter(pk=data["patient_id"]).first()
    if patient is None:
        problems["patient_id"] = ["No such patient at this clinic."]
    doctor = staff_list().select_related("clinic").filter(pk=data["doctor_id"]).first()
    if doctor is None:
        problems["doctor_id"] = ["No such doctor at this clinic."]
    if problems:
        raise exceptions.ValidationError(problems)
    return patient, doctor


def _answer(request, appointment: Appointment) -> Response:
    # A service returns the appointment re-read under its lock: read it again with its people.
    fresh = appointment_detail(appointment_id=appointment.pk)
    return Response(AppointmentSerializer(fresh, context=_context(request)).data)


# ---------------------------------------------------------------------------------------------
# Doctors and their free slots


class DoctorListView(ClinicAPIView):
    required_perms = {"GET": Perm.APPOINTMENTS_VIEW}

    @extend_schema(
        operation_id="doctors_list",
        summary="List the doctors who can be booked",
        description=(
            "Active doctors, and owners (who see patients too), by name, with the registration "
            "details from their doctor profile."
        ),
        responses={200: DoctorSerializer(many=True), **error_responses()},
    )
    def get(self, request):
        return Response(DoctorSerializer(doctors(), many=True).data)


class DoctorSlotsView(ClinicAPIView):
    required_perms = {"GET": Perm.APPOINTMENTS_VIEW}

    @extend_schema(
        operation_id="doctors_slots",
        summary="A doctor's free slots",
        description=(
            "The slots that can be booked, day by day in the clinic's time zone, from the "
            "doctor's working hours less leave, blocked time and booked appointments. Slots "
            "that have already started are left out. Book one by sending its `starts_at` to "
            f"POST /api/v1/appointments/. Up to {MAX_SLOT_DAYS} days at a time. Days past the "
            "clinic's booking horizon (`bookable_until`) have no slots, and `note` says why."
        ),
        parameters=[DOCTOR_ID, SlotsQuerySerializer],
        responses={200: DoctorSlotsSerializer, **error_responses(400, 404)},
    )
    def get(self, request, doctor_id: int):
        doctor = doctors().select_related("clinic").filter(pk=doctor_id).first()
        if doctor is None:
            raise exceptions.NotFound("No such doctor at this clinic.")
        query = parsed(SlotsQuerySerializer, request.query_params)
        clinic = request.clinic
        tz = clinic.tzinfo
        now = timezone.now()
        start_day = query.get("date") or timezone.localtime(now, tz).date()
        last_day = last_bookable_day(clinic, now)
        # Days past the horizon cannot be booked: they are answered with no slots and a note.
        bookable = max(0, min(query["days"], (last_day - start_day).days + 1))
        days = doctor_free_slots_range(doctor, start_day, bookable, now=now) if bookable else {}
        for offset in range(bookable, query["days"]):
            days[start_day + timedelta(days=offset)] = []
        note = beyond_horizon_message(clinic, now) if bookable < query["days"] else ""
        body = DoctorSlotsSerializer(
            {"doctor": doctor, "days": days, "bookable_until": last_day, "note": note},
            context={"tz": tz},
        ).data
        return Response(body)


# ---------------------------------------------------------------------------------------------
# Appointments


class AppointmentListView(ClinicAPIView):
    required_perms = {"GET": Perm.APPOINTMENTS_VIEW, "POST": Perm.APPOINTMENTS_EDIT}

    @extend_schema(
        operation_id="appointments_list",
        summary="A day's appointments",
        description=(
            "Every appointment and walk-in of one day (in the clinic's time zone), in time "
            "order, cancelled ones included. A day is short, so the list is not paged."
        ),
        parameters=[AppointmentListQuerySerializer],
        responses={200: AppointmentSerializer(many=True), **error_responses(400)},
    )
    def get(self, request):
        query = parsed(AppointmentListQuerySerializer, request.query_params)
        doctor = None
        if "doctor" in query:
            doctor = staff_list().filter(pk=query["doctor"]).first()
            if doctor is None:
                raise exceptions.ValidationError({"doctor": ["No such doctor at this clinic."]})
        rows = day_appointments(day=query["date"], tz=request.clinic.tzinfo, doctor=doctor)
        if "status" in query:
            rows = rows.filter(status=query["status"])
        return Response(AppointmentSerializer(rows, many=True, context=_context(request)).data)

    @extend_schema(
        operation_id="appointments_create",
        summary="Book an appointment",
        description=(
            "Books one of the doctor's free slots (GET /api/v1/doctors/{doctor_id}/slots/) for a "
            "patient. The slot's length comes from the doctor's working hours. A time that "
            "cannot be booked answers 409, with `code` saying why; a slot someone else took a "
            "moment earlier answers 409 with code booked. Send an Idempotency-Key to retry "
            "safely."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=AppointmentBookInputSerializer,
        responses={
            201: OpenApiResponse(AppointmentSerializer, description="The appointment is booked."),
            **error_responses(400, 415, 422, rules={"archived": ARCHIVED_RULE}),
            409: _CONFLICT,
        },
    )
    @idempotent
    def post(self, request):
        data = parsed(AppointmentBookInputSerializer, request.data)
        patient, doctor = _patient_and_doctor(data)
        with fields_renamed():
            appointment = appointment_book(
                patient=patient,
                doctor=doctor,
                actor=request.actor,
                starts_at=data["starts_at"],
                reason=data["reason"],
                override_reason=data["override_reason"],
            )
        # The new appointment comes with its patient and doctor: no need to read it again.
        body = AppointmentSerializer(appointment, context=_context(request)).data
        return Response(body, status=status.HTTP_201_CREATED)


class AppointmentDetailView(ClinicAPIView):
    required_perms = {"GET": Perm.APPOINTMENTS_VIEW}

    @extend_schema(
        operation_id="appointments_retrieve",
        summary="One appointment",
        parameters=[APPOINTMENT_ID],
        responses={200: AppointmentSerializer, **error_responses(404)},
    )
    def get(self, request, appointment_id: int):
        appointment = _appointment_or_404(appointment_id)
        return Response(AppointmentSerializer(appointment, context=_context(request)).data)


class AppointmentRescheduleView(ClinicAPIView):
    required_perms = {"POST": Perm.APPOINTMENTS_EDIT}

    @extend_schema(
        operation_id="appointments_reschedule",
        summary="Move an appointment",
        description=(
            "Moves a booked appointment to another free slot of the same doctor. Only booked "
            "appointments can be moved (not walk-ins, nor after check-in). Send an "
            "Idempotency-Key to retry safely."
        ),
        parameters=[APPOINTMENT_ID, IDEMPOTENCY_KEY],
        request=AppointmentRescheduleInputSerializer,
        responses={
            200: OpenApiResponse(AppointmentSerializer, description="The appointment was moved."),
            **error_responses(400, 404, 415, 422, rules={"walk_in": _WALK_IN}),
            409: _CONFLICT,
        },
    )
    @idempotent
    def post(self, request, appointment_id: int):
        appointment = _appointment_or_404(appointment_id)
        data = parsed(AppointmentRescheduleInputSerializer, request.data)
        moved = appointment_reschedule(
            appointment=appointment,
            actor=request.actor,
            starts_at=data["starts_at"],
            patient_note=data["patient_note"],
        )
        return _answer(request, moved)


class AppointmentCancelView(ClinicAPIView):
    required_perms = {"POST": Perm.APPOINTMENTS_EDIT}

    @extend_schema(
        operation_id="appointments_cancel",
        summary="Cancel an appointment",
        description=(
            "Cancels a booked or checked-in appointment; its slot becomes free. A reason is "
            "required. Send an Idempotency-Key to retry safely."
        ),
        parameters=[APPOINTMENT_ID, IDEMPOTENCY_KEY],
        request=AppointmentCancelInputSerializer,
        responses={
            200: OpenApiResponse(
                AppointmentSerializer, description="The appointment was cancelled."
            ),
            **error_responses(400, 404, 415, 422),
            409: _STATUS_CONFLICT,
        },
    )
    @idempotent
    def post(self, request, appointment_id: int):
        appointment = _appointment_or_404(appointment_id)
        data = parsed(AppointmentCancelInputSerializer, request.data)
        cancelled = appointment_cancel(
            appointment=appointment,
            actor=request.actor,
            reason=data["reason"],
            patient_note=data["patient_note"],
        )
        return _answer(request, cancelled)


class AppointmentCheckInView(ClinicAPIView):
    required_perms = {"POST": Perm.APPOINTMENTS_EDIT}

    @extend_schema(
        operation_id="appointments_check_in",
        summary="Check a patient in",
        description=(
            "The patient has arrived: a booked appointment of today joins the doctor's queue "
            "and gets the next token number. No body is needed. Send an Idempotency-Key to "
            "retry safely."
        ),
        parameters=[APPOINTMENT_ID, IDEMPOTENCY_KEY],
        request=None,
        responses={
            200: OpenApiResponse(
                AppointmentSerializer,
                description="Checked in: `status` is checked_in and `token_number` is set.",
            ),
            **error_responses(400, 404, 415, 422, rules={"not_today": _NOT_TODAY}),
            409: _STATUS_CONFLICT,
        },
    )
    @idempotent
    def post(self, request, appointment_id: int):
        appointment = _appointment_or_404(appointment_id)
        parsed(EmptyInputSerializer, request.data)
        checked_in = appointment_check_in(appointment=appointment, actor=request.actor)
        return _answer(request, checked_in)


def _status_action(
    *,
    operation_id: str,
    summary: str,
    description: str,
    done: str,
    service,
    rules: dict[str, str] | None = None,
):
    """A POST that moves an appointment along the day (call in, complete, did not come)."""

    class StatusActionView(ClinicAPIView):
        required_perms = {"POST": Perm.APPOINTMENTS_EDIT}

        @extend_schema(
            operation_id=operation_id,
            summary=summary,
            description=f"{description} No body is needed. Send an Idempotency-Key to retry "
            "safely.",
            parameters=[APPOINTMENT_ID, IDEMPOTENCY_KEY],
            request=None,
            responses={
                200: OpenApiResponse(AppointmentSerializer, description=done),
                **error_responses(400, 404, 415, 422, rules=rules),
                409: _STATUS_CONFLICT,
            },
        )
        @idempotent
        def post(self, request, appointment_id: int):
            appointment = _appointment_or_404(appointment_id)
            parsed(EmptyInputSerializer, request.data)
            return _answer(request, service(appointment=appointment, actor=request.actor))

    StatusActionView.__name__ = StatusActionView.__qualname__ = f"{operation_id.title()}View"
    return StatusActionView


AppointmentStartView = _status_action(
    operation_id="appointments_start",
    summary="Call a waiting patient in",
    description="The doctor starts the consultation of a checked-in patient.",
    done="`status` is in_consultation and `started_at` is set.",
    service=appointment_start,
)
AppointmentCompleteView = _status_action(
    operation_id="appointments_complete",
    summary="Complete a consultation",
    description="The consultation of a patient who is with the doctor is over.",
    done="`status` is completed and `completed_at` is set.",
    service=appointment_complete,
)
AppointmentNoShowView = _status_action(
    operation_id="appointments_no_show",
    summary="Mark that the patient did not come",
    description="Only for a booked appointment whose time has begun; cancel it before then.",
    done="`status` is no_show; the slot is free again.",
    service=appointment_mark_no_show,
    rules={"not_started": "the appointment has not begun yet (cancel it instead)"},
)


class WalkInView(ClinicAPIView):
    required_perms = {"POST": Perm.APPOINTMENTS_EDIT}

    @extend_schema(
        operation_id="appointments_walk_in",
        summary="Add a walk-in to today's queue",
        description=(
            "A patient without an appointment joins the doctor's queue now, with the next "
            "token number of the day. Send an Idempotency-Key to retry safely."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=WalkInInputSerializer,
        responses={
            201: OpenApiResponse(
                AppointmentSerializer, description="Checked in as a walk-in, with a token."
            ),
            **error_responses(400, 415, 422, rules={"archived": ARCHIVED_RULE}),
        },
    )
    @idempotent
    def post(self, request):
        data = parsed(WalkInInputSerializer, request.data)
        patient, doctor = _patient_and_doctor(data)
        with fields_renamed():
            appointment = appointment_walk_in(
                patient=patient,
                doctor=doctor,
                actor=request.actor,
                reason=data["reason"],
                override_reason=data["override_reason"],
            )
        response = _answer(request, appointment)
        response.status_code = status.HTTP_201_CREATED
        return response
