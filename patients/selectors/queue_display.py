"""What the waiting room's screen shows: per doctor, the tokens being seen now and the next
ones. Only token numbers, the doctor's name and room: nothing about a patient."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import QuerySet

from clinics.models import Membership
from patients.models import Appointment, AppointmentStatus, DisplayLink, DoctorRoom
from patients.selectors.appointments import local_day_bounds

NEXT_SHOWN = 5


@dataclass
class DisplayBoard:
    doctor_id: int
    doctor: str  # "Dr Asha Rao"
    room: str
    now: list[int] = field(default_factory=list)  # tokens with the doctor, last called first
    next: list[int] = field(default_factory=list)  # the next waiting tokens, in order
    waiting: int = 0


def doctor_rooms(doctor_ids: Iterable[int]) -> dict[int, str]:
    """Each doctor's room ("Room 2"), for those who have one. One query."""
    return dict(
        DoctorRoom.objects.filter(doctor_id__in=list(doctor_ids))
        .exclude(room="")
        .values_list("doctor_id", "room")
    )


def waiting_room(*, day: date, tz) -> list[DisplayBoard]:
    """Today's queue as the waiting room sees it, one board per doctor with someone waiting
    or with them, by the doctors' names. Three queries."""
    start, end = local_day_bounds(day, tz)
    rows = (
        Appointment.objects.filter(
            starts_at__gte=start,
            starts_at__lt=end,
            status__in=[AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_CONSULTATION],
            token_number__isnull=False,
        )
        .order_by("token_number", "checked_in_at")
        .values_list("doctor_id", "status", "token_number", "started_at")
    )
    by_doctor: dict[int, list[tuple]] = {}
    for row in rows:
        by_doctor.setdefault(row[0], []).append(row)
    if not by_doctor:
        return []
    names = {
        d.pk: f"Dr {d.user.full_name}"
        for d in Membership.objects.select_related("user")
        .filter(pk__in=list(by_doctor))
        .order_by("user__full_name", "pk")
    }
    rooms = doctor_rooms(by_doctor)
    boards = []
    for doctor_id, name in names.items():
        board = DisplayBoard(doctor_id=doctor_id, doctor=name, room=rooms.get(doctor_id, ""))
        called = sorted(
            (r for r in by_doctor[doctor_id] if r[1] == AppointmentStatus.IN_CONSULTATION),
            key=lambda r: r[3] or start,
            reverse=True,
        )
        board.now = [r[2] for r in called]
        waiting = [r[2] for r in by_doctor[doctor_id] if r[1] == AppointmentStatus.CHECKED_IN]
        board.next, board.waiting = waiting[:NEXT_SHOWN], len(waiting)
        boards.append(board)
    return boards


def display_link_list() -> QuerySet[DisplayLink]:
    """The clinic's screen links, open ones first, newest first, with who made them."""
    return DisplayLink.objects.select_related("created_by").order_by("revoked_at", "-created_at")
