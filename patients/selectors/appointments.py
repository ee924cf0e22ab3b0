"""Reads for the clinic's day: doctors' weekly hours, busy periods, free slots and the queue."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from clinics.models import Membership
from patients.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    DoctorLeave,
    Patient,
    WorkingHours,
)
from patients.slots import Busy, Session, Slot, day_slots, free_slots


def doctor_sessions(doctor: Membership) -> list[Session]:
    """The doctor's weekly sessions, in the clinic's local time."""
    return [
        Session(weekday=h.weekday, start=h.start_time, end=h.end_time, slot_minutes=h.slot_minutes)
        for h in WorkingHours.objects.filter(doctor=doctor).order_by("weekday", "start_time")
    ]


def doctor_busy(
    doctor: Membership,
    start: datetime,
    end: datetime,
    *,
    exclude_appointment_id: int | None = None,
) -> list[Busy]:
    """Leave, blocked time and active booked appointments overlapping [start, end)."""
    leaves = DoctorLeave.objects.filter(doctor=doctor, starts_at__lt=end, ends_at__gt=start)
    busy = [Busy(start=x.starts_at, end=x.ends_at, reason=x.kind) for x in leaves]
    booked = active_bookings(doctor).filter(starts_at__lt=end, ends_at__gt=start)
    if exclude_appointment_id:
        booked = booked.exclude(pk=exclude_appointment_id)
    busy += [
        Busy(start=s, end=e, reason="appointment")
        for s, e in booked.values_list("starts_at", "ends_at")
    ]
    return busy


def doctor_leaves(doctor: Membership, start: datetime, end: datetime) -> list[Busy]:
    """The doctor's leave and blocked time overlapping [start, end)."""
    leaves = DoctorLeave.objects.filter(doctor=doctor, starts_at__lt=end, ends_at__gt=start)
    return [Busy(start=x.starts_at, end=x.ends_at, reason=x.kind) for x in leaves]


def active_bookings(doctor: Membership) -> QuerySet[Appointment]:
    """Booked (not walk-in) appointments that hold the doctor's time."""
    return Appointment.objects.filter(
        doctor=doctor, kind=AppointmentKind.BOOKED, status__in=ACTIVE_APPOINTMENT_STATUSES
    )


def local_day_bounds(day: date, tz) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day as aware datetimes."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def doctor_free_slots(doctor: Membership, day: date, *, now: datetime | None = None) -> list[Slot]:
    """The doctor's bookable slots on a local day of their clinic."""
    tz = doctor.clinic.tzinfo
    start, end = local_day_bounds(day, tz)
    return day_slots(
        day=day,
        tz=tz,
        sessions=doctor_sessions(doctor),
        busy=doctor_busy(doctor, start, end),
        now=now or timezone.now(),
    )


def day_appointments(*, day: date, tz, doctor: Membership | None = None) -> QuerySet[Appointment]:
    """A local day's appointments and walk-ins, with patient and doctor, in time order."""
    start, end = local_day_bounds(day, tz)
    qs = Appointment.objects.select_related("patient", "doctor__user").filter(
        starts_at__gte=start, starts_at__lt=end
    )
    if doctor is not None:
        qs = qs.filter(doctor=doctor)
    return qs.order_by("starts_at", "id")


_STATUS_LABELS = dict(AppointmentStatus.choices)


@dataclass(frozen=True, slots=True)
class DayPatient:
    """The patient of an appointment on the day view or the queue: only what they show."""

    pk: int
    full_name: str
    number: int

    patient_number = Patient.patient_number  # the same property: it reads only `number`


@dataclass(frozen=True, slots=True)
class DayAppointment:
    """An appointment as the day view and the queue read it: the columns their cards, the grid
    and the free slots need, with the attribute names of `Appointment` (so the shared
    templates render it too). A busy day has 150 of them; model instances with their patient,
    doctor and user cost five times as much to load."""

    pk: int
    doctor_id: int
    patient_id: int
    kind: str
    status: str
    starts_at: datetime
    ends_at: datetime
    token_number: int | None
    reason: str
    cancel_reason: str
    checked_in_at: datetime | None
    started_at: datetime | None
    patient_confirmed_at: datetime | None
    patient: DayPatient

    def get_status_display(self) -> str:
        return _STATUS_LABELS.get(self.status, self.status)


def day_view_appointments(
    *, day: date, tz, doctor: Membership | None = None
) -> list[DayAppointment]:
    """A local day's appointments and walk-ins with their patient's name and number, in time
    order, as plain rows. One query."""
    return _day_rows(_day_queryset(day, tz, doctor).order_by("starts_at", "id"))


def queue(*, day: date, tz, doctor: Membership | None = None) -> list[DayAppointment]:
    """Who is waiting or with a doctor today, by doctor and token (the order they arrived in).
    One query."""
    return _day_rows(
        _day_queryset(day, tz, doctor)
        .filter(status__in=[AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_CONSULTATION])
        .order_by("doctor_id", "token_number", "checked_in_at")
    )


def former_doctors(
    appointments: Iterable[DayAppointment], known: Collection[int]
) -> dict[int, Membership]:
    """The doctors of these appointments who are not among `known` (the clinic's current
    doctors): people who left or stopped seeing patients. Their appointments still show, so
    nobody's booking is hidden. One query, only when there are such doctors."""
    missing = {a.doctor_id for a in appointments} - set(known)
    if not missing:
        return {}
    return Membership.objects.select_related("user").in_bulk(missing)


def _day_queryset(day: date, tz, doctor: Membership | None) -> QuerySet[Appointment]:
    start, end = local_day_bounds(day, tz)
    qs = Appointment.objects.filter(starts_at__gte=start, starts_at__lt=end)
    return qs if doctor is None else qs.filter(doctor=doctor)


def _day_rows(qs: QuerySet[Appointment]) -> list[DayAppointment]:
    rows = qs.values_list(
        "id",
        "doctor_id",
        "patient_id",
        "kind",
        "status",
        "starts_at",
        "ends_at",
        "token_number",
        "reason",
        "cancel_reason",
        "checked_in_at",
        "started_at",
        "patient_confirmed_at",
        "patient__full_name",
        "patient__number",
    )
    return [DayAppointment(*row[:13], patient=DayPatient(row[2], row[13], row[14])) for row in rows]


def doctor_free_slots_range(
    doctor: Membership, start_day: date, days: int, *, now: datetime | None = None
) -> dict[date, list[Slot]]:
    """The doctor's bookable slots on `days` local days from `start_day`, every day a key.

    Three queries (hours, leave, bookings) whatever the number of days.
    """
    tz = doctor.clinic.tzinfo
    start, _ = local_day_bounds(start_day, tz)
    _, end = local_day_bounds(start_day + timedelta(days=days - 1), tz)
    return free_slots(
        start_day=start_day,
        days=days,
        tz=tz,
        sessions=doctor_sessions(doctor),
        busy=doctor_busy(doctor, start, end),
        now=now or timezone.now(),
    )


def appointment_detail(*, appointment_id: int) -> Appointment:
    """One appointment of the clinic with its patient and doctor; raises DoesNotExist."""
    return Appointment.objects.select_related("patient", "doctor__user").get(pk=appointment_id)
