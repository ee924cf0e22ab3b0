"""Reading a prescription line as doctors write it: "Tab Paracetamol 650 1-0-1 x 5 days after
food", "Dolo 650 1-0-1 5d", "Syp Cetirizine 5 ml HS x 3 days", "1/2 tab BD".

`parse_line` picks out, wherever they stand in the line, the form ("Tab", "Syp"), the dose
("1/2 tab", "5 ml", "2 drops"), the frequency (anything `parse_frequency` reads), the duration
("x 5 days", "5d", "for 1 week"), the timing ("after food", "AC") and the strength ("650 mg");
what is left names the drug ("Paracetamol 650", "Dolo 650"), for the clinic's drug list to find.
It never guesses: words it cannot place are returned in `unread` for the doctor to see.

Pure Python, no Django, like the rest of `patients.dosing`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from patients.dosing.parsing import parse_frequency
from patients.dosing.values import Frequency, FrequencyError

MAX_LINE = 300

# Form words doctors write before the drug, with the drug form they mean (DrugForm values).
_FORMS = {
    "tab": "tablet",
    "tabs": "tablet",
    "tablet": "tablet",
    "tablets": "tablet",
    "cap": "capsule",
    "caps": "capsule",
    "capsule": "capsule",
    "capsules": "capsule",
    "syp": "syrup",
    "syr": "syrup",
    "syrup": "syrup",
    "susp": "suspension",
    "suspension": "suspension",
    "inj": "injection",
    "injection": "injection",
    "drop": "drops",
    "drops": "drops",
    "gtt": "drops",
    "oint": "ointment",
    "ointment": "ointment",
    "cream": "cream",
    "gel": "gel",
    "lotion": "lotion",
    "inh": "inhaler",
    "inhaler": "inhaler",
    "spray": "spray",
    "sachet": "sachet",
    "powder": "powder",
    "supp": "suppository",
}
# Where drops and sprays go, written before the form ("Eye drops", "Nasal spray").
_SITES = ("eye", "ear", "nasal", "nose")
# Units a dose is counted in, with the unit stored on the item.
_DOSE_UNITS = {
    "tab": "tablet",
    "tabs": "tablet",
    "tablet": "tablet",
    "tablets": "tablet",
    "cap": "capsule",
    "caps": "capsule",
    "capsule": "capsule",
    "capsules": "capsule",
    "ml": "ml",
    "drop": "drop",
    "drops": "drop",
    "puff": "puff",
    "puffs": "puff",
    "sachet": "sachet",
    "sachets": "sachet",
    "tsp": "teaspoon",
}
_TIMINGS = (
    (r"after\s+(?:food|meals?)|a/f|p\.?c\.?|af", "after_food"),
    (r"before\s+(?:food|meals?)|b/f|a\.?c\.?|bf", "before_food"),
    (r"with\s+(?:food|meals?)", "with_food"),
    (r"(?:on\s+an?\s+)?empty\s+stomach", "empty_stomach"),
)
_DAYS_PER = {"d": 1, "day": 1, "days": 1, "w": 7, "wk": 7, "wks": 7, "week": 7, "weeks": 7}
_DAYS_PER |= {"m": 30, "mo": 30, "month": 30, "months": 30}
_AMOUNT = r"(?:\d{1,3}\s*/\s*\d|\d{0,3}[½¼¾]|\d{1,4}(?:\.\d{1,2})?)"
_FRACTIONS = {"½": Decimal("0.5"), "¼": Decimal("0.25"), "¾": Decimal("0.75")}
_FREQUENCY_WORDS = (
    "once a day|once daily|twice a day|twice daily|thrice daily|thrice a day|"
    "three times a day|three times daily|four times a day|four times daily|"
    "once a week|once weekly|twice a week|twice weekly|alternate days?|every other day|"
    "at bedtime|as needed|when needed|as required|every \\d+ hours?|\\d+ hourly|"
    "q\\s*\\d+\\s*h|b\\.?d\\.?|bid|t\\.?d\\.?s\\.?|tid|qid|qds|o\\.?d\\.?|hs|sos|prn|stat|qod|ow|"
    "weekly"
)

_SLOTS_RE = re.compile(
    rf"(?<![\w/.]){_AMOUNT}(?:\s*[-\u2013\u2212]\s*{_AMOUNT}){{2,3}}(?![\w/])", re.IGNORECASE
)
_FREQUENCY_RE = re.compile(rf"(?<!\w)(?:{_FREQUENCY_WORDS})(?!\w)", re.IGNORECASE)
_DURATION_RE = re.compile(
    r"(?<!\w)(?:x|\u00d7|for)?\s*(\d{1,3})\s*(days?|d|weeks?|wks?|wk|w|months?|mo|m)(?![\w/])",
    re.IGNORECASE,
)
_DOSE_RE = re.compile(
    rf"(?<![\w/.])({_AMOUNT})\s*({'|'.join(sorted(_DOSE_UNITS, key=len, reverse=True))})(?!\w)",
    re.IGNORECASE,
)
_STRENGTH_RE = re.compile(
    r"(?<![\w/.])(\d{1,5}(?:\.\d{1,3})?)\s*(mg|mcg|µg|g|iu|%)"
    r"(?:\s*/\s*(\d{1,4}(?:\.\d{1,2})?)\s*(ml|g))?(?!\w)",
    re.IGNORECASE,
)
_BARE_NUMBER_RE = re.compile(r"(?<![\w/.])(\d{1,5}(?:\.\d{1,2})?)(?![\w/.])")
_WORD_RE = re.compile(r"[^\s,;]+")
# "SOS for fever", "if pain": what the medicine is for, kept as the instruction.
_PURPOSE_RE = re.compile(r"(?<!\w)(?:for|if|in case of)\s+([^\d\s][^\d]*?)\s*$", re.IGNORECASE)


@dataclass
class ParsedLine:
    """What a prescription line says; every part may be missing."""

    text: str
    form: str = ""
    drug_query: str = ""
    strength: str = ""
    dose_amount: Decimal | None = None
    dose_unit: str = ""
    frequency: Frequency | None = None
    duration_days: int | None = None
    timing: str = ""
    instructions: str = ""
    unread: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def understood(self) -> list[tuple[str, str]]:
        """(what, value) pairs to show the doctor what the line was read as."""
        parts: list[tuple[str, str]] = []
        if self.form:
            parts.append(("Form", self.form.capitalize()))
        if self.drug_query:
            parts.append(("Drug", self.drug_query))
        if self.strength:
            parts.append(("Strength", self.strength))
        if self.dose_amount is not None:
            amount = format(self.dose_amount.normalize(), "f")
            unit = self.dose_unit
            if unit and unit != "ml" and self.dose_amount > 1:
                unit += "s"
            parts.append(("Dose", f"{amount} {unit}".strip()))
        if self.frequency is not None:
            parts.append(("Frequency", f"{self.frequency.code}: {self.frequency.label}"))
        if self.duration_days is not None:
            plural = "s" if self.duration_days != 1 else ""
            parts.append(("Duration", f"{self.duration_days} day{plural}"))
        if self.timing:
            parts.append(("Timing", self.timing.replace("_", " ").capitalize()))
        if self.instructions:
            parts.append(("Instructions", self.instructions))
        return parts


_AMOUNT_TEXT_RE = re.compile(rf"^{_AMOUNT}$")


def parse_amount(text: str) -> Decimal:
    """A dose as doctors write it: "1", "0.5", "1/2", "½", "1½" (raises ValueError otherwise)."""
    text = "".join((text or "").split())
    if not _AMOUNT_TEXT_RE.match(text):
        raise ValueError(f"{text!r} is not an amount")
    if "/" in text:
        numerator, denominator = text.split("/")
        if int(denominator) == 0:
            raise ValueError(f"{text!r} is not an amount")
        return Decimal(int(numerator)) / Decimal(int(denominator))
    if text[-1] in _FRACTIONS:
        return Decimal(text[:-1] or 0) + _FRACTIONS[text[-1]]
    return Decimal(text)


_amount = parse_amount


class _Line:
    """The line with the parts already read blanked out, so each is read once."""

    def __init__(self, text: str):
        self.text = text

    def take(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        match = pattern.search(self.text)
        if match:
            start, end = match.span()
            self.text = self.text[:start] + " " * (end - start) + self.text[end:]
        return match


def _read_frequency(line: _Line, parsed: ParsedLine) -> None:
    match = line.take(_SLOTS_RE) or line.take(_FREQUENCY_RE)
    if match is None:
        return
    try:
        parsed.frequency = parse_frequency(match.group(0))
    except FrequencyError as exc:
        parsed.problems.append(str(exc))
        return
    # "Q6H SOS": every 6 hours, only when needed. The second word becomes the instruction.
    second = line.take(_FREQUENCY_RE)
    if second is not None:
        try:
            parsed.instructions = parse_frequency(second.group(0)).label
        except FrequencyError as exc:
            parsed.problems.append(str(exc))


def _read_dose(line: _Line, parsed: ParsedLine) -> None:
    match = line.take(_DOSE_RE)
    if match is None:
        return
    amount = _amount(match.group(1))
    if amount <= 0:
        parsed.problems.append(f"A dose of {match.group(1)} is not a dose.")
        return
    parsed.dose_amount = amount
    parsed.dose_unit = _DOSE_UNITS[match.group(2).lower()]


def _read_duration(line: _Line, parsed: ParsedLine) -> None:
    match = line.take(_DURATION_RE)
    if match is None:
        return
    unit = match.group(2).lower()
    days = int(match.group(1)) * _DAYS_PER[unit]
    if not 1 <= days <= 365:
        parsed.problems.append(f"A course of {days} days is outside 1 to 365 days.")
        return
    parsed.duration_days = days


def _read_timing(line: _Line, parsed: ParsedLine) -> None:
    for pattern, timing in _TIMINGS:
        if line.take(re.compile(rf"(?<![\w/])(?:{pattern})(?![\w/])", re.IGNORECASE)):
            parsed.timing = timing
            return


def _read_form_and_drug(line: _Line, parsed: ParsedLine) -> None:
    words = _WORD_RE.findall(line.text)
    if len(words) > 1 and words[0].lower() in _SITES and words[1].lower() in _FORMS:
        words = words[1:]  # "Eye drops", "Nasal spray": the form is the second word
    if words and words[0].lower().rstrip(".") in _FORMS:
        parsed.form = _FORMS[words[0].lower().rstrip(".")]
        words = words[1:]
    rest = " ".join(words)
    strength = _STRENGTH_RE.search(rest)
    if strength:
        parsed.strength = " ".join(strength.group(0).split()).replace(" /", "/").replace("/ ", "/")
    elif parsed.form != "syrup":
        bare = _BARE_NUMBER_RE.search(rest)
        if bare and bare.start() > 0:  # "Paracetamol 650": the strength in mg, as doctors say
            parsed.strength = f"{bare.group(1)} mg"
    names = [w for w in words if w.lower() not in ("x", "\u00d7", "-", "for")]
    parsed.drug_query = " ".join(names)


def parse_line(text: str) -> ParsedLine:
    """Read one prescription line. Parts not present are left empty; see the module's doc."""
    if not isinstance(text, str):
        raise TypeError("A prescription line is text.")
    cleaned = " ".join(text.split())
    parsed = ParsedLine(text=cleaned)
    if not cleaned:
        parsed.problems.append("Type the medicine, for example: Tab Paracetamol 650 1-0-1 x 5d.")
        return parsed
    if len(cleaned) > MAX_LINE:
        parsed.problems.append(f"Keep the line to {MAX_LINE} characters.")
        return parsed
    line = _Line(cleaned)
    _read_frequency(line, parsed)
    _read_duration(line, parsed)
    _read_timing(line, parsed)
    _read_dose(line, parsed)
    purpose = line.take(_PURPOSE_RE)
    if purpose:
        parsed.instructions = purpose.group(0).strip().capitalize()
    _read_form_and_drug(line, parsed)
    return parsed
