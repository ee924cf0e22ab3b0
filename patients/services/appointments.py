"""Writes for the clinic's day: doctors' hours and leave, booking and the queue.

A doctor is never double-booked. Every booking and rescheduling takes a row lock on the
doctor's membership first, so two front-desk users booking the same slot take turns and the
second sees the first's booking; on PostgreSQL an exclusion constraint backs this up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinics.audit import Actions, audit_record
from clinics.dates import beyond_horizon_message, last_bookable_day
from clinics.errors import Conflict, DomainError, ValidationFailed
from clinics.models import ApiKey, Membership, User
from clinics.roles import Role
from clinics.sequences import counter_next
from patients import events
from patients.events import care_event
from patients.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    DoctorLeave,
    LeaveKind,
    Patient,
    WorkingHours,
)
from patients.selectors.appointments import active_bookings, doctor_busy, doctor_sessions
from patients.slots import Session, booking_refusal

DOCTOR_ROLES = (Role.DOCTOR, Role.OWNER)
MAX_REASON = 200


@dataclass(frozen=True)
class SessionInput:
    weekday: int
    start: time
    end: time
    slot_minutes: int = 15


def _require_doctor(doctor: Membership) -> Membership:
    if not doctor.is_active or doctor.role not in DOCTOR_ROLES:
        raise DomainError("Choose a doctor who works at this clinic.", field="doctor")
    return doctor


def _lock_doctor(doctor: Membership) -> Membership:
    """Serialise writes to one doctor's diary (bookings, reschedules, leave)."""
    # of=("self",): lock the doctor's row only, not the joined clinic (that would make every
    # booking in the clinic wait for every other).
    return (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "clinic")
        .get(pk=doctor.pk)
    )


def _aware(value: datetime, field: str) -> datetime:
    if timezone.is_naive(value):
        raise DomainError("Give the time with its time zone.", field=field)
    return value


# ---------------------------------------------------------------------------------------------
# Working hours and leave


@transaction.atomic
def working_hours_set(
    *, doctor: Membership, actor: User, sessions: list[SessionInput]
) -> list[WorkingHours]:
    """Replace a doctor's weekly sessions. Sessions of one day may not overlap."""
    _require_doctor(doctor)
    errors: list[str] = []
    checked: list[Session] = []
    for i, s in enumerate(sessions, start=1):
        try:
            checked.append(Session(s.weekday, s.start, s.end, s.slot_minutes))
        except ValueError as exc:
            errors.append(f"Session {i}: {exc}")
    by_day: dict[int, list[Session]] = {}
    for s in checked:
        by_day.setdefault(s.weekday, []).append(s)
    for day_sessions in by_day.values():
        day_sessions.sort(key=lambda s: s.start)
        for a, b in pairwise(day_sessions):
            if b.start < a.end:
                errors.append(
                    f"Sessions {a.start:%H:%M}-{a.end:%H:%M} and {b.start:%H:%M}-{b.end:%H:%M} "
                    "on the same day overlap."
                )
    if errors:
        raise ValidationFailed({"sessions": errors})
    _lock_doctor(doctor)
    WorkingHours.objects.filter(doctor=doctor).delete()
    rows = WorkingHours.objects.bulk_create(
        WorkingHours(
            clinic_id=doctor.clinic_id,
            doctor=doctor,
            weekday=s.weekday,
            start_time=s.start,
            end_time=s.end,
            slot_minutes=s.slot_minutes,
        )
        for s in checked
    )
    audit_record(
        clinic=doctor.clinic_id,
        actor=actor,
        action=Actions.WORKING_HOURS_SET,
        target=doctor,
        data={"sessions": len(rows)},
    )
    return rows


