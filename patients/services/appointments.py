"""Writes for the clinic's day: booking and the queue (doctors' hours and leave are in
`doctor_hours`, whose names stay importable from here).

A doctor is never double-booked. Every booking and rescheduling takes a row lock on the
doctor's membership first, so two front-desk users booking the same slot take turns and the
second sees the first's booking; on PostgreSQL an exclusion constraint backs this up.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinics.actors import resolve
from clinics.audit import Actions, audit_record
from clinics.dates import beyond_horizon_message, last_bookable_day
from clinics.errors import Conflict, DomainError, NotAllowed
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
    Patient,
)
from patients.selectors.appointments import (
    active_bookings,
    doctor_busy,
    doctor_leaves,
    doctor_sessions,
)
from patients.services.doctor_hours import (
    DOCTOR_ROLES,
    SessionInput,
    _aware,
    _lock_doctor,
    _require_doctor,
    doctor_leave_add,
    doctor_leave_remove,
    working_hours_set,
)
from patients.slots import RefusalCode, booking_refusal, queue_refusal

MAX_REASON = 200
# Refusals an owner or the doctor may override with a reason: the doctor's own time. A slot
# someone else holds, a time in the past or past the booking horizon never is.
OVERRIDABLE = frozenset(
    {RefusalCode.OUTSIDE_HOURS, RefusalCode.LEAVE, RefusalCode.BLOCKED, RefusalCode.OFF_GRID}
)
OVERRIDE_HINT = " The owner or the doctor may go ahead anyway, giving a reason."


def _override_reason(actor: User | ApiKey, doctor: Membership, reason: str) -> str:
    """The reason for going outside the doctor's hours, once it is checked that the actor may:
    the clinic's owner, or that doctor. '' when no reason is given."""
    reason = " ".join((reason or "").split())[:MAX_REASON]
    if not reason:
        return ""
    membership = resolve(actor, clinic_id=doctor.clinic_id).membership
    if membership is None or not (membership.role == Role.OWNER or membership.pk == doctor.pk):
        raise NotAllowed(
            "Only the owner or the doctor can go outside the doctor's hours.",
            field="override_reason",
        )
    return reason


def _check_in_queue_hours(doctor: Membership, now: datetime, override: str) -> str:
    """A patient joins the queue only while the doctor sees patients today (unless overridden).
    Returns the override reason when it was needed, else ''."""
    start, end = now, now + timedelta(days=1)
    refusal = queue_refusal(
        now=now,
        tz=doctor.clinic.tzinfo,
        sessions=doctor_sessions(doctor),
        busy=doctor_leaves(doctor, start - timedelta(days=1), end),
        doctor=f"Dr {doctor.user.full_name}",
    )
    if refusal is None:
        return ""
    if not override:
        raise Conflict(refusal.message + OVERRIDE_HINT, field="doctor", code=refusal.code.value)
    return override


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
    override: str = "",
) -> str:
    """Refuse a time the doctor cannot be booked at; returns the override reason when it was
    needed (and allowed), else ''."""
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
    if refusal and override and refusal.code in OVERRIDABLE:
        # Outside the doctor's hours on purpose: only another booking stands in the way.
        taken = active_bookings(doctor).filter(starts_at__lt=ends_at, ends_at__gt=starts_at)
        if exclude_appointment_id:
            taken = taken.exclude(pk=exclude_appointment_id)
        if taken.exists():
            raise Conflict(
                "This time overlaps another booking. Please choose another time.",
                field="starts_at",
                code=RefusalCode.BOOKED.value,
            )
        return override
    if refusal:
        # The refusal's code (booked, past, outside_hours, ...) tells API clients what to do.
        hint = OVERRIDE_HINT if refusal.code in OVERRIDABLE else ""
        raise Conflict(refusal.message + hint, field="starts_at", code=refusal.code.value)
    return ""


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
    actor: User | ApiKey | None,
    starts_at: datetime,
    reason: str = "",
    override_reason: str = "",
    by_patient: bool = False,
) -> Appointment:
    """Book one of the doctor's free slots for a patient (`by_patient`: they chose it
    themselves, on WhatsApp, and were answered there; the care event says so).

    The owner or the doctor may book outside the doctor's hours (or on leave, or off the slot
    grid) by giving `override_reason`, which is kept on the appointment and audited.
    """
    _require_doctor(doctor)
    if patient.is_archived:
        raise DomainError("This patient is archived. Restore the record to book.", code="archived")
    _aware(starts_at, "starts_at")
    override = _override_reason(actor, doctor, override_reason)
    doctor = _lock_doctor(doctor)
    ends_at = _slot_end(doctor, starts_at)
    override = _check_bookable(doctor, starts_at, ends_at, override=override)
    appointment = Appointment(
        clinic_id=doctor.clinic_id,
        patient=patient,
        doctor=doctor,
        kind=AppointmentKind.BOOKED,
        status=AppointmentStatus.BOOKED,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=(reason or "").strip()[:MAX_REASON],
        override_reason=override,
        booked_by=actor if isinstance(actor, User) else None,  # not an API key
    )
    _save_booking(appointment)
    audit_record(
        clinic=doctor.clinic_id,
        actor=actor,
        action=Actions.APPOINTMENT_BOOKED,
        target=appointment,
        patient_id=patient.pk,
        data={"doctor_id": doctor.pk, "starts_at": starts_at, **_override_data(override)},
    )
    care_event(events.APPOINTMENT_BOOKED, appointment=appointment, by_patient=by_patient)
    return appointment


