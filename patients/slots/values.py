"""A doctor's availability as plain values: weekly sessions, busy periods, slots and refusals.

Building a `Session` or a `Busy` checks it and raises `ValueError` with a message that can be
shown to the person setting up the schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum

MIN_SLOT_MINUTES = 5
MAX_SLOT_MINUTES = 240
MAX_RANGE_DAYS = 62

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
