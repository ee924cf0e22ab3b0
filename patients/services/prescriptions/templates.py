"""Doctors' prescription templates: several items at once, all or nothing."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from django.db import IntegrityError, transaction

from clinics.actors import Actor
from clinics.audit import Actions, audit_record
from clinics.errors import Conflict, DomainError, NotAllowed, ValidationFailed
from clinics.models import Membership
from patients.models import (
    Drug,
    PrescriptionItem,
    PrescriptionTemplate,
    Route,
    Visit,
)
from patients.services.prescriptions._common import (
    MAX_TEMPLATE_ITEMS,
    TEMPLATE_ITEM_FIELDS,
    _checked_item,
    _draft_prescription,
    _item_key,
    _listed_drug,
    _locked_visit,
    _refuse_duplicate_item,
    _require_template_owner,
    _require_visit_doctor,
    _single_spaced,
    _usable_drug,
    _with_drug_defaults,
    _without_drug_defaults,
)
from patients.services.prescriptions.batch import Line, add_reviewed_lines, flatten, line_label
from patients.services.prescriptions.safety import audit_codes


def _template_drugs(clinic_id: int, raws: list[dict[str, Any]]) -> dict[int, Drug]:
    ids = {r["drug_id"] for r in raws if isinstance(r.get("drug_id"), int)}
    return {d.pk: d for d in Drug.objects.filter(clinic_id=clinic_id, pk__in=ids)} if ids else {}


def _template_raw(entry: Any, number: int, errors: list[str]) -> dict[str, Any] | None:
    if not isinstance(entry, dict):
        errors.append(f"Line {number}: not a medicine.")
        return None
    unknown = set(entry) - set(TEMPLATE_ITEM_FIELDS)
    if unknown:
        errors.append(f"Line {number}: unknown fields {', '.join(sorted(unknown))}.")
        return None
    raw = dict(entry)
    drug = raw.pop("drug", None)
    if drug is not None:
        raw["drug_id"] = drug.pk if isinstance(drug, Drug) else drug
    raw.setdefault("route", Route.ORAL)
    return raw


def _stored_template_item(values: dict[str, Any], drug: Drug | None) -> dict[str, Any]:
    """Plain JSON: amounts as strings, no dates."""
    return {
        "drug_id": drug.pk if drug is not None else None,
        "generic_name": values["generic_name"],
        "strength": values["strength"],
        "form": values["form"],
        "route": values["route"],
        "dose_amount": format(values["dose_amount"].normalize(), "f"),
        "dose_unit": values["dose_unit"],
        "frequency": values["frequency"],
        "duration_days": values["duration_days"],
        "timing": values["timing"],
        "instructions": values["instructions"],
    }


@transaction.atomic
def prescription_template_save(
    *,
    doctor: Membership,
    actor: Actor,
    name: str,
    items: list[dict[str, Any]],
    template: PrescriptionTemplate | None = None,
) -> PrescriptionTemplate:
    """Save a doctor's template ("Viral fever, adult"): a new one, or replace `template`.

    Each item is a dict of prescription_item_add's fields (without `starts_on`), with `drug`
    or `drug_id` for a drug on the list. Every item is checked like a prescription item; any
    error refuses the whole template. Names are unique per doctor.
    """
    _require_template_owner(doctor, actor)
    if template is not None and template.doctor_id != doctor.pk:
        raise NotAllowed("Doctors manage their own prescription templates.")
    name = _checked_template_name(name)
    stored = _checked_template_items(doctor, items)
    template, created = _template_stored(doctor, template, name, stored)
    audit_record(
        clinic=doctor.clinic_id,
        actor=actor,
        action=Actions.PRESCRIPTION_TEMPLATE_SAVED,
        target=template,
        data={"template_id": template.pk, "created": created, "items": len(stored)},
    )
    return template


def _checked_template_name(name: str) -> str:
    name = _single_spaced(name)
    if not name:
        raise ValidationFailed({"name": ["Give the template a name, for example Viral fever."]})
    if len(name) > 100:
        raise ValidationFailed({"name": ["Keep the name under 100 characters."]})
    return name


def _checked_template_items(doctor: Membership, items: Any) -> list[dict[str, Any]]:
    """The template's items as stored, each checked like a prescription item; ValidationFailed
    lists every line's problems."""
    if not isinstance(items, list) or not items:
        raise ValidationFailed({"items": ["Add at least one medicine to the template."]})
    if len(items) > MAX_TEMPLATE_ITEMS:
        raise ValidationFailed(
            {"items": [f"A template holds at most {MAX_TEMPLATE_ITEMS} medicines."]}
        )
    errors: list[str] = []
    raws = [_template_raw(entry, n, errors) for n, entry in enumerate(items, 1)]
    drugs = _template_drugs(doctor.clinic_id, [r for r in raws if r is not None])
    stored: list[dict[str, Any]] = []
    taken: set[tuple[str, str, str]] = set()
    for number, raw in enumerate(raws, 1):
        if raw is None:
            continue
        try:
            raw, drug = _with_template_drug(raw, drugs, doctor.clinic_id)
            values = _checked_item(raw, starts_on_default=None)
            drug = drug or _listed_drug(doctor.clinic_id, values)
            _refuse_duplicate_item(values, taken, "in this template")
        except DomainError as exc:
            errors.extend(flatten(line_label(number, raw), exc))
            continue
        taken.add(_item_key(values))
        stored.append(_stored_template_item(values, drug))
    if errors:
        raise ValidationFailed({"items": errors})
    return stored


