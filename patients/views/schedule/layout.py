"""How the day view lays a day out: each doctor's column and list, and the clinic's grid.

The grid's cells, its rows and the lists' entries are plain dictionaries: the template engine
finds a dictionary's keys faster than an object's attributes, and a busy day's grid and lists
are about 300 of them. Each appointment's card is rendered before (patients.views.schedule.
cards); a cell and a stretch of a list hold their cards' markup side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from math import ceil
from typing import Literal, TypedDict

from django.http import HttpRequest
from django.utils.safestring import SafeString

from clinics.models import Membership
from patients.models import AppointmentStatus
from patients.selectors.appointments import local_day_bounds
from patients.selectors.schedule_views import DoctorDay
from patients.slots import Slot
from patients.views.schedule.cards import Cards
from patients.views.schedule.common import (
    AppointmentRow,
    SlotLink,
    appointment_row,
    can_manage_hours,
    clock,
    doctor_name,
    leave_label,
    minutes_label,
    slot_links,
)

_DAY_MINUTES = 24 * 60
# A cell's state is a class name in the markup: marked safe, so the grid's hundreds of cells
# skip escaping it.
_ON, _OFF, _LEAVE = SafeString("on"), SafeString("off"), SafeString("leave")


class AgendaEntry(TypedDict, total=False):
    """A stretch of a doctor's list: appointments in a row, free times in a row, or leave."""

    kind: Literal["cards", "free", "leave"]
    cards: SafeString
    slots: list[SlotLink]
    text: str


class GridCell(TypedDict):
    state: Literal["on", "off", "leave"]  # in a session, outside one, or on leave
    note: str  # where leave starts: "On leave" or "Blocked"
    cards: SafeString
    slots: list[SlotLink]
    filled: bool  # shows a note, cards or free slots


class GridRow(TypedDict):
    label: str
    cells: list[GridCell]
    gap: bool  # a folded quiet stretch, with no cells


@dataclass
class DoctorColumn:
    doctor: Membership
    name: str
    works: bool
    hours: str
    agenda: list[AgendaEntry]
    free_count: int
    booked_count: int
    can_manage_hours: bool
    rows: dict[int, AppointmentRow] = field(default_factory=dict)
    # The doctor's next waiting token (lowest token number), for "Call next"; None if nobody.
    next_waiting: AppointmentRow | None = None
    slot_links: list[tuple[Slot, SlotLink]] = field(default_factory=list)


# --- a doctor's column and list --------------------------------------------------------------


def doctor_column(
    request: HttpRequest,
    doctor_day: DoctorDay,
    *,
    cards: Cards,
    day: date,
    tz,
    today: date,
    now: datetime,
) -> DoctorColumn:
    """One doctor's day: the appointments with their cards, the free slots, and the list."""
    doctor = doctor_day.doctor
    rows = {a.pk: appointment_row(a, tz=tz, today=today, now=now) for a in doctor_day.appointments}
    for row in rows.values():
        row.card = cards.card(row)
    links = list(
        zip(doctor_day.free, slot_links(request, doctor, doctor_day.free, tz), strict=True)
    )
    return DoctorColumn(
        doctor=doctor,
        name=doctor_name(doctor),
        works=bool(doctor_day.sessions),
        hours=", ".join(f"{clock(s.start)} to {clock(s.end)}" for s in doctor_day.sessions),
        agenda=_agenda(doctor_day, rows, links, day=day, tz=tz),
        free_count=len(links),
        booked_count=sum(1 for r in rows.values() if not r.is_closed),
        can_manage_hours=can_manage_hours(request, doctor),
        rows=rows,
        next_waiting=min(
            (r for r in rows.values() if r.appointment.status == AppointmentStatus.CHECKED_IN),
            key=lambda r: (r.appointment.token_number or 0, r.appointment.pk),
            default=None,
        ),
        slot_links=links,
    )


def _agenda(
    doctor_day: DoctorDay,
    rows: dict[int, AppointmentRow],
    links: list[tuple[Slot, SlotLink]],
    *,
    day: date,
    tz,
) -> list[AgendaEntry]:
    """The doctor's day in time order: leave first at a given time, then appointments, then
    free slots; neighbours of one kind share an entry."""
    day_start = local_day_bounds(day, tz)[0]
    events: list[tuple[datetime, int, object]] = [
        (a.starts_at, 1, a) for a in doctor_day.appointments
    ]
    events += [(slot.start, 2, link) for slot, link in links]
    events += [(max(x.starts_at, day_start), 0, x) for x in doctor_day.leaves]
    events.sort(key=lambda e: (e[0], e[1]))
    agenda: list[AgendaEntry] = []
    for _, order, item in events:
        last = agenda[-1] if agenda else None
        if order == 1:
            card = rows[item.pk].card
            if last is not None and last["kind"] == "cards":
                last["cards"] += card
            else:
                agenda.append({"kind": "cards", "cards": card})
        elif order == 2:
            if last is not None and last["kind"] == "free":
                last["slots"].append(item)
            else:
                agenda.append({"kind": "free", "slots": [item]})
        else:
            agenda.append({"kind": "leave", "text": _leave_text(item, day=day, tz=tz)})
    return agenda


