"""Reading the shorthand a doctor writes ("1-0-1", "BD", "once a week") as a `Frequency`.

The parser never guesses: anything it does not recognise raises `FrequencyError` with a message
that can be shown to the doctor.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.utils.translation import gettext, gettext_noop

from patients.dosing.values import DEFAULT_SLOT_TIMES, ONE, Dose, Frequency, FrequencyError

EXAMPLES = "1-0-1, 1-1-1, 0-0-1, 1/2-0-1/2, OD, BD, TDS, QID, HS, SOS, STAT, Q8H or 'once a week'"

_THREE_SLOTS = ("morning", "afternoon", "night")
_FOUR_SLOTS = ("morning", "afternoon", "evening", "night")
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"  # hyphen, en/em dash, minus sign
_DASH_RE = re.compile(f"[{_DASHES}]")
_UNICODE_FRACTIONS = {"½": Decimal("0.5"), "¼": Decimal("0.25"), "¾": Decimal("0.75")}
_FRACTION_CODES = {Decimal("0.5"): "1/2", Decimal("0.25"): "1/4", Decimal("0.75"): "3/4"}
_FRACTION_GLYPHS = {Decimal("0.5"): "½", Decimal("0.25"): "¼", Decimal("0.75"): "¾"}
# Every-N-hours: clock times chosen to match common ward rounds.
_HOURLY_TIMES: dict[int, tuple[int, ...]] = {
    4: (2, 6, 10, 14, 18, 22),
    6: (0, 6, 12, 18),
    8: (6, 14, 22),
    12: (8, 20),
}
_SLOT_PHRASES = {
    "morning": gettext_noop("in the morning"),
    "afternoon": gettext_noop("in the afternoon"),
    "evening": gettext_noop("in the evening"),
    "night": gettext_noop("at night"),
    "bedtime": gettext_noop("at bedtime"),
}
_SLOT_NAMES = {
    "morning": gettext_noop("morning"),
    "afternoon": gettext_noop("afternoon"),
    "evening": gettext_noop("evening"),
    "night": gettext_noop("night"),
    "bedtime": gettext_noop("bedtime"),
}
_EVERY_HOURS = gettext_noop("Every %(hours)s hours")
_AND = gettext_noop("%(items)s and %(last)s")
_AMOUNT_WHEN = gettext_noop("%(amount)s %(when)s")


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
    return Frequency(f"Q{hours}H", _EVERY_HOURS % {"hours": hours}, doses)


_NAMED: dict[str, Frequency] = {
    "OD": _named("OD", gettext_noop("Once a day (morning)"), ("morning",)),
    "BD": _named("BD", gettext_noop("Twice a day (morning and night)"), ("morning", "night")),
    "TDS": _named("TDS", gettext_noop("Three times a day"), _THREE_SLOTS),
    "QID": _named("QID", gettext_noop("Four times a day"), _FOUR_SLOTS),
    "HS": _named("HS", gettext_noop("At bedtime"), ("bedtime",)),
    "SOS": Frequency("SOS", gettext_noop("When needed"), (), as_needed=True),
    "STAT": Frequency("STAT", gettext_noop("Once, straight away"), (), once=True),
    "QOD": _named("QOD", gettext_noop("Every other day (morning)"), ("morning",), every_n_days=2),
    "WEEKLY": _named("WEEKLY", gettext_noop("Once a week"), ("morning",), every_n_days=7),
    "TWICE WEEKLY": _named(
        "TWICE WEEKLY",
        gettext_noop("Twice a week"),
        ("morning",),
        every_n_days=7,
        days_in_period=(0, 3),
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


def _join(items: list[str], translate=lambda text: text) -> str:
    if len(items) == 1:
        return items[0]
    return translate(_AND) % {
        "items": ", ".join(items[:-1]),
        "last": items[-1],
    }


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _slots_label(doses: tuple[Dose, ...], translate=lambda text: text) -> str:
    if all(d.amount == ONE for d in doses):
        if len(doses) == 1:
            return _capital(translate(_SLOT_PHRASES[doses[0].slot]))
        return _capital(_join([translate(_SLOT_NAMES[d.slot]) for d in doses], translate))
    return _join(
        [
            translate(_AMOUNT_WHEN)
            % {"amount": _amount_words(d.amount), "when": translate(_SLOT_PHRASES[d.slot])}
            for d in doses
        ],
        translate,
    )


def frequency_words(frequency: Frequency) -> str:
    """The frequency's label for the patient in the active language ("Morning and night",
    "सुबह और रात"). The stored `label` stays English; this rebuilds it from the doses."""
    named = _NAMED.get(frequency.code)
    if named is not None:
        return gettext(named.label)
    hourly = re.fullmatch(r"Q(\d+)H", frequency.code)
    if hourly:
        return gettext(_EVERY_HOURS) % {"hours": int(hourly.group(1))}
    if frequency.doses and all(d.slot in _SLOT_PHRASES for d in frequency.doses):
        return _slots_label(frequency.doses, gettext)
    return gettext(frequency.label)
