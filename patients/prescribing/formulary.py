"""The starter formulary for Indian outpatient practice (`patients/data/formulary_in.csv`):
common generics with strength, form, route, WHO ATC code, usual adult dose, maximum daily dose
in mg where it is well established, and the brand names doctors type ("Dolo 650").

`parse_formulary` reads and checks a CSV (the shipped file, or one an owner imports) and
returns rows or per-row errors; `generic_atc_codes` maps each generic name to its ATC codes, so
a medicine typed in by hand is still checked by class.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from patients.models.prescriptions import DrugForm, Route

FORMULARY_PATH = Path(__file__).resolve().parent.parent / "data" / "formulary_in.csv"
COLUMNS = (
    "generic_name",
    "strength",
    "form",
    "route",
    "atc_code",
    "usual_adult_dose",
    "max_daily_dose_mg",
    "brand_names",
)
REQUIRED_COLUMNS = ("generic_name", "form", "route")
MAX_ROWS = 5000
MAX_BRANDS = 12
MAX_BRAND_LENGTH = 60
_ATC = re.compile(r"^[A-Z](\d\d([A-Z]([A-Z](\d\d)?)?)?)?$")
_SPLIT_COMPONENTS = re.compile(r"\s*\+\s*")


@dataclass(frozen=True)
class FormularyRow:
    line: int
    generic_name: str
    strength: str
    form: str
    route: str
    atc_code: str
    usual_adult_dose: str
    max_daily_dose_mg: Decimal | None
    brand_names: tuple[str, ...] = field(default=())


def components(generic_name: str) -> list[str]:
    """The ingredients of a generic name: "AMOXICILLIN + CLAVULANIC ACID" gives both."""
    return [p for p in _SPLIT_COMPONENTS.split(" ".join(generic_name.upper().split())) if p]


def brand_key(name: str) -> str:
    """How brand names are searched: capitals, letters and digits only ("Taxim-O" -> TAXIMO)."""
    return "".join(ch for ch in name.upper() if ch.isalnum())


def _cell(row: dict[str, str | None], name: str) -> str:
    return " ".join((row.get(name) or "").split())


def _max_dose(text: str, errors: list[str]) -> Decimal | None:
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        errors.append("max_daily_dose_mg must be a number of mg, or empty")
        return None
    if not value.is_finite() or value <= 0 or value >= 1_000_000:
        errors.append("max_daily_dose_mg must be more than 0 and under 1000000")
        return None
    return value


def _brands(text: str, errors: list[str]) -> tuple[str, ...]:
    brands = tuple(b for b in (" ".join(p.split()) for p in text.split(";")) if b)
    if len(brands) > MAX_BRANDS:
        errors.append(f"at most {MAX_BRANDS} brand names")
    if any(len(b) > MAX_BRAND_LENGTH or not brand_key(b) for b in brands):
        errors.append(f"each brand name needs letters or digits, under {MAX_BRAND_LENGTH}")
    return brands


def _row(line: int, raw: dict[str, str | None], forms: set[str], routes: set[str]):
    errors: list[str] = []
    name = _cell(raw, "generic_name").upper()
    if not name or len(name) > 200:
        errors.append("generic_name is required (under 200 characters)")
    strength = _cell(raw, "strength")
    if len(strength) > 60:
        errors.append("strength must be under 60 characters")
    form = _cell(raw, "form").lower()
    if form not in forms:
        errors.append(f"form must be one of {', '.join(sorted(forms))}")
    route = _cell(raw, "route").lower()
    if route not in routes:
        errors.append(f"route must be one of {', '.join(sorted(routes))}")
    atc = _cell(raw, "atc_code").upper()
    if atc and not _ATC.match(atc):
        errors.append("atc_code must be a WHO ATC code such as N02BE01, or empty")
    dose = _cell(raw, "usual_adult_dose")
    if len(dose) > 120:
        errors.append("usual_adult_dose must be under 120 characters")
    max_dose = _max_dose(_cell(raw, "max_daily_dose_mg"), errors)
    brands = _brands(raw.get("brand_names") or "", errors)
    if errors:
        return None, f"Line {line}: " + "; ".join(errors) + "."
    return FormularyRow(line, name, strength, form, route, atc, dose, max_dose, brands), None


def parse_formulary(
    text: str, *, forms: set[str], routes: set[str]
) -> tuple[list[FormularyRow], list[str]]:
    """Rows of a formulary CSV and the errors of each bad line ("Line 7: form must be ...").

    The header must name at least generic_name, form and route; unknown columns are refused,
    so a misspelt column is not silently ignored. A row repeating an earlier row's generic
    name, strength and form is an error.
    """
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing columns: {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown columns: {', '.join(unknown)}")
        return [], [f"Line 1: {'; '.join(problems)}. Expected: {', '.join(COLUMNS)}."]
    reader.fieldnames = header
    rows: list[FormularyRow] = []
    errors: list[str] = []
    seen: dict[tuple[str, str, str], int] = {}
    for number, raw in enumerate(reader, 2):
        if number - 1 > MAX_ROWS:
            errors.append(f"A formulary file holds at most {MAX_ROWS} rows.")
            break
        if None in raw:
            errors.append(f"Line {number}: more cells than columns (quote cells with commas).")
            continue
        row, error = _row(number, raw, forms, routes)
        if error:
            errors.append(error)
            continue
        key = (row.generic_name, row.strength.casefold(), row.form)
        if key in seen:
            errors.append(f"Line {number}: the same drug as line {seen[key]}.")
            continue
        seen[key] = number
        rows.append(row)
    return rows, errors


@cache
def shipped_formulary() -> tuple[FormularyRow, ...]:
    """The formulary shipped with Vaidya (read once per process)."""
    rows, errors = parse_formulary(
        FORMULARY_PATH.read_text(encoding="utf-8"),
        forms=set(DrugForm.values),
        routes=set(Route.values),
    )
    if errors:  # the shipped file is tested; this guards against a bad edit
        raise ValueError("; ".join(errors[:5]))
    return tuple(rows)


@cache
def generic_atc_codes() -> dict[str, frozenset[str]]:
    """Each generic name of the shipped formulary (combinations as written, "SULFAMETHOXAZOLE
    + TRIMETHOPRIM") and its ATC codes."""
    codes: dict[str, set[str]] = {}
    for row in shipped_formulary():
        if row.atc_code:
            codes.setdefault(" + ".join(components(row.generic_name)), set()).add(row.atc_code)
    return {name: frozenset(found) for name, found in codes.items()}