def _leave_text(leave, *, day: date, tz) -> str:
    label = "On leave" if leave.kind == "leave" else leave.get_kind_display()
    text = f"{label}: {leave_label(leave, tz, day)}"
    return f"{text} ({leave.reason})" if leave.reason else text


# --- the clinic's grid -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    """The grid's times: `count` rows from `first` (minutes after midnight), `step` apart."""

    first: int
    step: int
    count: int

    def minute(self, index: int) -> int:
        return self.first + index * self.step

    def index(self, minute: int) -> int:
        return min(max((minute - self.first) // self.step, 0), self.count - 1)


def _local_minutes(value: datetime, day: date, tz) -> int:
    local = value.astimezone(tz)
    if local.date() < day:
        return 0
    if local.date() > day:
        return _DAY_MINUTES
    return local.hour * 60 + local.minute


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def clinic_grid(
    columns: list[DoctorColumn], days: list[DoctorDay], *, day: date, tz
) -> list[GridRow]:
    """Time rows (the smallest slot length apart) by doctor columns, quiet stretches folded."""
    span = _span(days, day=day, tz=tz)
    if span is None:
        return []
    moments = [
        datetime.combine(day, time(m // 60, m % 60), tzinfo=tz)
        for m in map(span.minute, range(span.count))
    ]
    by_column = [
        _column_cells(column, doctor_day, span, moments, day=day, tz=tz)
        for column, doctor_day in zip(columns, days, strict=True)
    ]
    return _fold_quiet_rows([list(cells) for cells in zip(*by_column, strict=True)], span)


def _span(days: list[DoctorDay], *, day: date, tz) -> _Span | None:
    """From the earliest session or appointment to the latest, in steps of the shortest slot."""
    starts, ends, steps = [], [], []
    for doctor_day in days:
        for session in doctor_day.sessions:
            starts.append(_minutes(session.start))
            ends.append(_minutes(session.end))
            steps.append(session.slot_minutes)
        for a in doctor_day.appointments:
            minute = _local_minutes(a.starts_at, day, tz)
            starts.append(minute)
            ends.append(max(minute + 1, _local_minutes(a.ends_at, day, tz)))
    if not starts:
        return None
    step = min(steps, default=15)
    first = min(starts) // step * step
    last = min(max(ends), _DAY_MINUTES)
    return _Span(first=first, step=step, count=max(1, ceil((last - first) / step)))


def _column_cells(
    column: DoctorColumn,
    doctor_day: DoctorDay,
    span: _Span,
    moments: list[datetime],
    *,
    day: date,
    tz,
) -> list[GridCell]:
    """One doctor's cells, top to bottom: their cards and free slots, in or out of a session,
    and on leave (named where it starts)."""
    cells: list[GridCell] = [
        {"state": _OFF, "note": "", "cards": SafeString(""), "slots": [], "filled": False}
        for _ in range(span.count)
    ]
    for appointment in doctor_day.appointments:
        cell = cells[span.index(_local_minutes(appointment.starts_at, day, tz))]
        cell["cards"] += column.rows[appointment.pk].card
    for slot, link in column.slot_links:
        cells[span.index(_local_minutes(slot.start, day, tz))]["slots"].append(link)
    sessions = [(_minutes(s.start), _minutes(s.end)) for s in doctor_day.sessions]
    previous_leave = None
    for index, cell in enumerate(cells):
        minute = span.minute(index)
        if any(start <= minute < end for start, end in sessions):
            cell["state"] = _ON
        at = moments[index]
        leave = next((x for x in doctor_day.leaves if x.starts_at <= at < x.ends_at), None)
        if leave is not None and cell["state"] == _ON:
            cell["state"] = _LEAVE
            if leave is not previous_leave:
                cell["note"] = "On leave" if leave.kind == "leave" else "Blocked"
        previous_leave = leave
        cell["filled"] = bool(cell["note"] or cell["cards"] or cell["slots"])
    return cells


def _is_quiet(cells: list[GridCell]) -> bool:
    return all(c["state"] == _OFF and not c["filled"] for c in cells)


def _fold_quiet_rows(table: list[list[GridCell]], span: _Span) -> list[GridRow]:
    """A row per time, with each run of rows where nobody works or is booked folded into one
    labelled row; a fold at the very end of the day is just the day ending, and goes."""
    rows: list[GridRow] = []
    gap_start = None
    for index, cells in enumerate(table):
        if _is_quiet(cells):
            gap_start = index if gap_start is None else gap_start
            continue
        if gap_start is not None:
            rows.append(_gap(span, gap_start, index))
            gap_start = None
        rows.append({"label": minutes_label(span.minute(index)), "cells": cells, "gap": False})
    return rows


def _gap(span: _Span, start: int, end: int) -> GridRow:
    label = f"{minutes_label(span.minute(start))} to {minutes_label(span.minute(end))}"
    return {"label": label, "cells": [], "gap": True}
