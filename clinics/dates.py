"""The calendar a clinic can use: every date a user or client sends is bounded to it.

Python's dates run from year 1 to 9999, but a day at either end has no next (or previous)
day and no local midnight in every time zone, so the day view, the slots and the queue would
crash on them. Nothing a clinic does is before 1900 or more than ten years ahead.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

from clinics.formatting import format_date

EARLIEST_DAY = date(1900, 1, 1)
YEARS_AHEAD = 10
# For API descriptions and help texts.
DATE_RANGE = f"From {EARLIEST_DAY.isoformat()} to the end of the year {YEARS_AHEAD} years ahead."


def latest_day(today: date | None = None) -> date:
    """The last day a clinic can ask about: the end of the year ten years from now."""
    today = today or timezone.localdate()
    return date(today.year + YEARS_AHEAD, 12, 31)


def out_of_range_message(today: date | None = None) -> str:
    return f"Give a date between {format_date(EARLIEST_DAY)} and {format_date(latest_day(today))}."


def is_usable_day(value: date, today: date | None = None) -> bool:
    return EARLIEST_DAY <= value <= latest_day(today)


def validate_usable_day(value: date) -> None:
    """A validator for form and serializer date fields: refuses a day outside the calendar."""
    if not is_usable_day(value):
        raise ValidationError(out_of_range_message(), code="date_out_of_range")
