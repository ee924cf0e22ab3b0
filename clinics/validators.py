"""Validators for Indian identifiers, built on python-stdnum and phonenumbers."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.in_ import gstin as stdnum_gstin

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
