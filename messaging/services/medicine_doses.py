"""A prescription's medicine doses as reminders: one per due moment, listing every medicine due
then, in the words the patient reads ("PARACETAMOL 500 mg - 1 tablet after food" at "8:00 AM").

Pure computation (no queries): `reminders.plan_for_prescription` writes what `DoseTable` makes.
A 34-day course of 1-1-1 is 102 rows, so each text is made once per clock time and medicine, and
rows of the same clock time and medicines share one context (encoded once by COPY).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Any

from messaging.services.quiet_hours import out_of_quiet
from patients.dosing import FrequencyError, from_json, schedule_for
from patients.models import PrescriptionItem

_GLYPHS = {Decimal("0.5"): "1/2", Decimal("0.25"): "1/4", Decimal("0.75"): "3/4"}


def _amount_text(amount: Decimal) -> str:
    amount = amount.normalize()
    if amount in _GLYPHS:
        return _GLYPHS[amount]
    return format(amount, "f")


def medicine_line(item: PrescriptionItem, amount: Decimal) -> str:
    """ "PARACETAMOL 500 mg - 1 tablet after food" (one line, no new lines: a template value)."""
    name = " ".join(p for p in (item.generic_name, item.strength) if p)
    unit = item.dose_unit or item.get_form_display().lower()
    if unit in ("tablet", "capsule", "sachet") and amount > 1:
        unit += "s"
    parts = [f"{_amount_text(amount)} {unit}"]
    if item.timing:
        parts.append(item.get_timing_display().lower())
    return " ".join([f"{name} -", *parts])[:300]


def _time_text(at: dt.datetime) -> str:
    """ "8:00 AM"."""
    return f"{at.hour % 12 or 12}:{at:%M} {at:%p}"


class DoseTable:
    """The future doses of one prescription's items, by due moment (UTC, out of quiet hours:
    moved to the nearer edge, never skipped)."""

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
        # Bound once: this loop runs for every dose of a course.
        tz, now, utc = self.tz, self.now, dt.UTC
        start, end = self.quiet
        by_due, lines, time_texts = self.by_due, self._lines, self._time_texts
        for dose in doses:
            local = dt.datetime.combine(dose.date, dose.time, tzinfo=tz)
            due = out_of_quiet(local.astimezone(utc), tz=tz, start=start, end=end, nearest=True)
            if due <= now:
                continue
            entry = by_due.get(due)
            if entry is None:
                # The dose's own clock time (before any quiet-hours move) is what the patient
                # reads; the first medicine due at this moment names it.
                text = time_texts.get(dose.time)
                if text is None:
                    text = time_texts[dose.time] = _time_text(local)
                entry = by_due[due] = {
                    "prescription_id": self.prescription_id,
                    "dose_time": text,
                    "items": [],
                }
            key = (item.pk, dose.amount)
            line = lines.get(key)
            if line is None:
                line = lines[key] = {"id": item.pk, "text": medicine_line(item, dose.amount)}
            entry["items"].append(line)

    def contexts(self) -> dict[dt.datetime, dict[str, Any]]:
        """{due: context}. Dose times with the same clock time and medicines share one context
        object, which COPY encodes once: a 34-day course of 1-1-1 has 3 for its 102 rows."""
        distinct: dict[tuple[Any, ...], dict[str, Any]] = {}
        return {
            due: distinct.setdefault(
                (entry["dose_time"], *(id(line) for line in entry["items"])), entry
            )
            for due, entry in self.by_due.items()
        }
