"""Finding free slots: the session grid on the clinic's wall clock, then a sweep past the busy
periods (see the package docstring for the rules)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from patients.slots.values import (
    MAX_RANGE_DAYS,
    Busy,
    Session,
    Slot,
    _Entry,
    _Interval,
    _require_aware,
    _seconds,
)

_SECOND = timedelta(seconds=1)


# --- wall clock -> instants -------------------------------------------------------------------


def _boundary(wall: datetime, tz: tzinfo) -> tuple[datetime, datetime, bool]:
    """The moment the clinic's clock shows `wall`, as (UTC, clinic-local, whether it is shown).

    `wall` is a wall-clock reading: aware, in `tz`, with fold=0. A time shown twice means its first
    showing. A time the clock skips means the moment of the jump (and `shown` is False), found by
    bisecting to the second between the two readings the gap allows.
    """
    instant = wall.astimezone(UTC)
    local = instant.astimezone(tz)
    # Both are in the same tzinfo, so == compares the clock readings, as wanted here.
    if local == wall:
        return instant, local, True
    # In a gap, fold=0 reads the wall time with the offset from before the jump (a later instant)
    # and fold=1 with the offset from after it (an earlier one); the jump lies between them.
    low = wall.replace(fold=1).astimezone(UTC)
    high = instant
    after = local.utcoffset()
    while high - low > _SECOND:
        middle = low + ((high - low) // _SECOND // 2) * _SECOND
        if middle.astimezone(tz).utcoffset() == after:
            high = middle
        else:
            low = middle
    return high, high.astimezone(tz), False


def _session_order(session: Session) -> tuple[int, int, int]:
    return (_seconds(session.start), -_seconds(session.end), session.slot_minutes)


def _by_weekday(sessions: Iterable[Session]) -> dict[int, list[Session]]:
    grouped: dict[int, list[Session]] = {}
    for session in sessions:
        if not isinstance(session, Session):
            raise ValueError(f"Expected a Session, got {type(session).__name__}.")
        grouped.setdefault(session.weekday, []).append(session)
    for day_sessions in grouped.values():
        day_sessions.sort(key=_session_order)
    return grouped


def _session_window(day: date, session: Session, tz: tzinfo) -> _Interval:
    start = _boundary(datetime.combine(day, session.start, tzinfo=tz), tz)
    end = _boundary(datetime.combine(day, session.end, tzinfo=tz), tz)
    return (start[0], end[0])


def _grid(day: date, tz: tzinfo, sessions: Sequence[Session]) -> list[_Entry]:
    """Every slot of `day` from `sessions` (that weekday's, in merge order), sorted by start.

    No two overlap; busy periods and the current time are not applied yet.
    """
    taken: list[_Entry] = []
    starts: list[datetime] = []
    for index, session in enumerate(sessions):
        step = timedelta(minutes=session.slot_minutes)
        # Aware datetimes in one tzinfo add and compare as clock readings: the grid is wall-clock.
        wall = datetime.combine(day, session.start, tzinfo=tz)
        last = datetime.combine(day, session.end, tzinfo=tz)
        start, start_local, start_shown = _boundary(wall, tz)
        candidates: list[_Entry] = []
        while wall + step <= last:
            wall = wall + step
            end, end_local, end_shown = _boundary(wall, tz)
            if start_shown and end - start == step:
                candidates.append((start, end, start_local, end_local))
            start, start_local, start_shown = end, end_local, end_shown
        if index == 0:
            taken = candidates
            starts = [entry[0] for entry in candidates]
            continue
        for candidate in candidates:
            position = bisect_left(starts, candidate[0])
            if position > 0 and taken[position - 1][1] > candidate[0]:
                continue
            if position < len(taken) and taken[position][0] < candidate[1]:
                continue
            taken.insert(position, candidate)
            starts.insert(position, candidate[0])
    return taken


def _sorted_busy(busy: Iterable[Busy]) -> list[_Interval]:
    """Busy periods in UTC, sorted by start: sorted once, then swept."""
    return sorted((b.start.astimezone(UTC), b.end.astimezone(UTC)) for b in busy)


def _sweep(
    grid: list[_Entry],
    busy: list[_Interval],
    cursor: int,
    earliest: datetime | None,
) -> tuple[list[_Entry], int]:
    """Keep the grid slots that start at or after `earliest` and overlap no busy period.

    `grid` is sorted and `busy` sorted by start; `cursor` is where the previous call stopped in
    `busy`, so a whole range is swept in one pass over the busy periods. Busy periods are skipped
    once they end by a slot's start: they end by every later slot's start too. The first one not
    skipped starts earliest among those left, so the slot is free exactly when it starts at or
    after the slot's end.
    """
    free: list[_Entry] = []
    busy_count = len(busy)
    for entry in grid:
        start, end = entry[0], entry[1]
        if earliest is not None and start < earliest:
            continue
        while cursor < busy_count and busy[cursor][1] <= start:
            cursor += 1
        if cursor < busy_count and busy[cursor][0] < end:
            continue
        free.append(entry)
    return free, cursor


def _earliest(now: datetime | None, min_notice: timedelta) -> datetime | None:
    if now is None:
        if min_notice:
            raise ValueError("min_notice needs now: pass the current time as now.")
        return None
    if min_notice < timedelta(0):
        raise ValueError("min_notice cannot be negative.")
    return _require_aware(now, "now").astimezone(UTC) + min_notice


def _require_day(day: object, name: str) -> date:
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValueError(f"{name} must be a date.")
    return day


def _slots(entries: list[_Entry]) -> list[Slot]:
    return [Slot(entry[2], entry[3]) for entry in entries]


# --- public API -------------------------------------------------------------------------------


def day_slots(
    *,
    day: date,
    tz: ZoneInfo,
    sessions: Iterable[Session],
    busy: Iterable[Busy],
    now: datetime | None = None,
    min_notice: timedelta = timedelta(0),
) -> list[Slot]:
    """The free slots of the clinic-local date `day`, sorted by start.

    Slots come from the sessions of `day`'s weekday (see the module docstring for the grid,
    overlap and daylight-saving rules). A slot is dropped when it overlaps any busy period, or
    when it starts before `now + min_notice`. `now=None` applies no time filter (and then
    `min_notice` must be zero). To reschedule an appointment, leave it out of `busy`.
    """
    _require_day(day, "day")
    earliest = _earliest(now, min_notice)
    grid = _grid(day, tz, _by_weekday(sessions).get(day.weekday(), []))
    free, _ = _sweep(grid, _sorted_busy(busy), 0, earliest)
    return _slots(free)


def free_slots(
    *,
    start_day: date,
    days: int,
    tz: ZoneInfo,
    sessions: Iterable[Session],
    busy: Iterable[Busy],
    now: datetime | None = None,
    min_notice: timedelta = timedelta(0),
) -> dict[date, list[Slot]]:
    """`day_slots` for `days` consecutive dates from `start_day` (1 to 62 days).

    Every date of the range is a key, in order, with an empty list when nothing is free. Busy
    periods are sorted once and swept once across the whole range. Raises `ValueError` for a range
    of more than `MAX_RANGE_DAYS` days or fewer than one.
    """
    _require_day(start_day, "start_day")
    if isinstance(days, bool) or not isinstance(days, int):
        raise ValueError("days must be a whole number.")
    if days < 1:
        raise ValueError("days must be at least 1.")
    if days > MAX_RANGE_DAYS:
        raise ValueError(f"Slots can be listed for at most {MAX_RANGE_DAYS} days at a time.")
    earliest = _earliest(now, min_notice)
    by_weekday = _by_weekday(sessions)
    sorted_busy = _sorted_busy(busy)
    cursor = 0
    result: dict[date, list[Slot]] = {}
    for offset in range(days):
        day = start_day + timedelta(days=offset)
        grid = _grid(day, tz, by_weekday.get(day.weekday(), []))
        free, cursor = _sweep(grid, sorted_busy, cursor, earliest)
        result[day] = _slots(free)
    return result