@transaction.atomic
def doctor_leave_add(
    *,
    doctor: Membership,
    actor: User,
    starts_at: datetime,
    ends_at: datetime,
    kind: str = LeaveKind.LEAVE,
    reason: str = "",
) -> DoctorLeave:
    """Block a doctor's time. Refused while booked appointments fall in it, so no patient is
    left with an appointment the doctor will not keep."""
    _require_doctor(doctor)
    _aware(starts_at, "starts_at")
    _aware(ends_at, "ends_at")
    if ends_at <= starts_at:
        raise DomainError("The end must be after the start.", field="ends_at")
    if kind not in LeaveKind.values:
        raise DomainError("Choose leave or blocked time.", field="kind")
    _lock_doctor(doctor)
    clashing = (
        active_bookings(doctor)
        .filter(status=AppointmentStatus.BOOKED, starts_at__lt=ends_at, ends_at__gt=starts_at)
        .count()
    )
    if clashing:
        raise Conflict(
            f"{clashing} booked appointment{'s' if clashing > 1 else ''} fall in this period. "
            "Reschedule or cancel them first."
        )
    leave = DoctorLeave.objects.create(
        clinic_id=doctor.clinic_id,
        doctor=doctor,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=(reason or "").strip()[:200],
        created_by=actor,
    )
    audit_record(
        clinic=doctor.clinic_id,
        actor=actor,
        action=Actions.DOCTOR_LEAVE_ADDED,
        target=leave,
        data={"doctor_id": doctor.pk, "kind": kind},
    )
    return leave


@transaction.atomic
def doctor_leave_remove(*, leave: DoctorLeave, actor: User) -> None:
    """Give the blocked time back to booking."""
    audit_record(
        clinic=leave.clinic_id,
        actor=actor,
        action=Actions.DOCTOR_LEAVE_REMOVED,
        target=leave,
        data={"doctor_id": leave.doctor_id},
    )
    leave.delete()


# ---------------------------------------------------------------------------------------------
# Booking


def _slot_end(doctor: Membership, starts_at: datetime) -> datetime:
    """The end of the slot starting at `starts_at`, from the session it falls in.

    Outside every session, the clinic's shortest slot is assumed, so that the booking check
    explains what is wrong in its order (in the past before outside working hours).
    """
    local = starts_at.astimezone(doctor.clinic.tzinfo)
    sessions = doctor_sessions(doctor)
    minutes = min((s.slot_minutes for s in sessions), default=15)
    for s in sessions:
        if s.weekday == local.weekday() and s.start <= local.time() < s.end:
            minutes = s.slot_minutes
            break
    # In UTC: real minutes, also across a daylight-saving change.
    return starts_at.astimezone(UTC) + timedelta(minutes=minutes)


def _check_bookable(
    doctor: Membership,
    starts_at: datetime,
    ends_at: datetime,
    *,
    exclude_appointment_id: int | None = None,
) -> None:
    clinic = doctor.clinic
    now = timezone.now()
    if starts_at.astimezone(clinic.tzinfo).date() > last_bookable_day(clinic, now):
        raise DomainError(
            beyond_horizon_message(clinic, now), field="starts_at", code="beyond_horizon"
        )
    refusal = booking_refusal(
        start=starts_at,
        end=ends_at,
        tz=doctor.clinic.tzinfo,
        sessions=doctor_sessions(doctor),
        busy=doctor_busy(doctor, starts_at, ends_at, exclude_appointment_id=exclude_appointment_id),
        now=now,
        doctor=f"Dr {doctor.user.full_name}",
    )
    if refusal:
        # The refusal's code (booked, past, outside_hours, ...) tells API clients what to do.
        raise Conflict(refusal.message, field="starts_at", code=refusal.code.value)


def _save_booking(appointment: Appointment, update_fields: list[str] | None = None) -> None:
    try:
        with transaction.atomic():
            appointment.save(update_fields=update_fields)
    except IntegrityError as exc:  # PostgreSQL's exclusion constraint: someone was faster
        raise Conflict(
            "This slot was just taken. Pick another one.", field="starts_at", code="booked"
        ) from exc