def _with_template_drug(
    raw: dict[str, Any], drugs: dict[int, Drug], clinic_id: int
) -> tuple[dict[str, Any], Drug | None]:
    """A line with its listed drug's defaults filled in, and that drug (or None if unlisted).

    `raw` loses its drug_id; a drug not on this clinic's usable list is refused.
    """
    drug_id = raw.pop("drug_id", None)
    if drug_id is None:
        return _without_drug_defaults(raw), None
    drug = drugs.get(drug_id) if isinstance(drug_id, int) else None
    if drug is None:
        raise DomainError("Choose a drug from this clinic's list.", field="drug")
    drug = _usable_drug(drug, clinic_id)
    return _with_drug_defaults(raw, drug), drug


def _template_stored(
    doctor: Membership,
    template: PrescriptionTemplate | None,
    name: str,
    stored: list[dict[str, Any]],
) -> tuple[PrescriptionTemplate, bool]:
    """Save the template under its unique name; True when it is new."""
    clash = PrescriptionTemplate.objects.filter(doctor=doctor, name__iexact=name)
    if template is not None:
        clash = clash.exclude(pk=template.pk)
    if clash.exists():
        raise Conflict(
            f"You already have a template named {name!r}. Choose another name.", field="name"
        )
    if template is None:
        template = PrescriptionTemplate(clinic_id=doctor.clinic_id, doctor=doctor)
    else:
        template = PrescriptionTemplate.objects.select_for_update().get(pk=template.pk)
    created = template.pk is None
    template.name, template.items = name, stored
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError as exc:
        raise Conflict(
            f"You already have a template named {name!r}. Choose another name.", field="name"
        ) from exc
    return template, created


@transaction.atomic
def prescription_template_delete(*, template: PrescriptionTemplate, actor: Actor) -> None:
    """Delete one of the doctor's templates. Prescriptions made from it are not affected."""
    _require_template_owner(template.doctor, actor)
    audit_record(
        clinic=template.clinic_id,
        actor=actor,
        action=Actions.PRESCRIPTION_TEMPLATE_DELETED,
        target=template,
        data={"template_id": template.pk},
    )
    template.delete()


@transaction.atomic
def prescription_template_apply(
    *,
    template: PrescriptionTemplate,
    visit: Visit,
    actor: Actor,
    actor_membership: Membership,
    overrides: Mapping[int, str] | None = None,
    leave_out: Collection[int] = (),
) -> list[PrescriptionItem]:
    """Add all of a template's medicines to the visit's draft prescription, checked like
    single items. One refusal (a drug already on it, a drug taken off the list, a restricted
    drug at a teleconsultation) adds none. A line the safety checks stop (an allergy of this
    patient, duplicate therapy, a dose above the maximum) raises ReviewNeeded until the doctor
    gives a reason for it (`overrides`, by line number from 1) or leaves it out (`leave_out`).
    The doctor applies their own templates."""
    visit = _locked_visit(visit.pk)
    _require_visit_doctor(visit, actor, actor_membership)
    if template.doctor_id != actor_membership.pk or template.clinic_id != visit.clinic_id:
        raise NotAllowed("You can only use your own prescription templates.")
    prescription, created = _draft_prescription(visit)
    raws = [dict(entry) for entry in template.items]
    drugs = _template_drugs(visit.clinic_id, raws)
    lines = []
    for raw in raws:
        drug_id = raw.pop("drug_id", None)
        drug = drugs.get(drug_id) if drug_id is not None else None
        lines.append(Line(raw, drug, missing=drug_id is not None and drug is None))
    items = add_reviewed_lines(
        visit=visit,
        prescription=prescription,
        lines=lines,
        overrides=overrides,
        leave_out=leave_out,
        message="The template could not be added.",
    )
    audit_record(
        clinic=visit.clinic_id,
        actor=actor,
        action=Actions.PRESCRIPTION_TEMPLATE_APPLIED,
        target=prescription,
        patient_id=visit.patient_id,
        data={
            "visit_id": visit.pk,
            "prescription_id": prescription.pk,
            "prescription_created": created,
            "template_id": template.pk,
            "items": len(items),
            "left_out": len(set(leave_out)),
            "overridden": audit_codes([k for i in items for k in i.override_findings]),
        },
    )
    return items
