from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from clinics.formatting import format_date, format_datetime, format_inr
from clinics.validators import validate_abha_address, validate_abha_number, validate_gstin_format

IST = ZoneInfo("Asia/Kolkata")


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("123456"), "Rs 1,23,456.00"),
        (Decimal("12345678.5"), "Rs 1,23,45,678.50"),
        (Decimal("999"), "Rs 999.00"),
        (Decimal("1000"), "Rs 1,000.00"),
        (Decimal("0.005"), "Rs 0.01"),
        (Decimal("-2500"), "-Rs 2,500.00"),
        (0, "Rs 0.00"),
    ],
)
def test_money_in_lakh_grouping(amount, text):
    assert format_inr(amount) == text


def test_dates_and_times_in_clinic_timezone():
    assert format_date(date(2027, 1, 12)) == "12 Jan 2027"
    late_utc = datetime(2027, 1, 11, 20, 0, tzinfo=UTC)  # 1:30 am next day in India
    assert format_date(late_utc, IST) == "12 Jan 2027"
    assert format_datetime(late_utc, IST) == "12 Jan 2027, 1:30 am"
    assert format_datetime(datetime(2027, 1, 12, 12, 5, tzinfo=UTC), IST) == "12 Jan 2027, 5:35 pm"


@pytest.mark.parametrize("value", ["91-1234-5678-9012", "91123456789012", "91 1234 5678 9012"])
def test_abha_number_ok(value):
    validate_abha_number(value)


@pytest.mark.parametrize("value", ["9112345678901", "911234567890123", "91-1234-5678-901X"])
def test_abha_number_bad(value):
    with pytest.raises(ValidationError):
        validate_abha_number(value)


@pytest.mark.parametrize("value", ["meena@abdm", "meena.k1@abdm", "abcd@abdm", "a1.b@abdm"])
def test_abha_address_ok(value):
    validate_abha_address(value)


@pytest.mark.parametrize(
    "value",
    [
        "abc@abdm",
        "1meena@abdm",
        ".meena@abdm",
        "meena.@abdm",
        "meena@gmail.com",
        "meena_k@abdm",
        "meena",
    ],
)
def test_abha_address_bad(value):
    with pytest.raises(ValidationError):
        validate_abha_address(value)


def test_gstin():
    validate_gstin_format("29AAPFU0939F1ZR")
    for bad in ("29AAPFU0939F1ZV", "99AAPFU0939F1ZR", "29AAPFU0939F1Z"):
        with pytest.raises(ValidationError):
            validate_gstin_format(bad)