@transaction.atomic
def appointment_book(
    *,
    patient: Patient,
    doctor: Membership,
    actor: User | ApiKey,
    starts_at: datetime,
    reason: str = "",
) -> Appointment:
    """Book one of the doctor's free slots for a patient."""
    _require_doctor(doctor)
    if patient.is_archived:
        raise DomainError("This patient is archived. Restore the record to book.", code="archived")
    _aware(starts_at, "starts_at")
    doctor = _lock_doctor(doctor)
    ends_at = _slot_end(doctor, starts_at)
    _check_bookable(doctor, starts_at, ends_at)
    appointment = Appointment(
        clinic_id=doctor.clinic_id,
        patient=patient,
        doctor=doctor,
        kind=AppointmentKind.BOOKED,
        status=AppointmentStatus.BOOKED,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=(reason or "").strip()[:MAX_REASON],
        booked_by=actor if isinstance(actor, User) else None,  # not an API key
    )
    _save_booking(appointment)
    audit_record(
        clinic=doctor.clinic_id,
        actor=actor,
        action=Actions.APPOINTMENT_BOOKED,
        target=appointment,
        patient_id=patient.pk,
        data={"doctor_id": doctor.pk, "starts_at": starts_at},
    )
    care_event(events.APPOINTMENT_BOOKED, appointment=appointment)
    return appointment


def _locked(appointment: Appointment) -> Appointment:
    return Appointment.objects.select_for_update().select_related("doctor").get(pk=appointment.pk)


def _require_status(appointment: Appointment, allowed: tuple[str, ...], doing: str) -> None:
    if appointment.status not in allowed:
        raise Conflict(
            f"Cannot {doing}: this appointment is {appointment.get_status_display().lower()}."
        )


@transaction.atomic
def appointment_reschedule(
    *, appointment: Appointment, actor: User | ApiKey, starts_at: datetime
) -> Appointment:
    """Move a booked appointment to another free slot of the same doctor."""
    _aware(starts_at, "starts_at")
    _lock_doctor(appointment.doctor)
    appointment = _locked(appointment)
    if appointment.kind != AppointmentKind.BOOKED:
        raise DomainError("A walk-in has no slot to move.", code="walk_in")
    _require_status(appointment, (AppointmentStatus.BOOKED,), "reschedule")
    ends_at = _slot_end(appointment.doctor, starts_at)
    _check_bookable(appointment.doctor, starts_at, ends_at, exclude_appointment_id=appointment.pk)
    old = appointment.starts_at
    appointment.starts_at, appointment.ends_at = starts_at, ends_at
    _save_booking(appointment, update_fields=["starts_at", "ends_at"])
    audit_record(
        clinic=appointment.clinic_id,
        actor=actor,
        action=Actions.APPOINTMENT_RESCHEDULED,
        target=appointment,
        patient_id=appointment.patient_id,
        data={"from": old, "to": starts_at},
    )
    care_event(events.APPOINTMENT_RESCHEDULED, appointment=appointment)
    return appointment


@transaction.atomic
def appointment_cancel(
    *, appointment: Appointment, actor: User | ApiKey, reason: str
) -> Appointment:
    """Cancel an appointment (the slot becomes free). A reason is required."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the appointment is cancelled.", field="reason")
    appointment = _locked(appointment)
    _require_status(appointment, (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN), "cancel")
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancel_reason = reason[:MAX_REASON]
    appointment.cancelled_at = timezone.now()
    appointment.save(update_fields=["status", "cancel_reason", "cancelled_at"])
    audit_record(
        clinic=appointment.clinic_id,
        actor=actor,
        action=Actions.APPOINTMENT_CANCELLED,
        target=appointment,
        patient_id=appointment.patient_id,
    )
    care_event(events.APPOINTMENT_CANCELLED, appointment=appointment)
    return appointment


def _next_token(appointment: Appointment, now: datetime) -> int:
    day = now.astimezone(appointment.doctor.clinic.tzinfo).date()
    return counter_next(
        clinic_id=appointment.clinic_id, name=f"token:{appointment.doctor_id}:{day.isoformat()}"
    )


@transaction.atomic
def appointment_check_in(*, appointment: Appointment, actor: User | ApiKey) -> Appointment:
    """The patient has arrived: they join the doctor's queue with the next token number."""
    appointment = _locked(appointment)
    _require_status(appointment, (AppointmentStatus.BOOKED,), "check in")
    now = timezone.now()
    local_today = now.astimezone(appointment.doctor.clinic.tzinfo).date()
    if appointment.starts_at.astimezone(appointment.doctor.clinic.tzinfo).date() != local_today:
        raise DomainError("Only today's appointments can be checked in.", code="not_today")
    appointment.status = AppointmentStatus.CHECKED_IN
    appointment.checked_in_at = now
    appointment.token_number = _next_token(appointment, now)
    appointment.save(update_fields=["status", "checked_in_at", "token_number"])
    audit_record(
        clinic=appointment.clinic_id,
        actor=actor,
        action=Actions.APPOINTMENT_CHECKED_IN,
        target=appointment,
        patient_id=appointment.patient_id,
        data={"token": appointment.token_number},
    )
    return appointment


