"""Which doses of a frequency can be reminded when some fall in a clinic's quiet hours.

Pure Python, no Django: messaging plans its medicine reminders with `quiet_plan`, and the visit
page shows the doctor the same plan before signing, with the clinic's quiet hours passed in.

The rule. A dose outside quiet hours is reminded at its own time. A dose inside them may be
moved to the nearer edge of the quiet hours only when that keeps it at least the frequency's
`minimum_gap` away from the doses before and after it (their own times, and the times they are
reminded at when they are moved too); otherwise it is not reminded at all. A patient who reads
"take it now" for a dose moved too close to the next one may take two doses too close together,
which for a drug like paracetamol is the harm the interval is there to prevent. The quiet-hours
edges themselves are not quiet.

The minimum gap between two doses of one drug, per frequency (the drug list has no interval of
its own, so it is derived from how often the doctor asked for the drug):

- every N hours (Q4H, Q6H, Q8H, Q12H): N hours. The doctor chose the interval; it is the limit.
- doses on a day (slot shorthand and OD, BD, TDS, QID, HS): 12 hours for one dose a day,
  6 hours for two, 4 hours for three, 3 hours for four or more (the default slot times of QID
  are 3 hours apart in the evening: 18:00 and 21:00).
- every other day, weekly, twice a week: 12 hours (one dose on a dosing day).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from patients.dosing.values import Frequency

_DAY = 24 * 60
_GAP_BY_DOSES_A_DAY = {1: 12 * 60, 2: 6 * 60, 3: 4 * 60}
_GAP_MANY = 3 * 60


def minimum_gap(frequency: Frequency) -> dt.timedelta:
    """The shortest time a reminder may leave between two doses of this frequency (module
    docstring)."""
    code = frequency.code
    if code.startswith("Q") and code.endswith("H") and code[1:-1].isdigit():
        return dt.timedelta(hours=int(code[1:-1]))
    minutes = _GAP_BY_DOSES_A_DAY.get(len(frequency.doses), _GAP_MANY)
    return dt.timedelta(minutes=minutes)


@dataclass(frozen=True)
class PlannedDose:
    """One dose of a dosing day: its own clock time, and when it is reminded.

    `shift` is how far the reminder moves from the dose (negative: earlier, to the evening
    edge; positive: later, to the morning edge); None when the dose is not reminded."""

    time: dt.time
    quiet: bool
    shift: dt.timedelta | None

    @property
    def reminded(self) -> bool:
        return self.shift is not None


@dataclass(frozen=True)
class QuietPlan:
    frequency: Frequency
    doses: tuple[PlannedDose, ...]
    gap: dt.timedelta
    start: dt.time  # of the quiet hours: the summary names quiet doses in the night's order

    def shift_for(self, at: dt.time) -> dt.timedelta | None:
        """The reminder's shift for the dose at clock time `at` (None: not reminded)."""
        for dose in self.doses:
            if dose.time == at:
                return dose.shift
        return dt.timedelta(0)

    @property
    def affected(self) -> bool:
        return any(d.quiet for d in self.doses)

    def summary(self) -> str:
        """For the doctor: "3 of 6 daily doses will be reminded; 22:00, 02:00 and 06:00 fall
        in quiet hours." ("" when no dose falls in quiet hours)."""
        if not self.affected:
            return ""
        reminded = sum(1 for d in self.doses if d.reminded)
        start = _minutes(self.start)
        night = sorted(self.doses, key=lambda d: (_minutes(d.time) - start) % _DAY)
        skipped = [_hhmm(d.time) for d in night if d.quiet and not d.reminded]
        moved = [d for d in night if d.quiet and d.reminded]
        per = "daily dose" if self.frequency.every_n_days == 1 else "dose of a dosing day"
        per += "" if len(self.doses) == 1 else "s"
        parts = [f"{reminded} of {len(self.doses)} {per} will be reminded"]
        if skipped:
            verb = "falls" if len(skipped) == 1 else "fall"
            parts.append(
                f"{_join(skipped)} {verb} in quiet hours and cannot be moved without coming "
                f"closer than {_hours(self.gap)} to another dose, so "
                f"{'it is' if len(skipped) == 1 else 'they are'} not reminded"
            )
        for dose in moved:
            at = (dt.datetime.combine(dt.date(2000, 1, 3), dose.time) + dose.shift).time()
            parts.append(f"the {_hhmm(dose.time)} dose is reminded at {_hhmm(at)} (quiet hours)")
        return "; ".join(parts) + "."


