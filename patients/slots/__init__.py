"""A doctor's bookable appointment slots, computed from plain values (no database, no Django).

Appointment services load a doctor's weekly sessions and busy periods (leave, blocked periods and
active appointments), turn them into `Session` and `Busy` values and call the functions here:
`day_slots` / `free_slots` to list what can be booked, `is_bookable` / `explain_unbookable` to
check one requested time. The functions are pure: the caller passes the current time as `now`.

Rules
-----
Slot grid
    Each session lays its slots on the clinic's wall clock: the first starts at the session's
    start, each next one `slot_minutes` later, and only whole slots that end by the session's end
    are kept (a 10:00-10:50 session of 20-minute slots gives 10:00 and 10:20, not 10:40).

Busy periods
    Every interval is half-open, `[start, end)`, and compared in UTC. A slot is dropped when it
    overlaps a busy period; a slot that ends exactly when a busy period starts (or starts exactly
    when one ends) is free.

Overlapping sessions
    Sessions of the same weekday are taken in order: earlier start first; on the same start, the
    one that ends later; then the shorter slot. A session's slot is dropped when it overlaps a
    slot already taken from an earlier session, so the result never holds duplicate or overlapping
    slots. Example: 10:00-13:00 (15 minutes) and 12:00-14:00 (20 minutes) give 10:00, 10:15 ...
    12:45 from the first session, then 13:00, 13:20 and 13:40 from the second.

Time zones and daylight saving
    Sessions are wall-clock times in the clinic's time zone. Each slot boundary is the moment the
    clinic's clock shows it: a time the clock shows twice (when clocks go back) means its first
    showing (`fold=0`); a time the clock skips (when clocks go forward) means the moment of the
    jump. A slot is kept only when its start is a time the clock really shows and its two
    boundaries are exactly `slot_minutes` apart in real time. So, in Europe/London:

    - on the day clocks go forward (01:00 -> 02:00) no slot starts in the missing hour; the
      00:45 slot of a 15-minute grid is kept and ends at 02:00 (the jump), which is 15 real
      minutes;
    - on the day clocks go back (02:00 -> 01:00) each local start appears once, in its first
      showing; a slot whose clock length differs from its real length (01:45-02:00, really 75
      minutes) is dropped, and the second pass through 01:00-02:00 has no slots.

    Returned datetimes are aware, in the clinic's time zone (with `fold` set by the conversion),
    so they display correctly and compare correctly with any other aware datetime.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo

from clinics.formatting import format_datetime

__all__ = [
    "MAX_RANGE_DAYS",
    "MAX_SLOT_MINUTES",
    "MIN_SLOT_MINUTES",
    "Busy",
    "BusyReason",
    "Refusal",
    "RefusalCode",
    "Session",
    "Slot",
    "booking_refusal",
    "day_slots",
    "explain_unbookable",
    "free_slots",
    "is_bookable",
]

MIN_SLOT_MINUTES = 5
MAX_SLOT_MINUTES = 240
MAX_RANGE_DAYS = 62

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_SECOND = timedelta(seconds=1)

# A time interval as (start, end) in UTC, half-open.
_Interval = tuple[datetime, datetime]
# A slot while it is computed: (start UTC, end UTC, start clinic-local, end clinic-local).
_Entry = tuple[datetime, datetime, datetime, datetime]


class BusyReason(StrEnum):
    """Why a doctor cannot be booked during a `Busy` period."""

    BUSY = "busy"
    LEAVE = "leave"
    BLOCKED = "blocked"
    APPOINTMENT = "appointment"


_BUSY_REASONS = frozenset(reason.value for reason in BusyReason)


class RefusalCode(StrEnum):
    """Stable machine-readable names for why a requested time cannot be booked."""

    INVALID_RANGE = "invalid_range"
    PAST = "past"
    SHORT_NOTICE = "short_notice"
    OUTSIDE_HOURS = "outside_hours"
    LEAVE = "leave"
    BLOCKED = "blocked"
    BOOKED = "booked"
    BUSY = "busy"
    OFF_GRID = "off_grid"


def _seconds(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def _clock(value: time | datetime) -> str:
    """10:00 -> '10:00 am', 17:30 -> '5:30 pm' (as the rest of Vaidya shows times)."""
    hour = value.hour % 12 or 12
    return f"{hour}:{value.minute:02d} {'am' if value.hour < 12 else 'pm'}"


@dataclass(frozen=True, slots=True)
class Session:
    """A doctor's weekly working session in the clinic's local time.

    `weekday` is 0 for Monday to 6 for Sunday. A session may not cross midnight. Building one
    validates it, so services can use it to check a session before saving it: every problem raises
    `ValueError` with a message that can be shown to the person setting up the schedule.
    """

    weekday: int
    start: time
    end: time
    slot_minutes: int

    def __post_init__(self) -> None:
        if isinstance(self.weekday, bool) or not isinstance(self.weekday, int):
            raise ValueError("The weekday must be a number from 0 (Monday) to 6 (Sunday).")
        if not 0 <= self.weekday <= 6:
            raise ValueError(
                f"The weekday must be from 0 (Monday) to 6 (Sunday), not {self.weekday}."
            )
        for name, value in (("start", self.start), ("end", self.end)):
            if not isinstance(value, time):
                raise ValueError(f"The session {name} must be a time of day.")
            if value.tzinfo is not None:
                raise ValueError(
                    f"The session {name} must be a plain clinic-local time, without a time zone."
                )
        if isinstance(self.slot_minutes, bool) or not isinstance(self.slot_minutes, int):
            raise ValueError("The slot length must be a whole number of minutes.")
        if not MIN_SLOT_MINUTES <= self.slot_minutes <= MAX_SLOT_MINUTES:
            raise ValueError(
                f"The slot length must be between {MIN_SLOT_MINUTES} and {MAX_SLOT_MINUTES} "
                f"minutes, not {self.slot_minutes}."
            )
        if self.start >= self.end:
            raise ValueError(
                f"A session must end after it starts, on the same day "
                f"({_clock(self.start)} to {_clock(self.end)} does not)."
            )
        if _seconds(self.end) - _seconds(self.start) < self.slot_minutes * 60:
            raise ValueError(
                f"The session {_clock(self.start)} to {_clock(self.end)} is shorter than one "
                f"{self.slot_minutes}-minute slot."
            )


def _require_aware(value: object, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware.")
    return value


@dataclass(frozen=True, slots=True)
class Busy:
    """A period when the doctor cannot be booked: leave, a blocked period or an appointment.

    `start` and `end` are aware datetimes in any time zone; the period is half-open. `reason` is
    one of `BusyReason`'s values ("busy", "leave", "blocked", "appointment").
    """

    start: datetime
    end: datetime
    reason: str = BusyReason.BUSY

    def __post_init__(self) -> None:
        _require_aware(self.start, "Busy.start")
        _require_aware(self.end, "Busy.end")
        if self.end.astimezone(UTC) <= self.start.astimezone(UTC):
            raise ValueError(
                f"A busy period must end after it starts ({self.start} to {self.end})."
            )
        if self.reason not in _BUSY_REASONS:
            choices = ", ".join(repr(r.value) for r in BusyReason)
            raise ValueError(f"Unknown busy reason {self.reason!r}; use one of {choices}.")


@dataclass(frozen=True, slots=True, eq=False)
class Slot:
    """A bookable slot: aware datetimes in the clinic's time zone, half-open `[start, end)`.

    Slots compare, hash and sort by their UTC instants, so two slots are equal exactly when they
    cover the same real time (plain datetime equality ignores `fold` within one time zone).
    """

    start: datetime
    end: datetime

    def _key(self) -> _Interval:
        return (self.start.astimezone(UTC), self.end.astimezone(UTC))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Slot):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __lt__(self, other: Slot) -> bool:
        if not isinstance(other, Slot):
            return NotImplemented
        return self._key() < other._key()

    @property
    def minutes(self) -> int:
        """Real length in minutes (measured in UTC: the clock may have changed in between)."""
        start, end = self._key()
        return int((end - start) / timedelta(minutes=1))


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a requested time cannot be booked: a stable `code` and a message for a receptionist."""

    code: RefusalCode
    message: str


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
