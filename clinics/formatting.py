"""Indian conventions for showing money, dates and times."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo


def group_indian(integer_digits: str) -> str:
    """'12345678' -> '1,23,45,678' (lakh and crore grouping)."""
    if len(integer_digits) <= 3:
        return integer_digits
    head, tail = integer_digits[:-3], integer_digits[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    return ",".join(groups) + "," + tail


def format_inr(amount: Decimal | int | str | None, *, symbol: str = "Rs ") -> str:
    """Decimal('123456') -> 'Rs 1,23,456.00'. Rounds half up to paise; never uses floats."""
    if amount is None or amount == "":
        return ""
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    integer, _, fraction = f"{abs(value):.2f}".partition(".")
    return f"{sign}{symbol}{group_indian(integer)}.{fraction}"


def format_date(value: date | datetime | None, tz: ZoneInfo | None = None) -> str:
    """12 Jan 2027. Aware datetimes are first converted to the clinic's time zone."""
    if value is None:
        return ""
    if isinstance(value, datetime) and value.tzinfo is not None and tz is not None:
        value = value.astimezone(tz)
    return f"{value.day} {value:%b %Y}"


def format_datetime(value: datetime | None, tz: ZoneInfo) -> str:
    """12 Jan 2027, 5:30 pm in the clinic's time zone."""
    if value is None:
        return ""
    local = value.astimezone(tz)
    hour = local.hour % 12 or 12
    return f"{format_date(local)}, {hour}:{local:%M} {'am' if local.hour < 12 else 'pm'}"
