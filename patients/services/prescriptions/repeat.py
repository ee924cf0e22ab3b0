"""Repeating the patient's last prescription on today's visit."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from django.db import transaction

from clinics.actors import Actor
from clinics.audit import Actions, audit_record
from clinics.errors import DomainError
from clinics.models import Membership
from patients.models import Prescription, PrescriptionItem, Visit
from patients.selectors.prescriptions import last_prescription
from patients.services.prescriptions._common import (
    _draft_prescription,
    _locked_visit,
    _require_visit_doctor,
)
from patients.services.prescriptions.batch import Line, add_reviewed_lines
from patients.services.prescriptions.safety import audit_codes

REPEATED_FIELDS = (
    "generic_name",
    "strength",
    "form",
    "route",
    "dose_amount",
    "dose_unit",
    "frequency",
    "duration_days",
    "timing",
    "instructions",
)


def repeat_lines(prescription: Prescription) -> list[Line]:
    """The medicines of a prescription still being taken, as lines to add again."""
    items = PrescriptionItem.objects.filter(
        prescription=prescription, stopped_at__isnull=True
    ).select_related("drug")
    lines = []
    for item in items.order_by("position", "id"):
        raw = {field: getattr(item, field) for field in REPEATED_FIELDS}
        drug = item.drug if item.drug is not None and item.drug.is_active else None
        missing = item.drug_id is not None and drug is None
        lines.append(Line(raw, drug, missing=missing, brand_name=item.brand_name))
    return lines


@transaction.atomic
def prescription_repeat_last(
    *,
    visit: Visit,
    actor: Actor,
    actor_membership: Membership,
    overrides: Mapping[int, str] | None = None,
    leave_out: Collection[int] = (),
) -> list[PrescriptionItem]:
    """Add the medicines of the patient's last signed prescription to this visit's draft,
    starting today. Each line is checked as if typed now against today's allergies, the
    medicines already on the prescription and the maximum doses: a line the checks stop raises
    ReviewNeeded until the doctor gives a reason (`overrides`, by line number from 1) or leaves
    it out (`leave_out`). Medicines stopped since are not repeated."""
    visit = _locked_visit(visit.pk)
    _require_visit_doctor(visit, actor, actor_membership)
    previous = last_prescription(visit)
    if previous is None:
        raise DomainError("This patient has no earlier signed prescription to repeat.")
    prescription, created = _draft_prescription(visit)
    lines = repeat_lines(previous)
    if not lines:
        raise DomainError("Every medicine of the last prescription has been stopped.")
    items = add_reviewed_lines(
        visit=visit,
        prescription=prescription,
        lines=lines,
        overrides=overrides,
        leave_out=leave_out,
        message="The last prescription could not be repeated.",
    )
    _keep_long_term(previous, items)
    audit_record(
        clinic=visit.clinic_id,
        actor=actor,
        action=Actions.PRESCRIPTION_REPEATED,
        target=prescription,
        patient_id=visit.patient_id,
        data={
            "visit_id": visit.pk,
            "prescription_id": prescription.pk,
            "prescription_created": created,
            "repeated_prescription_id": previous.pk,
            "items": len(items),
            "left_out": len(set(leave_out)),
            "overridden": audit_codes([k for i in items for k in i.override_findings]),
        },
    )
    return items


def _keep_long_term(previous: Prescription, items: list[PrescriptionItem]) -> None:
    """A medicine taken long-term stays long-term when repeated (its refill reminders go on)."""
    long_term = {
        (generic_name, strength)
        for generic_name, strength in PrescriptionItem.objects.filter(
            prescription=previous, long_term=True, stopped_at__isnull=True
        ).values_list("generic_name", "strength")
    }
    repeated = [item.pk for item in items if (item.generic_name, item.strength) in long_term]
    if repeated:
        PrescriptionItem.objects.filter(pk__in=repeated).update(long_term=True)
        for item in items:
            item.long_term = item.long_term or item.pk in repeated
