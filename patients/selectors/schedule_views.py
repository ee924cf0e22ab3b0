"""Reads for the scheduling pages: the clinic's day, a doctor's week, the slot picker, leave.

Each read loads whole sets in a fixed number of queries (doctors, their hours, their leave,
the appointments) and computes free slots with the pure functions of `patients.slots`, so a
busy day costs the same number of queries as a quiet one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import QuerySet

from clinics.models import Membership
from clinics.roles import Role
from clinics.selectors import doctors
from patients.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    DoctorLeave,
    WorkingHours,
)
from patients.selectors.appointments import (
    DayAppointment,
    day_view_appointments,
    doctor_sessions,
    former_doctors,
    local_day_bounds,
)
from patients.slots import Busy, Session, Slot, day_slots, free_slots

DOCTOR_ROLES = (Role.DOCTOR, Role.OWNER)


@dataclass
class DoctorDay:
    """One doctor's local day: sessions of that weekday, leave, appointments and free slots."""

    doctor: Membership
    sessions: list[Session] = field(default_factory=list)
    leaves: list[DoctorLeave] = field(default_factory=list)
    appointments: list[DayAppointment] = field(default_factory=list)
    free: list[Slot] = field(default_factory=list)


@dataclass
class DoctorWeekDay:
    day: date
    appointments: list[Appointment]
    booked: int
    free: int
    works: bool
    on_leave: bool


def schedule_doctor(membership_id: int) -> Membership:
    """A doctor of the clinic (also a former one, whose appointments may still be on the books).

    Raises Membership.DoesNotExist for anyone else, including other clinics' members.
    """
    return (
        Membership.objects.select_related("user", "clinic")
        .filter(role__in=DOCTOR_ROLES)
        .get(pk=membership_id)
    )


def doctor_choices() -> QuerySet[Membership]:
    """The doctors who can be booked: active doctors and owners, by name."""
    return doctors()


def _busy(
    leaves: list[DoctorLeave], appointments: list[Appointment] | list[DayAppointment]
) -> list[Busy]:
    busy = [Busy(start=x.starts_at, end=x.ends_at, reason=x.kind) for x in leaves]
    busy += [
        Busy(start=a.starts_at, end=a.ends_at, reason="appointment")
        for a in appointments
        if a.kind == AppointmentKind.BOOKED
        and a.status in ACTIVE_APPOINTMENT_STATUSES
        and a.ends_at > a.starts_at
    ]
    return busy


def _session(h: WorkingHours) -> Session:
    return Session(
        weekday=h.weekday, start=h.start_time, end=h.end_time, slot_minutes=h.slot_minutes
    )


def clinic_day(
    *, day: date, tz, now: datetime, doctor: Membership | None = None
) -> list[DoctorDay]:
    """Every doctor's day (or one doctor's) in four queries, whatever the number of bookings.

    Doctors who no longer work here still get a column when they have appointments that day,
    so nobody's booking is hidden from the front desk (reading them is one more query, only on
    such a day).
    """
    if doctor is None:
        columns = {d.pk: DoctorDay(doctor=d) for d in doctor_choices()}
    else:
        columns = {doctor.pk: DoctorDay(doctor=doctor)}
    start, end = local_day_bounds(day, tz)

    appointments = day_view_appointments(day=day, tz=tz, doctor=doctor)
    former = former_doctors(appointments, columns.keys())
    for appointment in appointments:
        column = columns.get(appointment.doctor_id)
        if column is None:
            column = columns[appointment.doctor_id] = DoctorDay(
                doctor=former[appointment.doctor_id]
            )
        column.appointments.append(appointment)

    ids = list(columns)
    hours = WorkingHours.objects.filter(doctor_id__in=ids, weekday=day.weekday()).order_by(
        "start_time"
    )
    for h in hours:
        columns[h.doctor_id].sessions.append(_session(h))
    leaves = DoctorLeave.objects.filter(
        doctor_id__in=ids, starts_at__lt=end, ends_at__gt=start
    ).order_by("starts_at")
    for leave in leaves:
        columns[leave.doctor_id].leaves.append(leave)

    for column in columns.values():
        column.free = day_slots(
            day=day,
            tz=tz,
            sessions=column.sessions,
            busy=_busy(column.leaves, column.appointments),
            now=now,
        )
    return list(columns.values())


