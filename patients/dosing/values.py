"""A frequency as values (`Frequency`, its `Dose`s, a `ScheduledDose` on the calendar) and as
stored JSON (`to_json` / `from_json`). Amounts are always `Decimal`."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

SLOTS: tuple[str, ...] = ("morning", "afternoon", "evening", "night", "bedtime")
"""Named times of day. Every-N-hours forms use clock slots ("06:00") instead."""

DEFAULT_SLOT_TIMES: MappingProxyType[str, dt.time] = MappingProxyType(
    {
        "morning": dt.time(8, 0),
        "afternoon": dt.time(14, 0),
        "evening": dt.time(18, 0),
        "night": dt.time(21, 0),
        "bedtime": dt.time(22, 0),
    }
)

ONE = Decimal(1)
JSON_VERSION = 1

_HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class FrequencyError(ValueError):
    """The frequency text (or stored frequency) is not one we understand. Safe to show a user."""


@dataclass(frozen=True)
class Dose:
    """One dose within a day: its slot name, default clock time and amount.

    For slot shorthand the amount is the number of units ("1/2-0-1/2" gives 0.5); for the Latin
    and English forms it is 1, a multiplier of the separate dose amount.
    """

    slot: str
    time: dt.time
    amount: Decimal = ONE

    def __post_init__(self) -> None:
        if not isinstance(self.slot, str) or not self.slot:
            raise FrequencyError("A dose needs a slot name.")
        if not isinstance(self.time, dt.time):
            raise FrequencyError(f"Dose time for {self.slot!r} must be a time.")
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise FrequencyError(f"Dose amount for {self.slot!r} must be a Decimal.")
        if self.amount <= 0:
            raise FrequencyError(f"Dose amount for {self.slot!r} must be more than zero.")


@dataclass(frozen=True)
class Frequency:
    """How often a drug is taken.

    - `code`: normalised text ("1-0-1", "BD", "SOS"); parsing it again gives the same Frequency.
    - `label`: plain English for the patient ("Morning and night").
    - `doses`: the doses on a dosing day, in time order. Empty for SOS and STAT.
    - `every_n_days`: length of the repeating period in days (1 daily, 2 alternate days, 7 weekly).
    - `days_in_period`: which days of the period (0 = first) have doses; (0, 3) for twice a week.
    - `as_needed`: SOS / PRN, no fixed times. `once`: STAT, a single dose now.
    """

    code: str
    label: str
    doses: tuple[Dose, ...]
    every_n_days: int = 1
    days_in_period: tuple[int, ...] = (0,)
    as_needed: bool = False
    once: bool = False

    def __post_init__(self) -> None:
        if not (
            isinstance(self.code, str) and isinstance(self.label, str) and self.code and self.label
        ):
            raise FrequencyError("A frequency needs a code and a label.")
        if not isinstance(self.doses, tuple) or not all(isinstance(d, Dose) for d in self.doses):
            raise FrequencyError(f"Frequency {self.code!r}: doses must be a tuple of Dose.")
        n = self.every_n_days
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise FrequencyError(f"Frequency {self.code!r}: every_n_days must be 1 or more.")
        days = self.days_in_period
        if (
            not isinstance(days, tuple)
            or not days
            or any(isinstance(d, bool) or not isinstance(d, int) for d in days)
            or list(days) != sorted(set(days))
            or days[0] < 0
            or days[-1] >= n
        ):
            raise FrequencyError(
                f"Frequency {self.code!r}: days_in_period must be distinct days from 0 to {n - 1}."
            )
        if self.as_needed and self.once:
            raise FrequencyError(f"Frequency {self.code!r} cannot be both SOS and STAT.")
        if (self.as_needed or self.once) != (not self.doses):
            raise FrequencyError(
                f"Frequency {self.code!r}: SOS and STAT have no fixed doses; others need some."
            )

    def __str__(self) -> str:
        return self.code

    @property
    def doses_per_period(self) -> int:
        """Number of doses in one period of `every_n_days` days (BD: 2, twice a week: 2)."""
        return len(self.doses) * len(self.days_in_period)

    @property
    def amounts_in_code(self) -> bool:
        """True when the code itself states amounts other than one ("2-0-2", "1/2-0-1/2")."""
        return any(d.amount != ONE for d in self.doses)

    def units_per_period(self, dose_amount: Decimal = ONE) -> Decimal:
        """Units taken in one period of `every_n_days` days, for the given dose amount."""
        amount = _check_dose_amount(self, dose_amount)
        per_day = sum((d.amount * amount for d in self.doses), Decimal(0))
        return per_day * len(self.days_in_period)


@dataclass(frozen=True)
class ScheduledDose:
    """One dose on the calendar. `date` and `time` are in the clinic's local time."""

    date: dt.date
    time: dt.time
    slot: str
    amount: Decimal

    @property
    def at(self) -> dt.datetime:
        """Naive local datetime; attach the clinic's timezone before storing it."""
        return dt.datetime.combine(self.date, self.time)


def _check_dose_amount(frequency: Frequency, dose_amount: Decimal | int) -> Decimal:
    if isinstance(dose_amount, bool) or not isinstance(dose_amount, Decimal | int):
        raise TypeError("dose_amount must be a Decimal (never a float).")
    amount = Decimal(dose_amount)
    if not amount.is_finite() or amount <= 0:
        raise ValueError("dose_amount must be more than zero.")
    if frequency.amounts_in_code and amount != ONE:
        # "2-0-2" with a dose of 2 could mean 2 or 4 per slot: ask rather than guess.
        raise FrequencyError(
            f"Frequency {frequency.code!r} already gives the amount for each dose; set the dose "
            "to 1, or write the times as 1-0-1 and put the amount in the dose."
        )
    return amount


def to_json(frequency: Frequency) -> dict[str, Any]:
    """The frequency as plain JSON types (amounts as strings, times as "HH:MM")."""
    return {
        "version": JSON_VERSION,
        "code": frequency.code,
        "label": frequency.label,
        "doses": [
            {
                "slot": d.slot,
                "time": d.time.strftime("%H:%M"),
                "amount": format(d.amount.normalize(), "f"),
            }
            for d in frequency.doses
        ],
        "every_n_days": frequency.every_n_days,
        "days_in_period": list(frequency.days_in_period),
        "as_needed": frequency.as_needed,
        "once": frequency.once,
    }


def from_json(data: dict[str, Any]) -> Frequency:
    """Rebuild a `Frequency` from `to_json` output; raises `FrequencyError` if it is malformed."""
    try:
        if data["version"] != JSON_VERSION:
            raise FrequencyError(f"Stored frequency has unknown version {data['version']!r}.")
        doses = []
        for item in data["doses"]:
            match = _HHMM_RE.match(item["time"])
            if not match or not isinstance(item["amount"], str):
                raise FrequencyError(f"Stored dose {item!r} is not valid.")
            doses.append(
                Dose(
                    slot=item["slot"],
                    time=dt.time(int(match.group(1)), int(match.group(2))),
                    amount=Decimal(item["amount"]),
                )
            )
        flags = (data["as_needed"], data["once"])
        if not all(isinstance(flag, bool) for flag in flags):
            raise FrequencyError("Stored frequency flags must be true or false.")
        return Frequency(
            code=data["code"],
            label=data["label"],
            doses=tuple(doses),
            every_n_days=data["every_n_days"],
            days_in_period=tuple(data["days_in_period"]),
            as_needed=flags[0],
            once=flags[1],
        )
    except (KeyError, TypeError, InvalidOperation) as exc:
        raise FrequencyError(f"Stored frequency is not valid: {exc!r}.") from exc
