"""Prescription frequency shorthand -> a structured medication schedule.

Doctors in India write how often to take a drug as slot shorthand ("1-0-1" = one in the morning,
none in the afternoon, one at night), as Latin abbreviations ("BD", "TDS", "SOS") or in English
("once a week"). `parse_frequency` turns that text into a `Frequency`; `schedule_for` lays it out
over a course; `quantity_to_dispense` counts the units to hand over; `to_json` / `from_json`
store it in a JSONField.

Pure Python, no Django. Amounts are always `Decimal`. The parser never guesses: anything it does
not recognise raises `FrequencyError` with a message that can be shown to the doctor.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

__all__ = [
    "DEFAULT_SLOT_TIMES",
    "SLOTS",
    "Dose",
    "Frequency",
    "FrequencyError",
    "ScheduledDose",
    "from_json",
    "parse_frequency",
    "quantity_to_dispense",
    "schedule_for",
    "to_json",
]

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

EXAMPLES = "1-0-1, 1-1-1, 0-0-1, 1/2-0-1/2, OD, BD, TDS, QID, HS, SOS, STAT, Q8H or 'once a week'"

ONE = Decimal(1)
JSON_VERSION = 1

_THREE_SLOTS = ("morning", "afternoon", "night")
_FOUR_SLOTS = ("morning", "afternoon", "evening", "night")
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"  # hyphen, en/em dash, minus sign
_DASH_RE = re.compile(f"[{_DASHES}]")
_UNICODE_FRACTIONS = {"½": Decimal("0.5"), "¼": Decimal("0.25"), "¾": Decimal("0.75")}
_FRACTION_CODES = {Decimal("0.5"): "1/2", Decimal("0.25"): "1/4", Decimal("0.75"): "3/4"}
_FRACTION_GLYPHS = {Decimal("0.5"): "½", Decimal("0.25"): "¼", Decimal("0.75"): "¾"}
_HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# Every-N-hours: clock times chosen to match common ward rounds.
_HOURLY_TIMES: dict[int, tuple[int, ...]] = {
    4: (2, 6, 10, 14, 18, 22),
    6: (0, 6, 12, 18),
    8: (6, 14, 22),
    12: (8, 20),
}
_SLOT_PHRASES = {
    "morning": "in the morning",
    "afternoon": "in the afternoon",
    "evening": "in the evening",
    "night": "at night",
    "bedtime": "at bedtime",
}


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


# --- parsing ---------------------------------------------------------------------------------


def _error(text: str, reason: str = "") -> FrequencyError:
    lead = f"Frequency {text!r} {reason}." if reason else f"Unknown frequency {text!r}."
    return FrequencyError(f"{lead} Use a form like {EXAMPLES}.")


def _named(
    code: str,
    label: str,
    slots: tuple[str, ...],
    *,
    every_n_days: int = 1,
    days_in_period: tuple[int, ...] = (0,),
) -> Frequency:
    doses = tuple(Dose(s, DEFAULT_SLOT_TIMES[s]) for s in slots)
    return Frequency(code, label, doses, every_n_days, days_in_period)


def _every_hours(hours: int) -> Frequency:
    doses = tuple(Dose(f"{h:02d}:00", dt.time(h, 0)) for h in _HOURLY_TIMES[hours])
    return Frequency(f"Q{hours}H", f"Every {hours} hours", doses)


_NAMED: dict[str, Frequency] = {
    "OD": _named("OD", "Once a day (morning)", ("morning",)),
    "BD": _named("BD", "Twice a day (morning and night)", ("morning", "night")),
    "TDS": _named("TDS", "Three times a day", _THREE_SLOTS),
    "QID": _named("QID", "Four times a day", _FOUR_SLOTS),
    "HS": _named("HS", "At bedtime", ("bedtime",)),
    "SOS": Frequency("SOS", "When needed", (), as_needed=True),
    "STAT": Frequency("STAT", "Once, straight away", (), once=True),
    "QOD": _named("QOD", "Every other day (morning)", ("morning",), every_n_days=2),
    "WEEKLY": _named("WEEKLY", "Once a week", ("morning",), every_n_days=7),
    "TWICE WEEKLY": _named(
        "TWICE WEEKLY", "Twice a week", ("morning",), every_n_days=7, days_in_period=(0, 3)
    ),
}

_PHRASES: dict[str, tuple[str, ...]] = {
    "OD": ("od", "once daily", "once a day"),
    "BD": ("bd", "bid", "twice daily", "twice a day"),
    "TDS": ("tds", "tid", "thrice daily", "thrice a day", "three times daily", "three times a day"),
    "QID": ("qid", "qds", "four times daily", "four times a day"),
    "HS": ("hs", "at bedtime"),
    "SOS": ("sos", "prn", "as needed", "when needed", "as required"),
    "STAT": ("stat",),
    "QOD": ("qod", "alternate days", "alternate day", "on alternate days", "every other day"),
    "WEEKLY": ("ow", "weekly", "once weekly", "once a week"),
    "TWICE WEEKLY": ("twice weekly", "twice a week"),
}
_ALIASES: dict[str, str] = {phrase: code for code, ps in _PHRASES.items() for phrase in ps}

_HOURS_RE = re.compile(
    r"^(?:q\s*(\d+)\s*h|every\s+(\d+)\s+(?:hours?|hrs?)|(\d+)(?:st|nd|rd|th)?\s+hourly)$"
)
_WHOLE_RE = re.compile(r"^\d{1,3}(?:\.\d{1,2})?$")
_GLYPH_RE = re.compile(r"^(\d{0,3})([½¼¾])$")
_SLASH_RE = re.compile(r"^(\d{1,3})\s*/\s*(\d{1,3})$")


def parse_frequency(text: str) -> Frequency:
    """Parse prescription frequency text into a `Frequency`, or raise `FrequencyError`.

    Accepts slot shorthand with 3 positions (morning-afternoon-night) or 4 positions
    (morning-afternoon-evening-night) holding whole numbers, decimals ("1.5"), halves and
    quarters ("1/2", "½", "1½"); Latin forms (OD, BD/BID, TDS/TID, QID/QDS, HS, SOS/PRN, STAT,
    QOD, OW, Q4H/Q6H/Q8H/Q12H, dots allowed as in "B.D."); and English phrases ("twice daily",
    "alternate days", "once a week", "twice a week", "every 6 hours", "8 hourly"). Case and
    spacing do not matter. Anything else raises `FrequencyError` naming the input.
    """
    if not isinstance(text, str):
        raise FrequencyError(f"Frequency must be text, not {text!r}.")
    cleaned = " ".join(text.split()).lower()
    if not cleaned:
        raise _error(text, "is empty")
    has_letters = any(ch.isalpha() for ch in cleaned)
    if _DASH_RE.search(cleaned) and not has_letters:
        return _parse_slots(text, cleaned)
    if has_letters:
        # "B.D." and "t.d.s" are common; a dot between digits ("1.5") is kept.
        words = " ".join(re.sub(r"(?<!\d)\.|\.(?!\d)", " ", cleaned).split())
        if words in _ALIASES:
            return _NAMED[_ALIASES[words]]
        compact = words.replace(" ", "")
        if compact in _ALIASES:
            return _NAMED[_ALIASES[compact]]
        match = _HOURS_RE.match(words)
        if match:
            hours = int(next(g for g in match.groups() if g))
            if hours not in _HOURLY_TIMES:
                raise _error(
                    text, f"is not supported: every {hours} hours (use Q4H, Q6H, Q8H or Q12H)"
                )
            return _every_hours(hours)
        if _DASH_RE.search(cleaned) and "o" in cleaned:
            try:
                hint = _parse_slots(text, cleaned.replace("o", "0")).code
            except FrequencyError:
                pass
            else:
                raise _error(text, f"has the letter O instead of a zero (did you mean {hint}?)")
    raise _error(text)


def _parse_slots(text: str, cleaned: str) -> Frequency:
    parts = [p.strip() for p in _DASH_RE.split(cleaned)]
    if len(parts) not in (3, 4):
        raise _error(
            text,
            f"has {len(parts)} positions; use 3 (morning-afternoon-night) "
            "or 4 (morning-afternoon-evening-night)",
        )
    names = _THREE_SLOTS if len(parts) == 3 else _FOUR_SLOTS
    amounts = [_parse_amount(text, position, part) for position, part in enumerate(parts, 1)]
    doses = tuple(
        Dose(slot, DEFAULT_SLOT_TIMES[slot], amount)
        for slot, amount in zip(names, amounts, strict=True)
        if amount
    )
    if not doses:
        raise _error(text, "has 0 in every position, so there is no dose")
    code = "-".join(_amount_code(a) for a in amounts)
    return Frequency(code, _slots_label(doses), doses)


def _parse_amount(text: str, position: int, part: str) -> Decimal:
    if not part:
        raise _error(text, f"has nothing in position {position}")
    if _WHOLE_RE.match(part):
        return Decimal(part)
    glyph = _GLYPH_RE.match(part)
    if glyph:
        return Decimal(glyph.group(1) or 0) + _UNICODE_FRACTIONS[glyph.group(2)]
    slash = _SLASH_RE.match(part)
    if slash:
        numerator, denominator = int(slash.group(1)), int(slash.group(2))
        if numerator == 0 or denominator not in (2, 4):
            raise _error(
                text, f"has {part!r}, which is not a usable fraction (use halves or quarters)"
            )
        return Decimal(numerator) / Decimal(denominator)
    raise _error(text, f"has {part!r} in position {position}, which is not an amount")


def _amount_code(amount: Decimal) -> str:
    if amount == amount.to_integral_value():
        return str(int(amount))
    if amount in _FRACTION_CODES:
        return _FRACTION_CODES[amount]
    return format(amount.normalize(), "f")


def _amount_words(amount: Decimal) -> str:
    whole = int(amount)
    rest = amount - whole
    if not rest:
        return str(whole)
    if rest in _FRACTION_GLYPHS:
        return f"{whole or ''}{_FRACTION_GLYPHS[rest]}"
    return format(amount.normalize(), "f")


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _slots_label(doses: tuple[Dose, ...]) -> str:
    if all(d.amount == ONE for d in doses):
        if len(doses) == 1:
            phrase = _SLOT_PHRASES[doses[0].slot]
            return phrase[0].upper() + phrase[1:]
        return _join([d.slot for d in doses]).capitalize()
    return _join([f"{_amount_words(d.amount)} {_SLOT_PHRASES[d.slot]}" for d in doses])


# --- schedule and quantity -------------------------------------------------------------------


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


# --- JSON ------------------------------------------------------------------------------------


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