def _note(text: str) -> str:
    """A note for the patient on one line (it goes into a WhatsApp template value)."""
    return " ".join((text or "").split())[:MAX_REASON]


def _note_data(note: str) -> dict:
    """That the patient was told why, for the audit trail: the words went to the patient in a
    message (kept with the messages), never into the audit trail, which holds no free text."""
    return {"patient_told": True} if _note(note) else {}


def _override_data(override: str) -> dict:
    # The reason is stored on the appointment; the audit trail says only that there was one.
    return {"override": True} if override else {}


def _locked(appointment: Appointment) -> Appointment:
    return Appointment.objects.select_for_update().select_related("doctor").get(pk=appointment.pk)


def _require_status(appointment: Appointment, allowed: tuple[str, ...], doing: str) -> None:
    if appointment.status not in allowed:
        raise Conflict(
            f"Cannot {doing}: this appointment is {appointment.get_status_display().lower()}."
        )


@transaction.atomic
def appointment_reschedule(
    *,
    appointment: Appointment,
    actor: User | ApiKey | None,
    starts_at: datetime,
    patient_note: str = "",
    by_patient: bool = False,
) -> Appointment:
    """Move a booked appointment to another free slot of the same doctor.

    The care event carries who moved it (`by_patient`: the patient chose the time, on
    WhatsApp) and `patient_note`, the reason the clinic chose to tell the patient."""
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
        data={"from": old, "to": starts_at, **_note_data(patient_note)},
    )
    care_event(
        events.APPOINTMENT_RESCHEDULED,
        appointment=appointment,
        previous_starts_at=old,
        by_patient=by_patient,
        patient_note=_note(patient_note),
    )
    return appointment


@transaction.atomic
def appointment_cancel(
    *,
    appointment: Appointment,
    actor: User | ApiKey | None,
    reason: str,
    patient_note: str = "",
    by_patient: bool = False,
) -> Appointment:
    """Cancel an appointment (the slot becomes free). A reason is required.

    `reason` is the clinic's own record; `patient_note` is what the clinic chose to tell the
    patient (carried by the care event with `by_patient`, see `appointment_reschedule`)."""
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
        data=_note_data(patient_note),
    )
    care_event(
        events.APPOINTMENT_CANCELLED,
        appointment=appointment,
        by_patient=by_patient,
        patient_note=_note(patient_note),
    )
    return appointment


def _next_token(appointment: Appointment, now: datetime) -> int:
    day = now.astimezone(appointment.doctor.clinic.tzinfo).date()
    return counter_next(
        clinic_id=appointment.clinic_id, name=f"token:{appointment.doctor_id}:{day.isoformat()}"
    )


@transaction.atomic
def appointment_check_in(
    *, appointment: Appointment, actor: User | ApiKey, override_reason: str = ""
) -> Appointment:
    """The patient has arrived: they join the doctor's queue with the next token number.

    Only while the doctor sees patients today; the owner or the doctor may override that with
    a reason (the doctor's hours or leave may have changed since the booking)."""
    appointment = _locked(appointment)
    _require_status(appointment, (AppointmentStatus.BOOKED,), "check in")
    now = timezone.now()
    doctor = Membership.objects.select_related("user", "clinic").get(pk=appointment.doctor_id)
    local_today = now.astimezone(doctor.clinic.tzinfo).date()
    if appointment.starts_at.astimezone(doctor.clinic.tzinfo).date() != local_today:
        raise DomainError("Only today's appointments can be checked in.", code="not_today")
    override = _check_in_queue_hours(doctor, now, _override_reason(actor, doctor, override_reason))
    appointment.status = AppointmentStatus.CHECKED_IN
    appointment.checked_in_at = now
    appointment.token_number = _next_token(appointment, now)
    fields = ["status", "checked_in_at", "token_number"]
    if override:
        appointment.override_reason = override
        fields.append("override_reason")
    appointment.save(update_fields=fields)
    audit_record(
        clinic=appointment.clinic_id,
        actor=actor,
        action=Actions.APPOINTMENT_CHECKED_IN,
        target=appointment,
        patient_id=appointment.patient_id,
        data={"token": appointment.token_number, **_override_data(override)},
    )
    return appointment


@transaction.atomic
def appointment_walk_in(
    *,
    patient: Patient,
    doctor: Membership,
    actor: User | ApiKey,
    reason: str = "",
    override_reason: str = "",
) -> Appointment:
    """A patient without an appointment joins today's queue for a doctor, with a token.

    Only while the doctor sees patients today (a session left that is not leave); the owner or
    the doctor may override that with a reason, kept on the appointment and audited."""
    _require_doctor(doctor)
    if patient.is_archived:
        raise DomainError("This patient is archived. Restore the record first.", code="archived")
    now = timezone.now()
    override = _check_in_queue_hours(doctor, now, _override_reason(actor, doctor, override_reason))
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
        override_reason=override,
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
        data={
            "doctor_id": doctor.pk,
            "token": appointment.token_number,
            **_override_data(override),
        },
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
    "DOCTOR_ROLES",
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
