"""The calendar a clinic can use: every date a user or client sends is bounded to it.

Python's dates run from year 1 to 9999, but a day at either end has no next (or previous)
day and no local midnight in every time zone, so the day view, the slots and the queue would
crash on them. Nothing a clinic does is before 1900 or more than ten years ahead.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

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


# A clinic's booking horizon: how many days ahead an appointment can be booked. Without one a
# mistyped year (2062 for 2026) books a slot nobody will ever see.
DEFAULT_BOOKING_HORIZON_DAYS = 365
MIN_BOOKING_HORIZON_DAYS = 1
MAX_BOOKING_HORIZON_DAYS = 730


class HasHorizon(Protocol):
    """A clinic, as far as its horizon goes (clinics.models imports this module)."""

    booking_horizon_days: int

    @property
    def tzinfo(self) -> ZoneInfo: ...


def last_bookable_day(clinic: HasHorizon, now: datetime | None = None) -> date:
    """The last local day on which the clinic takes bookings: today plus its horizon."""
    today = timezone.localtime(now or timezone.now(), clinic.tzinfo).date()
    return today + timedelta(days=clinic.booking_horizon_days)


def beyond_horizon_message(clinic: HasHorizon, now: datetime | None = None) -> str:
    last = format_date(last_bookable_day(clinic, now))
    return (
        f"Appointments can be booked up to {clinic.booking_horizon_days} days ahead: "
        f"the last bookable day is {last}."
    )
