"""Writes for doctors' weekly hours and leave, and what every write to a doctor's diary shares:
the doctor check and the lock on the doctor's row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from itertools import pairwise

from django.db import transaction
from django.utils import timezone

from clinics.audit import Actions, audit_record
from clinics.errors import Conflict, DomainError, ValidationFailed
from clinics.models import Membership, User
from clinics.roles import Role
from patients.models import AppointmentStatus, DoctorLeave, LeaveKind, WorkingHours
from patients.selectors.appointments import active_bookings
from patients.slots import Session

DOCTOR_ROLES = (Role.DOCTOR, Role.OWNER)


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
