"""A draft's clinical notes: complaints, history, examination, advice, follow-up and mode."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinics.audit import Actions
from clinics.errors import DomainError, ValidationFailed
from clinics.models import Clinic, Membership, User
from clinics.roles import Perm
from patients.models import Visit, VisitMode
from patients.services.visits._common import (
    CANNOT_DRAFT_NOTES,
    NOTE_FIELDS,
    TEXT_NOTE_FIELDS,
    _audit,
    _check_teleconsultation,
    _editable_visit,
)

FOLLOW_UP_MAX_YEARS = 2


def _encounter_date(visit: Visit) -> date:
    """The clinic-local date the patient was seen: the first version's, for an amendment."""
    first = visit
    while first.amends_id:
        first = Visit.objects.only("id", "amends_id", "created_at").get(pk=first.amends_id)
    tz = Clinic.objects.only("timezone").get(pk=visit.clinic_id).tzinfo
    return timezone.localtime(first.created_at, tz).date()


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _cleaned_notes(
    fields: dict[str, Any], visit: Visit
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The notes' new values, and a message for each field that cannot be saved."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for field, value in fields.items():
        if field in TEXT_NOTE_FIELDS:
            if value is None:
                value = ""
            if not isinstance(value, str):
                errors[field] = ["Enter text."]
                continue
            values[field] = value.strip()
        elif field == "mode":
            if value not in VisitMode.values:
                errors["mode"] = ["Choose in person or teleconsultation."]
                continue
            values["mode"] = value
    if "follow_up_date" in fields:
        new_date = fields["follow_up_date"]
        if new_date != visit.follow_up_date:  # an unchanged date is not checked again
            values["follow_up_date"] = _clean_follow_up(new_date, visit, errors)
    return values, errors


def _clean_follow_up(value: Any, visit: Visit, errors: dict[str, list[str]]) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            errors["follow_up_date"] = ["Enter the follow-up date as a date."]
            return None
    if isinstance(value, datetime) or not isinstance(value, date):
        errors["follow_up_date"] = ["Enter the follow-up date as a date."]
        return None
    seen_on = _encounter_date(visit)
    if value < seen_on:
        errors["follow_up_date"] = ["The follow-up date cannot be before the visit."]
    elif value > _years_later(seen_on, FOLLOW_UP_MAX_YEARS):
        errors["follow_up_date"] = [
            f"The follow-up date must be within {FOLLOW_UP_MAX_YEARS} years of the visit."
        ]
    return value


@transaction.atomic
def visit_update_notes(
    *, visit: Visit, actor: User, actor_membership: Membership, **fields: Any
) -> Visit:
    """Change a draft's notes: any of chief_complaints, history, examination,
    investigations_advised, advice (text), follow_up_date (a date or None) and mode.

    An assistant (clinical.draft) drafts the notes of any draft visit for its doctor to sign;
    a doctor or owner (clinical.edit) writes only their own visit's notes. The follow-up date
    may not be before the visit nor more than two years after it. The audit event lists the
    changed field names only.
    """
    unknown = set(fields) - set(NOTE_FIELDS)
    if unknown:
        raise DomainError(f"Unknown visit fields: {', '.join(sorted(unknown))}")
    visit = _editable_visit(
        visit_id=visit.pk,
        clinic_id=visit.clinic_id,
        actor=actor,
        membership=actor_membership,
        perm=Perm.CLINICAL_DRAFT,
        message=CANNOT_DRAFT_NOTES,
        doctors_own_only=True,
    )
    values, errors = _cleaned_notes(fields, visit)
    if errors:
        raise ValidationFailed(errors)
    changed = [field for field, value in values.items() if getattr(visit, field) != value]
    if not changed:
        return visit
    if "mode" in changed:
        _check_teleconsultation(patient=visit.patient, mode=values["mode"], visit=visit)
    for field in changed:
        setattr(visit, field, values[field])
    visit.save(update_fields=[*changed, "updated_at"])
    _audit(
        visit=visit,
        actor=actor,
        action=Actions.VISIT_NOTES_UPDATED,
        target=visit,
        data={"fields": sorted(changed)},
    )
    return visit
