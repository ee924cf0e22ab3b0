"""A prescription's medicine doses as reminders: one per due moment, listing every medicine due
then, in the words the patient reads ("PARACETAMOL 500 mg - 1 tablet after food" at "8:00 AM").

Pure computation (no queries): `reminders.plan_for_prescription` writes what `DoseTable` makes.
The words are in the active language (`plan_for_prescription` runs it in the patient's). A
34-day course of 1-1-1 is 102 rows, so each text is made once per clock time and medicine, and
rows of the same clock time and medicines share one context (encoded once by COPY).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext_lazy

from patients.dosing import FrequencyError, from_json, schedule_for
from patients.dosing.quiet import quiet_plan
from patients.models import PrescriptionItem

_NO_SHIFT = dt.timedelta(0)
_GLYPHS = {Decimal("0.5"): "1/2", Decimal("0.25"): "1/4", Decimal("0.75"): "3/4"}


def _amount_text(amount: Decimal) -> str:
    amount = amount.normalize()
    if amount in _GLYPHS:
        return _GLYPHS[amount]
    return format(amount, "f")


# Dose units that are words, in the patient's language (abbreviations like "ml" stay as they
# are): the unit as the prescription or the drug's form names it -> (one, several).
UNIT_WORDS = {
    "tablet": ngettext_lazy("%(amount)s tablet", "%(amount)s tablets", "count"),
    "capsule": ngettext_lazy("%(amount)s capsule", "%(amount)s capsules", "count"),
    "sachet": ngettext_lazy("%(amount)s sachet", "%(amount)s sachets", "count"),
    "drop": ngettext_lazy("%(amount)s drop", "%(amount)s drops", "count"),
    "drops": ngettext_lazy("%(amount)s drop", "%(amount)s drops", "count"),
    "puff": ngettext_lazy("%(amount)s puff", "%(amount)s puffs", "count"),
    "injection": ngettext_lazy("%(amount)s injection", "%(amount)s injections", "count"),
}


def _dose_text(amount: Decimal, unit: str) -> str:
    """ "1 tablet", "2 tablets", "1/2 tablet", "5 ml" in the active language."""
    text = _amount_text(amount)
    words = UNIT_WORDS.get(unit.strip().lower())
    if words is None:
        return f"{text} {unit}".strip()
    several = amount > 1
    return words % {"amount": text, "count": 2 if several else 1}


def medicine_line(item: PrescriptionItem, amount: Decimal) -> str:
    """ "PARACETAMOL 500 mg - 1 tablet after food" (one line, no new lines: a template value),
    in the active language (the drug's name and strength as written)."""
    name = " ".join(p for p in (item.generic_name, item.strength) if p)
    unit = item.dose_unit or item.get_form_display().lower()
    parts = [_dose_text(amount, unit)]
    if item.timing:
        parts.append(str(item.get_timing_display()).lower())
    return " ".join([f"{name} -", *parts])[:300]


def _time_text(at: dt.datetime) -> str:
    """ "8:00 AM" in the active language."""
    return date_format(at, "g:i A")


def _at(line_text: str, time: str) -> str:
    return gettext("%(medicine)s at %(time)s") % {"medicine": line_text, "time": time}


def _mixed_times(entry: dict[str, Any], line: dict[str, Any], text: str) -> dict[str, Any]:
    """Medicines due at different times reminded together (moved out of quiet hours): each
    line says its own due time, and the reminder's time lists them all."""
    times = entry.setdefault("times", [entry["dose_time"]])
    if len(times) == 1:
        entry["items"] = [{**old, "text": _at(old["text"], times[0])} for old in entry["items"]]
    if text not in times:
        times.append(text)
    return {**line, "text": _at(line["text"], text)}


def _joined(times: list[str]) -> str:
    """ "8:00 AM and 9:30 PM" in the active language."""
    return gettext(" and ").join(times)


class DoseTable:
    """The future doses of one prescription's items, by due moment (UTC). A dose in quiet
    hours is moved to the nearer edge when the drug's minimum gap allows it, else it is not
    reminded (`patients.dosing.quiet`); a reminder lists each medicine once, and the time it
    shows is the time the dose is due."""

    def __init__(
        self,
        *,
        prescription_id: int,
        tz: zoneinfo.ZoneInfo,
        quiet: tuple[dt.time, dt.time],
        now: dt.datetime,
        visit_day: dt.date,
    ) -> None:
        self.prescription_id = prescription_id
        self.tz = tz
        self.quiet = quiet
        self.now = now
        self.visit_day = visit_day
        self.by_due: dict[dt.datetime, dict[str, Any]] = {}
        self._lines: dict[tuple[int, Decimal], dict[str, Any]] = {}
        self._time_texts: dict[dt.time, str] = {}

    def add(self, item: PrescriptionItem) -> None:
        """Add the item's doses from now on. SOS / as-needed, STAT and long-term items (no
        duration) have none; a stopped item neither."""
        if item.stopped_at is not None or not item.schedule:
            return
        try:
            frequency = from_json(item.schedule)
        except FrequencyError:
            return
        doses = schedule_for(
            frequency,
            dose_amount=item.dose_amount,
            start=item.starts_on or self.visit_day,
            duration_days=item.duration_days,
        )
        # Which of the day's doses are reminded, and when (quiet hours, the drug's gap).
        plan = quiet_plan(frequency, start=self.quiet[0], end=self.quiet[1])
        shifts = {d.time: d.shift for d in plan.doses}
        # Bound once: this loop runs for every dose of a course.
        tz, now, utc = self.tz, self.now, dt.UTC
        by_due, lines, time_texts = self.by_due, self._lines, self._time_texts
        for dose in doses:
            shift = shifts.get(dose.time, _NO_SHIFT)
            if shift is None:
                continue  # in quiet hours and not movable within the drug's gap
            local = dt.datetime.combine(dose.date, dose.time, tzinfo=tz)
            due = (local + shift).astimezone(utc)
            if due <= now:
                continue
            # The time the dose is due (before any quiet-hours move) is what the patient reads.
            text = time_texts.get(dose.time)
            if text is None:
                text = time_texts[dose.time] = _time_text(local)
            entry = by_due.get(due)
            if entry is None:
                entry = by_due[due] = {
                    "prescription_id": self.prescription_id,
                    "dose_time": text,
                    "items": [],
                }
            if any(line["id"] == item.pk for line in entry["items"]):
                continue  # never one medicine twice in a reminder
            key = (item.pk, dose.amount)
            line = lines.get(key)
            if line is None:
                line = lines[key] = {"id": item.pk, "text": medicine_line(item, dose.amount)}
            if text != entry["dose_time"] or len(entry.get("times", ())) > 1:
                line = _mixed_times(entry, line, text)
            entry["items"].append(line)

    def contexts(self) -> dict[dt.datetime, dict[str, Any]]:
        """{due: context}. Dose times with the same clock time and medicines share one context
        object, which COPY encodes once: a 34-day course of 1-1-1 has 3 for its 102 rows."""
        distinct: dict[tuple[Any, ...], dict[str, Any]] = {}
        for entry in self.by_due.values():
            times = entry.pop("times", None)
            if times:
                entry["dose_time"] = _joined(times)
        return {
            due: distinct.setdefault(
                (entry["dose_time"], *(id(line) for line in entry["items"])), entry
            )
            for due, entry in self.by_due.items()
        }