def _hhmm(at: dt.time) -> str:
    return f"{at:%H:%M}"


def _hours(gap: dt.timedelta) -> str:
    hours = gap.total_seconds() / 3600
    return f"{hours:g} hour{'' if hours == 1 else 's'}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _minutes(at: dt.time) -> int:
    return at.hour * 60 + at.minute


def _is_quiet(t: int, start: int, end: int) -> bool:
    if start == end:
        return False
    if start < end:
        return start < t < end
    return t > start or t < end


def _nearer_edge_shift(t: int, start: int, end: int) -> int:
    """Minutes from `t` (inside quiet hours) to the nearer edge: negative back to the start,
    positive on to the end; the start on a tie (a bedtime medicine is better early than at
    breakfast)."""
    back = (t - start) % _DAY
    on = (end - t) % _DAY
    return -back if back <= on else on


def _reminded_at(at: int, candidate: dict[int, int], period: int) -> int:
    """Where the dose at `at` (possibly in the period before or after) would be reminded."""
    base = at % period
    return candidate.get(base, base) + at - base


def quiet_plan(frequency: Frequency, *, start: dt.time, end: dt.time) -> QuietPlan:
    """Which doses of a dosing day are reminded, and when (module docstring). SOS and STAT
    have no doses and give an empty plan."""
    gap = minimum_gap(frequency)
    gap_min = int(gap.total_seconds() // 60)
    s, e = _minutes(start), _minutes(end)
    period = frequency.every_n_days * _DAY
    # Every dose instant of one period, in minutes from its start, in time order.
    times = sorted({_minutes(d.time) for d in frequency.doses})
    instants = sorted(day * _DAY + t for day in frequency.days_in_period for t in times)
    candidate: dict[int, int] = {}
    for at in instants:
        if _is_quiet(at % _DAY, s, e):
            candidate[at] = at + _nearer_edge_shift(at % _DAY, s, e)
    shifts: dict[int, int | None] = {}
    count = len(instants)
    for index, at in enumerate(instants):
        if at not in candidate:
            shifts[at] = 0
            continue
        moved = candidate[at]
        # The neighbours in the repeating pattern (the last dose of the period before, the
        # first of the next), at their own times and where they would be reminded.
        prev_at = instants[index - 1] - (period if index == 0 else 0)
        next_at = instants[(index + 1) % count] + (period if index == count - 1 else 0)
        prev_times = (prev_at, _reminded_at(prev_at, candidate, period))
        next_times = (next_at, _reminded_at(next_at, candidate, period))
        fits = all(moved - p >= gap_min for p in prev_times) and all(
            n - moved >= gap_min for n in next_times
        )
        shifts[at] = moved - at if fits else None
    # A clock time is reminded only where every dosing day agrees (days share one pattern).
    planned = []
    for t in times:
        day_shifts = {shifts[day * _DAY + t] for day in frequency.days_in_period}
        shift = day_shifts.pop() if len(day_shifts) == 1 else None
        planned.append(
            PlannedDose(
                time=dt.time(t // 60, t % 60),
                quiet=_is_quiet(t, s, e),
                shift=None if shift is None else dt.timedelta(minutes=shift),
            )
        )
    return QuietPlan(frequency=frequency, doses=tuple(planned), gap=gap, start=start)