def doctor_week(*, doctor: Membership, start_day: date, tz, now: datetime) -> list[DoctorWeekDay]:
    """Seven days of one doctor: appointments, how many are booked and how many slots are free."""
    days = 7
    start, _ = local_day_bounds(start_day, tz)
    _, end = local_day_bounds(start_day + timedelta(days=days - 1), tz)
    sessions = doctor_sessions(doctor)
    leaves = list(
        DoctorLeave.objects.filter(doctor=doctor, starts_at__lt=end, ends_at__gt=start).order_by(
            "starts_at"
        )
    )
    appointments = list(
        Appointment.objects.select_related("patient")
        .filter(doctor=doctor, starts_at__gte=start, starts_at__lt=end)
        .order_by("starts_at", "id")
    )
    free = free_slots(
        start_day=start_day,
        days=days,
        tz=tz,
        sessions=sessions,
        busy=_busy(leaves, appointments),
        now=now,
    )
    by_day: dict[date, list[Appointment]] = {}
    for appointment in appointments:
        by_day.setdefault(appointment.starts_at.astimezone(tz).date(), []).append(appointment)
    working_days = {s.weekday for s in sessions}
    result = []
    for offset in range(days):
        day = start_day + timedelta(days=offset)
        day_start, day_end = local_day_bounds(day, tz)
        listed = by_day.get(day, [])
        result.append(
            DoctorWeekDay(
                day=day,
                appointments=listed,
                booked=sum(1 for a in listed if a.status in ACTIVE_APPOINTMENT_STATUSES),
                free=len(free[day]),
                works=day.weekday() in working_days,
                on_leave=any(x.starts_at < day_end and x.ends_at > day_start for x in leaves),
            )
        )
    return result


@dataclass
class SlotChoices:
    """The free slots of one doctor's day, and why there are none when there are none."""

    slots: list[Slot]
    note: str = ""


def slot_choices(*, doctor: Membership, day: date, tz, now: datetime) -> SlotChoices:
    """What the booking form offers for a doctor and a date."""
    start, end = local_day_bounds(day, tz)
    sessions = [s for s in doctor_sessions(doctor) if s.weekday == day.weekday()]
    leaves = list(DoctorLeave.objects.filter(doctor=doctor, starts_at__lt=end, ends_at__gt=start))
    booked = list(
        Appointment.objects.filter(
            doctor=doctor,
            kind=AppointmentKind.BOOKED,
            status__in=ACTIVE_APPOINTMENT_STATUSES,
            starts_at__lt=end,
            ends_at__gt=start,
        ).only("kind", "status", "starts_at", "ends_at")
    )
    slots = day_slots(day=day, tz=tz, sessions=sessions, busy=_busy(leaves, booked), now=now)
    if slots:
        return SlotChoices(slots)
    name = f"Dr {doctor.user.full_name}"
    if day < now.astimezone(tz).date():
        note = "This day is in the past."
    elif not sessions:
        note = f"{name} does not see patients on {day:%A}s."
    elif any(x.starts_at <= start and x.ends_at >= end for x in leaves):
        note = f"{name} is on leave that day."
    else:
        note = f"{name} has no free slots left that day."
    return SlotChoices([], note)


def upcoming_leave(*, doctor: Membership, now: datetime) -> QuerySet[DoctorLeave]:
    """The doctor's leave and blocked time that has not ended yet, soonest first."""
    return DoctorLeave.objects.filter(doctor=doctor, ends_at__gt=now).order_by("starts_at")


def doctor_leave(*, doctor: Membership, leave_id: int) -> DoctorLeave:
    """One leave of this doctor (raises DoctorLeave.DoesNotExist)."""
    return DoctorLeave.objects.get(doctor=doctor, pk=leave_id)


def booked_in_period(
    *, doctor: Membership, starts_at: datetime, ends_at: datetime
) -> QuerySet[Appointment]:
    """Booked appointments in a period: the ones that stand in the way of leave."""
    return (
        Appointment.objects.select_related("patient")
        .filter(
            doctor=doctor,
            kind=AppointmentKind.BOOKED,
            status=AppointmentStatus.BOOKED,
            starts_at__lt=ends_at,
            ends_at__gt=starts_at,
        )
        .order_by("starts_at")
    )


def appointment_for_page(appointment_id: int) -> Appointment:
    """One appointment with its patient and doctor (raises Appointment.DoesNotExist)."""
    return Appointment.objects.select_related("patient", "doctor__user", "doctor__clinic").get(
        pk=appointment_id
    )


def weekly_hours(doctor: Membership) -> QuerySet[WorkingHours]:
    """The doctor's weekly sessions, in order."""
    return WorkingHours.objects.filter(doctor=doctor).order_by("weekday", "start_time")
