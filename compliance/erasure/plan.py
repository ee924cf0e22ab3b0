"""The erasure's dry run: per registered patient kind, how many rows go and which must be kept,
with the legal basis and the day they may go (`erasable_on`). When nothing must be kept, every
kind is deleted, the anonymised ones too: no kept record is left for them to stay attached to.

Clinical records (and the consent they relied on) are kept until the last visit plus the
clinic's period, and for a minor until they turn 21 if that is later; bills until the end of
their financial year plus the billing period; any other kept kind until its newest row's
`age_field` plus its period. A kept kind whose day has passed is erased like the rest.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Max
from django.utils import timezone

from compliance.personal_data import (
    BILLING,
    CLINICAL,
    CONSENT_RECORD,
    DELETE,
    PATIENT,
    RETAIN,
    PersonalData,
    kind_rows,
    kinds_about,
)
from compliance.retention import retention_periods
from patients.models import Patient, Visit

MINOR_KEPT_UNTIL_AGE = 21


def period_days(clinic_id: int, retention: str) -> int:
    """The clinic's period for a retention class (its policy, else the class's default)."""
    return retention_periods(clinic_id=clinic_id)[retention]


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def clinical_erasable_on(patient: Patient, retention: str = CLINICAL) -> date:
    """The day a patient's clinical record may go: last visit (or registration) + the period,
    and for a minor not before their 21st birthday."""
    last = Visit.objects.filter(patient_id=patient.pk).aggregate(m=Max("created_at"))["m"]
    start = timezone.localdate(last) if last else timezone.localdate(patient.created_at)
    day = start + timedelta(days=period_days(patient.clinic_id, retention))
    return max(day, _add_years(patient.date_of_birth, MINOR_KEPT_UNTIL_AGE))


def _financial_year_end(day: date) -> date:
    return date(day.year + (1 if day.month > 3 else 0), 3, 31)


def kind_erasable_on(kind: PersonalData, patient: Patient, rows: Any) -> date:
    if kind.retention in (CLINICAL, CONSENT_RECORD):
        return clinical_erasable_on(patient, kind.retention)
    newest = rows.aggregate(m=Max(kind.age_field))["m"] if kind.age_field else None
    if isinstance(newest, datetime):
        newest = timezone.localdate(newest)
    start = newest or timezone.localdate()
    if kind.retention == BILLING:
        start = _financial_year_end(start)
    return start + timedelta(days=period_days(patient.clinic_id, kind.retention))


def kept_until(patient: Patient, *, today: date) -> date | None:
    """The last day a kept kind other than the clinical record itself still holds the patient's
    record (bills under tax law, data-rights evidence, consent records), or None. The retention
    purge erases a whole record only when this has passed too, so it never deletes a bill the
    tax rules still keep. About two queries per kind the patient has rows of."""
    latest: date | None = None
    for kind in kinds_about(PATIENT):
        if kind.erasure != RETAIN or kind.retention == CLINICAL:
            continue
        rows = kind_rows(kind, patient.pk)
        if not rows.exists():
            continue
        day = kind_erasable_on(kind, patient, rows)
        if day > today and (latest is None or day > latest):
            latest = day
    return latest


def erasure_plan_rows(patient: Patient, *, today: date | None = None) -> list[dict[str, Any]]:
    """The dry run, one entry per registered patient kind with rows (no personal values)."""
    today = today or timezone.localdate()
    plan = []
    for kind in kinds_about(PATIENT):
        rows = kind_rows(kind, patient.pk)
        count = rows.count()
        if not count:
            continue
        rc = kind.retention_class
        entry: dict[str, Any] = {
            "kind": kind.name,
            "description": kind.description,
            "count": count,
            "action": kind.erasure,
            "retention": rc.label,
            "basis": "",
            "erasable_on": None,
        }
        if kind.erasure == RETAIN:
            erasable_on = kind_erasable_on(kind, patient, rows)
            if erasable_on > today:
                entry.update(
                    action="keep",
                    basis=rc.basis,
                    counts_from=rc.counts_from,
                    erasable_on=erasable_on.isoformat(),
                )
            else:
                entry["action"] = "delete"
        plan.append(entry)
    if not any(e["action"] == "keep" for e in plan):
        # Nothing must be kept, so nothing anonymised would stay attached to a kept record:
        # every row goes (as in the retention purge), the patient's own row last.
        for entry in plan:
            entry["action"] = DELETE
    return plan
