"""Why a requested time cannot be booked: one check in a fixed order, with a stable code and a
message a receptionist can read out."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from clinics.formatting import format_datetime
from patients.slots.finding import (
    _by_weekday,
    _earliest,
    _grid,
    _session_window,
    _sorted_busy,
    _sweep,
)
from patients.slots.values import (
    Busy,
    BusyReason,
    Refusal,
    RefusalCode,
    Session,
    _clock,
    _Entry,
    _Interval,
    _require_aware,
)

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _possessive(name: str) -> str:
    return f"{name}'s"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _duration(value: timedelta) -> str:
    minutes = int(value / timedelta(minutes=1))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [
        f"{count} {unit}{'' if count == 1 else 's'}"
        for count, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"))
        if count
    ]
    return " ".join(parts) or "a little"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _covered(windows: list[_Interval], start: datetime, end: datetime) -> bool:
    """Whether `[start, end)` lies inside the union of `windows`."""
    merged: list[_Interval] = []
    for window_start, window_end in sorted(windows):
        if merged and window_start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], window_end))
        else:
            merged.append((window_start, window_end))
    return any(ws <= start and end <= we for ws, we in merged)


def _off_grid_message(
    *,
    start: datetime,
    day: date,
    tz: tzinfo,
    day_sessions: list[Session],
    grid: list[_Entry],
    free: list[_Entry],
    doctor: str,
) -> str:
    when = format_datetime(start, tz)
    for slot_start, slot_end, _, slot_end_local in grid:
        if slot_start == start:
            minutes = int((slot_end - slot_start) / timedelta(minutes=1))
            return (
                f"Appointments at {when} last {minutes} minutes, so this one must end at "
                f"{_clock(slot_end_local)}."
            )
    session = day_sessions[0]
    for candidate in day_sessions:
        window_start, window_end = _session_window(day, candidate, tz)
        if window_start <= start < window_end:
            session = candidate
            break
    message = (
        f"{when} does not match {_possessive(doctor)} appointment slots: they are "
        f"{session.slot_minutes} minutes long, starting from {_clock(session.start)}."
    )
    position = bisect_right([entry[0] for entry in free], start)
    nearest = free[max(position - 1, 0) : position + 1]
    if nearest:
        times = _join([_clock(entry[2]) for entry in nearest])
        plural = "slots start" if len(nearest) > 1 else "slot starts"
        return f"{message} The nearest free {plural} at {times}."
    return f"{message} There are no free slots left that day."


def booking_refusal(
    *,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    sessions: Iterable[Session],
    busy: Iterable[Busy],
    now: datetime | None = None,
    min_notice: timedelta = timedelta(0),
    doctor: str = "the doctor",
) -> Refusal | None:
    """Why `[start, end)` cannot be booked, as a code and a receptionist's message; None if it can.

    A time can be booked exactly when it is one of `day_slots` for its clinic-local date (with the
    same arguments). When several reasons apply, the first in this order is given: the end is not
    after the start; in the past; too little notice; outside the doctor's working hours; on
    leave; blocked; already booked; other busy period; not on the slot grid (not a slot start of
    its session, or not exactly one slot long). `doctor` names the doctor in messages, for
    example "Dr Asha Rao". `now=None` skips the past and notice checks.
    """
    _require_aware(start, "start")
    _require_aware(end, "end")
    earliest = _earliest(now, min_notice)
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    when = format_datetime(start, tz)
    if end_utc <= start_utc:
        return Refusal(RefusalCode.INVALID_RANGE, "The appointment must end after it starts.")
    if now is not None:
        now_utc = now.astimezone(UTC)
        if start_utc < now_utc:
            return Refusal(RefusalCode.PAST, f"{when} is in the past. Please choose a later time.")
        if start_utc < now_utc + min_notice:
            return Refusal(
                RefusalCode.SHORT_NOTICE,
                f"{when} is too soon: appointments need at least {_duration(min_notice)} "
                f"notice. Please choose a time after {format_datetime(now_utc + min_notice, tz)}.",
            )

    day = start.astimezone(tz).date()
    weekday = _WEEKDAYS[day.weekday()]
    day_sessions = _by_weekday(sessions).get(day.weekday(), [])
    if not day_sessions:
        return Refusal(
            RefusalCode.OUTSIDE_HOURS,
            f"{when} is outside {_possessive(doctor)} working hours: {doctor} does not see "
            f"patients on {weekday}s.",
        )
    windows = [_session_window(day, session, tz) for session in day_sessions]
    if not _covered(windows, start_utc, end_utc):
        hours = _join(
            [
                f"{_clock(s.start)} to {_clock(s.end)}"
                for s in sorted(day_sessions, key=lambda s: (s.start, s.end))
            ]
        )
        return Refusal(
            RefusalCode.OUTSIDE_HOURS,
            f"{when} is outside {_possessive(doctor)} working hours. On {weekday}s "
            f"{doctor} sees patients {hours}.",
        )

    busy = list(busy)
    reasons = {
        b.reason
        for b in busy
        if b.start.astimezone(UTC) < end_utc and b.end.astimezone(UTC) > start_utc
    }
    if BusyReason.LEAVE in reasons:
        return Refusal(
            RefusalCode.LEAVE,
            f"{_capitalised(doctor)} is on leave at that time. Please choose another time.",
        )
    if BusyReason.BLOCKED in reasons:
        return Refusal(
            RefusalCode.BLOCKED,
            f"{_capitalised(_possessive(doctor))} calendar is blocked at that time. "
            "Please choose another time.",
        )
    if BusyReason.APPOINTMENT in reasons:
        return Refusal(RefusalCode.BOOKED, f"{when} is already booked. Please choose a free slot.")
    if reasons:
        return Refusal(
            RefusalCode.BUSY,
            f"{_capitalised(doctor)} is not available at that time. Please choose another time.",
        )

    grid = _grid(day, tz, day_sessions)
    if not any(entry[0] == start_utc and entry[1] == end_utc for entry in grid):
        free, _ = _sweep(grid, _sorted_busy(busy), 0, earliest)
        return Refusal(
            RefusalCode.OFF_GRID,
            _off_grid_message(
                start=start_utc,
                day=day,
                tz=tz,
                day_sessions=day_sessions,
                grid=grid,
                free=free,
                doctor=doctor,
            ),
        )
    return None


def explain_unbookable(
    *,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    sessions: Iterable[Session],
    busy: Iterable[Busy],
    now: datetime | None = None,
    min_notice: timedelta = timedelta(0),
    doctor: str = "the doctor",
) -> str | None:
    """A receptionist's message saying why `[start, end)` cannot be booked, or None if it can.

    Same rules and order as `booking_refusal`, which also gives a stable code.
    """
    refusal = booking_refusal(
        start=start,
        end=end,
        tz=tz,
        sessions=sessions,
        busy=busy,
        now=now,
        min_notice=min_notice,
        doctor=doctor,
    )
    return refusal.message if refusal else None


def is_bookable(
    *,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    sessions: Iterable[Session],
    busy: Iterable[Busy],
    now: datetime | None = None,
    min_notice: timedelta = timedelta(0),
) -> bool:
    """Whether `[start, end)` is exactly one free slot (see `booking_refusal` for the rules)."""
    return (
        booking_refusal(
            start=start,
            end=end,
            tz=tz,
            sessions=sessions,
            busy=busy,
            now=now,
            min_notice=min_notice,
        )
        is None
    )


def queue_refusal(
    *,
    now: datetime,
    tz: ZoneInfo,
    sessions: Iterable[Session],
    busy: Iterable[Busy],
    doctor: str = "the doctor",
) -> Refusal | None:
    """Why a patient cannot join the doctor's queue now, or None if they can.

    A patient may join while the doctor still has session time left today that is not leave or
    blocked (arriving before the first session is fine: they wait for it). `busy` should hold
    the doctor's leave and blocked periods of today; appointments in it are ignored.
    """
    _require_aware(now, "now")
    now_utc = now.astimezone(UTC)
    day = now.astimezone(tz).date()
    weekday = _WEEKDAYS[day.weekday()]
    day_sessions = _by_weekday(sessions).get(day.weekday(), [])
    if not day_sessions:
        return Refusal(
            RefusalCode.OUTSIDE_HOURS,
            f"{_capitalised(doctor)} does not see patients on {weekday}s.",
        )
    windows = [_session_window(day, session, tz) for session in day_sessions]
    left = [(max(start, now_utc), end) for start, end in windows if end > now_utc]
    if not left:
        last = max(end for _, end in windows).astimezone(tz)
        return Refusal(
            RefusalCode.OUTSIDE_HOURS,
            f"{_capitalised(_possessive(doctor))} last session today ended at {_clock(last)}.",
        )
    away = [
        (b.start.astimezone(UTC), b.end.astimezone(UTC), b.reason)
        for b in busy
        if b.reason in (BusyReason.LEAVE, BusyReason.BLOCKED)
    ]
    if all(_covered([(s, e) for s, e, _ in away], start, end) for start, end in left):
        on_leave = any(
            reason == BusyReason.LEAVE for s, e, reason in away if s < left[-1][1] and e > now_utc
        )
        return Refusal(
            RefusalCode.LEAVE if on_leave else RefusalCode.BLOCKED,
            f"{_capitalised(doctor)} is {'on leave' if on_leave else 'not available'} "
            "for the rest of today.",
        )
    return None