@transaction.atomic
def appointment_walk_in(
    *, patient: Patient, doctor: Membership, actor: User | ApiKey, reason: str = ""
) -> Appointment:
    """A patient without an appointment joins today's queue for a doctor, with a token."""
    _require_doctor(doctor)
    if patient.is_archived:
        raise DomainError("This patient is archived. Restore the record first.", code="archived")
    now = timezone.now()
    appointment = Appointment(
        clinic_id=doctor.clinic_id,
        patient=patient,
        doctor=doctor,
        kind=AppointmentKind.WALK_IN,
        status=AppointmentStatus.CHECKED_IN,
        starts_at=now,
        ends_at=now,
        checked_in_at=now,
        reason=(reason or "").strip()[:MAX_REASON],
        booked_by=actor if isinstance(actor, User) else None,  # not an API key
    )
    appointment.token_number = _next_token(appointment, now)
    appointment.save()
    audit_record(
        clinic=doctor.clinic_id,
        actor=actor,
        action=Actions.APPOINTMENT_WALK_IN,
        target=appointment,
        patient_id=patient.pk,
        data={"doctor_id": doctor.pk, "token": appointment.token_number},
    )
    return appointment


@transaction.atomic
def appointment_mark_no_show(*, appointment: Appointment, actor: User) -> Appointment:
    """The patient did not come. Only once the appointment's time has begun."""
    appointment = _locked(appointment)
    _require_status(appointment, (AppointmentStatus.BOOKED,), "mark as not come")
    now = timezone.now()
    if appointment.starts_at > now:
        raise DomainError(
            "The appointment has not started yet. Cancel it instead.", code="not_started"
        )
    appointment.status = AppointmentStatus.NO_SHOW
    appointment.no_show_at = now
    appointment.save(update_fields=["status", "no_show_at"])
    audit_record(
        clinic=appointment.clinic_id,
        actor=actor,
        action=Actions.APPOINTMENT_NO_SHOW,
        target=appointment,
        patient_id=appointment.patient_id,
    )
    care_event(events.APPOINTMENT_NO_SHOW, appointment=appointment)
    return appointment


@transaction.atomic
def appointment_start(*, appointment: Appointment, actor: User) -> Appointment:
    """The doctor calls the patient in."""
    appointment = _locked(appointment)
    _require_status(appointment, (AppointmentStatus.CHECKED_IN,), "start")
    appointment.status = AppointmentStatus.IN_CONSULTATION
    appointment.started_at = timezone.now()
    appointment.save(update_fields=["status", "started_at"])
    audit_record(
        clinic=appointment.clinic_id,
        actor=actor,
        action=Actions.APPOINTMENT_STARTED,
        target=appointment,
        patient_id=appointment.patient_id,
    )
    return appointment


@transaction.atomic
def appointment_complete(*, appointment: Appointment, actor: User) -> Appointment:
    """The consultation is over."""
    appointment = _locked(appointment)
    _require_status(appointment, (AppointmentStatus.IN_CONSULTATION,), "complete")
    appointment.status = AppointmentStatus.COMPLETED
    appointment.completed_at = timezone.now()
    appointment.save(update_fields=["status", "completed_at"])
    audit_record(
        clinic=appointment.clinic_id,
        actor=actor,
        action=Actions.APPOINTMENT_COMPLETED,
        target=appointment,
        patient_id=appointment.patient_id,
    )
    care_event(events.APPOINTMENT_COMPLETED, appointment=appointment)
    return appointment


__all__ = [
    "ACTIVE_APPOINTMENT_STATUSES",
    "SessionInput",
    "appointment_book",
    "appointment_cancel",
    "appointment_check_in",
    "appointment_complete",
    "appointment_mark_no_show",
    "appointment_reschedule",
    "appointment_start",
    "appointment_walk_in",
    "doctor_leave_add",
    "doctor_leave_remove",
    "working_hours_set",
]
