"""What the OpenAPI schema says of a field beyond its type: patterns for the text the server
checks (PIN codes, phones, visible text), and the rules a schema cannot express.

`declared(field, pattern=..., rule=...)` marks a serializer field; `clinics.api.schema` adds the
marks to the field's schema (`pattern`, and `x-rule` with the rule in words). A client generated
from the schema then sends nothing refused for a reason the schema does not say: a value that
matches the schema is refused only for a rule named in `x-rule` (a phone number that does not
exist, an id that is not the clinic's), always with a 400 in the error shape naming the field.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable

from rest_framework import serializers

from clinics.dates import EARLIEST_DAY, latest_day
from clinics.validators import hidden_character

PINCODE_PATTERN = r"^([1-9][0-9]{5})?$"
E164_OR_EMPTY_PATTERN = r"^(\+[1-9][0-9]{6,14})?$"
# How people type phone numbers: digits, spaces, +, -, dots and brackets (and, when the number
# is required, something besides spaces).
PHONE_INPUT_PATTERN = r"^[0-9+().\- ]*$"
PHONE_REQUIRED_PATTERN = r"^[0-9+().\- ]*[0-9+().\-][0-9+().\- ]*$"
# Any text DRF takes: no NUL character; when it may not be blank, something besides spaces.
TEXT_PATTERN = r"^[^\u0000]*$"
REQUIRED_TEXT_PATTERN = r"^[^\u0000]*[^\u0000\s][^\u0000]*$"
ABHA_NUMBER_PATTERN = r"^[\s-]*([0-9][\s-]*){14}$|^$"
ABHA_ADDRESS_PATTERN = r"^[A-Za-z][A-Za-z0-9.]{2,}[A-Za-z0-9]@[aA][bB][dD][mM]$|^$"

_STYLE_KEY = "openapi"
PHONE_RULE = "Must be a phone number that exists (checked with its country's numbering plan)."
VISIBLE_RULE = (
    "No invisible control or format characters (Unicode Cc and Cf, except the joiners U+200C "
    "and U+200D): the pattern lists those of the Basic Multilingual Plane."
)
REFERENCE_RULE = "Must be the id of an existing {what} of the caller's clinic."


def declared(
    field: serializers.Field, *, pattern: str | Callable[[], str] = "", rule: str = ""
) -> serializers.Field:
    """Mark `field` for the schema: the `pattern` its text matches (or a function giving it
    when the schema is built), the `rule` beyond it."""
    extra = dict(schema_extra(field))
    if pattern:
        extra["pattern"] = pattern
    if rule:
        extra["x-rule"] = rule
    field.style = {**field.style, _STYLE_KEY: extra}
    # DRF copies declared fields for every serializer instance from their constructor's
    # arguments: keep the marks there too, in `style` (a field's free-form presentation hints).
    field._kwargs["style"] = field.style
    return field


def schema_extra(field: serializers.Field) -> dict:
    """What `declared` said of `field`."""
    return (getattr(field, "style", None) or {}).get(_STYLE_KEY, {})


def _range(start: int, end: int) -> str:
    return f"\\u{start:04X}" if start == end else f"\\u{start:04X}-\\u{end:04X}"


@functools.cache
def visible_text_pattern(*, multiline: bool = False, required: bool = False) -> str:
    """A pattern matching text without the invisible characters `VisibleText` refuses
    (computed from `hidden_character` itself, once per process); `required`: and with
    something besides white space, as DRF trims text and refuses it when blank.

    Only the Basic Multilingual Plane: the few invisible characters beyond it (U+110BD,
    U+E0001, ...) have no spelling that both ECMA and Python regular expressions read the same
    way, so `VISIBLE_RULE` names them instead."""
    hidden = [
        code
        for code in range(0x10000)
        if unicodedata.category(chr(code)) in ("Cc", "Cf")
        and hidden_character(chr(code), multiline=multiline) is not None
    ]
    ranges = []
    start = previous = hidden[0]
    for code in hidden[1:]:
        if code != previous + 1:
            ranges.append(_range(start, previous))
            start = code
        previous = code
    ranges.append(_range(start, previous))
    hidden_chars = "".join(ranges)
    if required:
        return f"^[^{hidden_chars}]*[^{hidden_chars}\\s][^{hidden_chars}]*$"
    return f"^[^{hidden_chars}]*$"


def _years_pattern(first: int, last: int) -> str:
    """A regex alternation matching the four-digit years from `first` to `last`."""
    parts = []
    year = first
    while year <= last:
        decade_end = year - year % 10 + 9
        if year % 10 == 0 and decade_end <= last:
            parts.append(f"{year // 10}[0-9]")
            year = decade_end + 1
        else:
            end = min(decade_end, last)
            digits = f"{year % 10}" if end == year else f"[{year % 10}-{end % 10}]"
            parts.append(f"{year // 10}{digits}")
            year = end + 1
    return "|".join(parts)


def usable_day_pattern() -> str:
    """YYYY-MM-DD with the year inside the calendar a clinic can use (`clinics.dates`)."""
    years = _years_pattern(EARLIEST_DAY.year, latest_day().year)
    return f"^({years})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
