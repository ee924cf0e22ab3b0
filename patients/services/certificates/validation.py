"""Checking a certificate's fields before it is issued: the texts the law asks for, when it may
take effect (never before the examination, at most MAX_DAYS_AHEAD days ahead) and how long it
may cover (at most MAX_REST_DAYS days of rest)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from clinics.errors import ValidationFailed
from patients.models import CertificateKind, Patient, Visit
from patients.selectors.certificates import examination_date

MAX_DAYS_AHEAD = 30
MAX_REST_DAYS = 90

_LIMITS = {
    "identification_mark": 200,
    "condition": 300,
    "purpose": 200,
    "remarks": 2000,
}

# Files one message under a field: refuse("effective_to", "...").
Refuse = Callable[[str, str], None]


def _fmt(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _oneline(value: str | None) -> str:
    return " ".join((value or "").split())


def _checked(
    *,
    patient: Patient,
    kind: str,
    effective_from: date | None,
    effective_to: date | None,
    condition: str,
    remarks: str,
    purpose: str,
    identification_mark: str,
    visit: Visit | None,
    today: date,
    tz: Any,
    earliest: date | None = None,
) -> dict[str, Any]:
    """The certificate's fields, cleaned, or ValidationFailed with a message per field.

    `earliest` is the first day the certificate may take effect from when no visit is linked
    (a correction keeps the floor of the certificate it corrects); by default the issue date.
    """
    errors: dict[str, list[str]] = {}

    def refuse(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    values = {
        "condition": _oneline(condition),
        "purpose": _oneline(purpose),
        "identification_mark": _oneline(identification_mark),
        "remarks": (remarks or "").strip(),
    }
    for field, limit in _LIMITS.items():
        if len(values[field]) > limit:
            refuse(field, f"Keep this to {limit} characters.")

    if patient.archived_at is not None:
        refuse("__all__", "This patient's record is archived. Restore it to issue a certificate.")
    if kind not in CertificateKind.values:
        refuse("kind", "Choose the kind of certificate: sickness, fitness or general.")
    if not values["identification_mark"]:
        refuse(
            "identification_mark",
            "Note a visible identification mark (for example: a mole on the left cheek). The "
            "law asks for it on every certificate.",
        )

    if visit is not None and visit.patient_id != patient.pk:
        refuse("visit", "That visit belongs to another patient.")
        visit = None
    if visit is not None:
        earliest = examination_date(visit, tz)
    elif earliest is not None:
        earliest = min(earliest, today)
    else:
        earliest = today

    _check_effective_from(
        effective_from, earliest=earliest, examined=visit is not None, today=today, refuse=refuse
    )
    _check_period(
        kind,
        effective_from,
        effective_to,
        has_condition=bool(values["condition"]),
        refuse=refuse,
    )
    if errors:
        raise ValidationFailed(errors)
    return {
        **values,
        "kind": kind,
        "effective_from": effective_from,
        "effective_to": effective_to,
        "visit": visit,
    }


def _check_effective_from(
    effective_from: date | None, *, earliest: date, examined: bool, today: date, refuse: Refuse
) -> None:
    """Not before `earliest` (the examination, when `examined`), at most MAX_DAYS_AHEAD ahead."""
    if effective_from is None:
        refuse("effective_from", "Give the date the certificate takes effect from.")
    elif effective_from < earliest:
        if examined:
            refuse(
                "effective_from",
                f"A certificate cannot be back-dated: it can take effect from {_fmt(earliest)}, "
                "the day of the examination, at the earliest.",
            )
        else:
            refuse(
                "effective_from",
                f"A certificate cannot be back-dated: it can take effect from {_fmt(earliest)} "
                "at the earliest. To start from the day you examined the patient, link that "
                "visit.",
            )
    elif effective_from > today + timedelta(days=MAX_DAYS_AHEAD):
        last = today + timedelta(days=MAX_DAYS_AHEAD)
        refuse(
            "effective_from",
            f"A certificate can take effect at most {MAX_DAYS_AHEAD} days ahead, by {_fmt(last)}.",
        )


def _check_period(
    kind: str,
    effective_from: date | None,
    effective_to: date | None,
    *,
    has_condition: bool,
    refuse: Refuse,
) -> None:
    """A fitness certificate has no last day; a sickness one needs it and the condition; a
    period runs forwards and covers at most MAX_REST_DAYS days."""
    if kind == CertificateKind.FITNESS and effective_to is not None:
        refuse(
            "effective_to",
            "A fitness certificate states the day the patient may resume: leave the last day "
            "empty.",
        )
    if kind == CertificateKind.SICKNESS:
        if effective_to is None:
            refuse("effective_to", "Give the last day of rest advised.")
        if not has_condition:
            refuse("condition", "Give the illness or condition that rest is advised for.")
    if kind != CertificateKind.FITNESS and effective_to is not None and effective_from:
        if effective_to < effective_from:
            refuse("effective_to", "The last day cannot be before the first day.")
        elif (days := (effective_to - effective_from).days + 1) > MAX_REST_DAYS:
            refuse(
                "effective_to",
                f"One certificate can cover at most {MAX_REST_DAYS} days (this is {days} "
                "days). Review the patient and issue another certificate then.",
            )
