"""Validators for Indian identifiers, built on python-stdnum and phonenumbers."""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.in_ import gstin as stdnum_gstin

# Zero-width non-joiner and joiner are format characters, but Devanagari, Bengali, Malayalam and
# other Indian scripts need them to spell names as their owners write them.
_SCRIPT_JOINERS = frozenset("\u200c\u200d")
_LINE_BREAKS = frozenset("\n\r\t")


def hidden_character(value: str, *, multiline: bool = False) -> str | None:
    """The first invisible control or format character in `value` (Unicode Cc or Cf), if any.

    These include the bidirectional controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F,
    U+061C) that make "Evil\u202eTXT.exe" display as "Evilexe.TXT". ZWNJ and ZWJ are kept;
    `multiline` keeps line breaks and tabs for text typed into a text area.
    """
    for char in value or "":
        if char in _SCRIPT_JOINERS or (multiline and char in _LINE_BREAKS):
            continue
        if unicodedata.category(char) in ("Cc", "Cf"):
            return char
    return None


@deconstructible
class VisibleText:
    """Refuses names and other identifying text that hold invisible control characters, which
    would let one name show as another in lists, printed documents and WhatsApp messages."""

    def __init__(self, label: str, *, multiline: bool = False):
        self.label = label
        self.multiline = multiline

    def __call__(self, value: str) -> None:
        char = hidden_character(value, multiline=self.multiline)
        if char is None:
            return
        name = unicodedata.name(char, "control character")
        raise ValidationError(
            "The %(label)s contains an invisible character (U+%(code)04X %(name)s) that can "
            "make it show as something else. Remove it and type the %(label)s again.",
            params={"label": self.label, "code": ord(char), "name": name},
            code="hidden_character",
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VisibleText) and (self.label, self.multiline) == (
            other.label,
            other.multiline,
        )

    def __hash__(self) -> int:
        return hash((self.label, self.multiline))


_PINCODE_RE = re.compile(r"^[1-9][0-9]{5}$")


def validate_pincode(value: str) -> None:
    """An Indian PIN code: 6 digits, the first not 0. Blank is left to the field's `blank`."""
    if value and not _PINCODE_RE.match(value):
        raise ValidationError(
            "A PIN code has 6 digits and does not start with 0, for example 560041.",
            code="invalid_pincode",
        )


def normalise_gstin(value: str) -> str:
    return stdnum_gstin.compact(value or "")


def validate_gstin_format(value: str) -> None:
    """A GSTIN: 15 characters, a valid state code, PAN and check character."""
    if not value:
        return
    try:
        stdnum_gstin.validate(value)
    except StdnumError as exc:
        raise ValidationError(
            "Enter a valid 15-character GSTIN, for example 29AAPFU0939F1ZR (%(reason)s).",
            params={"reason": str(exc).rstrip(".").lower()},
            code="invalid_gstin",
        ) from exc


_ABHA_NUMBER_RE = re.compile(r"^\d{14}$")
_ABHA_HANDLE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9.]{2,}[A-Za-z0-9]$")


def normalise_abha_number(value: str) -> str:
    """'91-1234-5678-9012', '91 1234 5678 9012' -> '91123456789012'."""
    return re.sub(r"[\s-]", "", value or "")


def format_abha_number(digits: str) -> str:
    if len(digits) != 14:
        return digits
    return f"{digits[:2]}-{digits[2:6]}-{digits[6:10]}-{digits[10:]}"


def validate_abha_number(value: str) -> None:
    if value and not _ABHA_NUMBER_RE.match(normalise_abha_number(value)):
        raise ValidationError(
            "An ABHA number has 14 digits, written like 91-1234-5678-9012.", code="invalid_abha"
        )


def validate_abha_address(value: str) -> None:
    """`handle@abdm`: handle of 4+ letters, digits or dots; not starting with a digit or dot,
    not ending with a dot."""
    if not value:
        return
    handle, sep, domain = value.partition("@")
    if sep != "@" or domain.lower() != "abdm" or not _ABHA_HANDLE_RE.match(handle):
        raise ValidationError(
            "An ABHA address looks like name.surname@abdm: at least 4 letters, digits or dots, "
            "starting with a letter and not ending with a dot.",
            code="invalid_abha_address",
        )
