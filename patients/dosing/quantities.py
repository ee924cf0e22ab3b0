"""Laying a frequency out over a course (`schedule_for`) and counting the units to hand over
(`quantity_to_dispense`)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from patients.dosing.values import (
    _HHMM_RE,
    ONE,
    SLOTS,
    Frequency,
    ScheduledDose,
    _check_dose_amount,
)


def _check_duration(duration_days: int | None) -> None:
    if duration_days is None:
        return
    if isinstance(duration_days, bool) or not isinstance(duration_days, int):
        raise TypeError("duration_days must be a whole number of days or None.")
    if duration_days < 1:
        raise ValueError("duration_days must be at least 1.")


def _dosing_days(frequency: Frequency, duration_days: int) -> int:
    """How many of the first `duration_days` days (day 0 = start) are dosing days."""
    full, rest = divmod(duration_days, frequency.every_n_days)
    return full * len(frequency.days_in_period) + sum(
        1 for d in frequency.days_in_period if d < rest
    )


def schedule_for(
    frequency: Frequency,
    *,
    dose_amount: Decimal = ONE,
    start: dt.date,
    duration_days: int | None,
    times: dict[str, dt.time] | None = None,
) -> list[ScheduledDose]:
    """Every dose of a course from `start` for `duration_days` days, in time order.

    Each dose's amount is the frequency's amount times `dose_amount`. `times` overrides the clock
    time of named slots for a clinic ({"morning": time(9, 0)}); keys must be slot names.
    Alternate days and weekly courses dose on `start` and every 2 or 7 days after; twice a week
    doses on `start` and `start + 3` each week. Returns an empty list when there is nothing to
    remind: no duration (long-term or not given), SOS / PRN, or STAT (given once, straight away).
    """
    amount = _check_dose_amount(frequency, dose_amount)
    _check_duration(duration_days)
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        raise TypeError("start must be a date.")
    overrides = dict(times or {})
    for slot, at in overrides.items():
        if not (slot in SLOTS or (isinstance(slot, str) and _HHMM_RE.match(slot))):
            raise ValueError(f"Unknown slot {slot!r} in times; use one of {', '.join(SLOTS)}.")
        if not isinstance(at, dt.time):
            raise TypeError(f"Time for {slot!r} must be a time.")
    if duration_days is None or frequency.as_needed or frequency.once:
        return []
    day_doses = sorted(
        ((overrides.get(d.slot, d.time), d.slot, d.amount * amount) for d in frequency.doses),
        key=lambda item: item[0],
    )
    schedule = []
    for offset in range(duration_days):
        if offset % frequency.every_n_days not in frequency.days_in_period:
            continue
        day = start + dt.timedelta(days=offset)
        schedule.extend(ScheduledDose(day, at, slot, units) for at, slot, units in day_doses)
    return schedule


_WHOLE_TOTAL_FORMS = frozenset(
    {"tablet", "tablets", "tab", "tabs", "capsule", "capsules", "cap", "caps"}
    | {"sachet", "sachets", "lozenge", "lozenges"}
)
# An opened ampoule or a cut suppository is not kept, so each dose takes whole units.
_WHOLE_DOSE_FORMS = frozenset(
    {"injection", "injections", "inj", "ampoule", "ampoules", "ampule", "ampules", "amp"}
    | {"vial", "vials", "suppository", "suppositories", "pessary", "pessaries"}
)


def quantity_to_dispense(
    frequency: Frequency,
    *,
    dose_amount: Decimal,
    duration_days: int | None,
    form: str,
) -> Decimal | None:
    """Whole units to hand over for the course, or None when it cannot be counted.

    Counted forms: tablets, capsules, sachets and lozenges (the course total is rounded up, so
    1/2-0-1/2 for 5 days is 5 tablets); injections, ampoules, vials, suppositories and pessaries
    (each dose is rounded up to whole units, since an opened one is not kept). STAT is one dose
    whatever the duration.

    Returns None for SOS / PRN, when there is no duration, and for forms measured in ml or sold
    as a pack (syrup, suspension, drops, ointment, cream, gel, lotion, inhaler, spray ...) or any
    form not listed above: the pharmacist decides those quantities.
    """
    amount = _check_dose_amount(frequency, dose_amount)
    _check_duration(duration_days)
    kind = " ".join(str(form).lower().replace(".", " ").split())
    if kind in _WHOLE_TOTAL_FORMS:
        round_each_dose = False
    elif kind in _WHOLE_DOSE_FORMS:
        round_each_dose = True
    else:
        return None
    if frequency.once:
        return Decimal(math.ceil(amount))
    if frequency.as_needed or duration_days is None:
        return None
    per_dose = [d.amount * amount for d in frequency.doses]
    if round_each_dose:
        per_dose = [Decimal(math.ceil(units)) for units in per_dose]
    total = sum(per_dose, Decimal(0)) * _dosing_days(frequency, duration_days)
    return Decimal(math.ceil(total))
