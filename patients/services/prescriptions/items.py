"""Medicines on a visit's prescription: add, change, remove, stop."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from clinics.actors import Actor, require
from clinics.audit import Actions, audit_record
from clinics.errors import Conflict, DomainError, ValidationFailed
from clinics.models import Membership
from clinics.roles import Perm
from patients import events
from patients.events import care_event
from patients.models import (
    Drug,
    Prescription,
    PrescriptionItem,
    Route,
    Visit,
)
from patients.services.prescriptions._common import (
    ITEM_FIELDS,
    STOP_REASONS,
    _checked_item,
    _draft_prescription,
    _fresh_drug,
    _item_key,
    _listed_drug,
    _locked_visit,
    _refuse_duplicate_item,
    _refuse_restricted,
    _refuse_signed,
    _require_visit_doctor,
    _usable_drug,
    _visit_date,
    _with_drug_defaults,
    _without_drug_defaults,
)
from patients.services.prescriptions.safety import Safety, audit_codes


@transaction.atomic
def prescription_for_visit(*, visit: Visit, actor: Actor) -> Prescription:
    """The visit's prescription; a draft one is created (for the visit's doctor) if it has none.

    Patient and doctor are the visit's. A signed visit without a prescription gets none: amend
    the visit to add one.
    """
    existing = Prescription.objects.filter(visit_id=visit.pk).first()
    if existing is not None:
        return existing
    membership = require(
        actor,
        Perm.PRESCRIPTIONS_EDIT,
        clinic_id=visit.clinic_id,
        message="Only doctors can write prescriptions.",
    ).membership
    visit = _locked_visit(visit.pk)
    _require_visit_doctor(visit, actor, membership)
    prescription, created = _draft_prescription(visit)
    if created:
        audit_record(
            clinic=visit.clinic_id,
            actor=actor,
            action=Actions.PRESCRIPTION_CREATED,
            target=prescription,
            patient_id=visit.patient_id,
            data={"visit_id": visit.pk, "prescription_id": prescription.pk},
        )
    return prescription


def _taken_keys(prescription: Prescription, exclude_pk: int | None = None) -> set:
    rows = PrescriptionItem.objects.filter(prescription=prescription)
    if exclude_pk:
        rows = rows.exclude(pk=exclude_pk)
    return {
        (name, strength.casefold(), form)
        for name, strength, form in rows.values_list("generic_name", "strength", "form")
    }


def _next_position(prescription: Prescription) -> int:
    top = PrescriptionItem.objects.filter(prescription=prescription).aggregate(top=Max("position"))
    return (top["top"] or 0) + 1


def _prepared_item(
    visit: Visit,
    raw: dict[str, Any],
    drug: Drug | None,
    taken: set,
    *,
    safety: Safety,
    override_reason: Any = "",
    brand_name: str = "",
) -> tuple[dict[str, Any], Drug | None]:
    """An item's checked values and its drug on the list, after every rule of one visit and
    the safety checks (allergies, duplicate therapy, the maximum dose)."""
    if drug is not None:
        drug = _usable_drug(drug, visit.clinic_id)
        raw = _with_drug_defaults(raw, drug)
    else:
        raw = _without_drug_defaults(raw)
    values = _checked_item(raw, starts_on_default=_visit_date(visit))
    if drug is None:
        drug = _listed_drug(visit.clinic_id, values)
    _refuse_duplicate_item(values, taken)
    _refuse_restricted(visit, values, drug)
    values["brand_name"] = _brand_of(drug, brand_name)
    values.update(safety.review(values, drug, override_reason))
    return values, drug


def _brand_of(drug: Drug | None, brand_name: str) -> str:
    """The brand as the list spells it; only one of the chosen drug's brands."""
    wanted = " ".join(str(brand_name or "").split())
    if not wanted:
        return ""
    if drug is not None:
        for name in drug.brands.values_list("name", flat=True):
            if name.casefold() == wanted.casefold():
                return name
    raise DomainError(
        f"{wanted[:60]} is not a brand of this drug on the clinic's list.", field="brand_name"
    )


@transaction.atomic
def prescription_item_add(
    *,
    visit: Visit,
    actor: Actor,
    actor_membership: Membership,
    drug: Drug | None = None,
    generic_name: str = "",
    strength: str = "",
    form: str = "",
    route: str = Route.ORAL,
    dose_amount: Decimal | None = None,
    dose_unit: str = "",
    frequency: str = "",
    duration_days: int | None = None,
    timing: str | None = None,
    instructions: str = "",
    starts_on: dt.date | None = None,
    brand_name: str = "",
    override_reason: str = "",
    long_term: bool = False,
) -> PrescriptionItem:
    """Add a medicine to the visit's draft prescription (created if needed).

    With `drug`, the name, strength, form and route come from the clinic's list, and its
    defaults fill the dose (when None), frequency (when empty), duration (when None, unless SOS
    or STAT) and timing (when None). Without it, the item is typed in and is linked to a
    matching drug on the list if there is one. The frequency is parsed into the stored
    schedule, the quantity counted (None when it cannot be), and `starts_on` defaults to the
    visit's date. `brand_name` is one of the drug's brands, printed in brackets. A `long_term`
    item gets a refill reminder on WhatsApp before it runs out (messaging.services.refills).

    The safety checks run last (`safety.Safety.review`): an allergy, duplicate therapy or a
    dose above the maximum raises PrescribingCheckFailed unless `override_reason` is given;
    the reason and what was found are kept on the item.
    """
    visit = _locked_visit(visit.pk)
    _require_visit_doctor(visit, actor, actor_membership)
    raw = {
        "generic_name": generic_name,
        "strength": strength,
        "form": form,
        "route": route,
        "dose_amount": dose_amount,
        "dose_unit": dose_unit,
        "frequency": frequency,
        "duration_days": duration_days,
        "timing": timing,
        "instructions": instructions,
        "starts_on": starts_on,
    }
    prescription, created = _draft_prescription(visit)
    if drug is not None:
        drug = _fresh_drug(drug)
    values, linked = _prepared_item(
        visit,
        raw,
        drug,
        _taken_keys(prescription),
        safety=Safety.for_visit(visit, prescription),
        override_reason=override_reason,
        brand_name=brand_name,
    )
    item = PrescriptionItem.objects.create(
        clinic_id=visit.clinic_id,
        prescription=prescription,
        drug=linked,
        position=_next_position(prescription),
        long_term=long_term,
        **values,
    )
    audit_record(
        clinic=visit.clinic_id,
        actor=actor,
        action=Actions.PRESCRIPTION_ITEM_ADDED,
        target=item,
        patient_id=visit.patient_id,
        data={
            "visit_id": visit.pk,
            "prescription_id": prescription.pk,
            "prescription_created": created,
            "drug_id": item.drug_id,
            "overridden": audit_codes(item.override_findings),
        },
    )
    return item


def _item_context(
    item: PrescriptionItem, actor: Actor, membership: Membership
) -> tuple[Visit, Prescription, PrescriptionItem]:
    prescription = Prescription.objects.get(pk=item.prescription_id)
    visit = _locked_visit(prescription.visit_id)
    item = PrescriptionItem.objects.select_for_update().get(pk=item.pk)
    _require_visit_doctor(visit, actor, membership)
    _refuse_signed(visit, prescription)
    return visit, prescription, item


@transaction.atomic
def prescription_item_update(
    *, item: PrescriptionItem, actor: Actor, actor_membership: Membership, **changes: Any
) -> PrescriptionItem:
    """Change an item on a draft prescription: the same rules as adding it. The schedule and
    quantity are computed again. Changing the name, strength or form re-links the item to the
    matching drug on the list (or to none). The safety checks run again: a new finding (a dose
    now above the maximum) needs `override_reason`."""
    override_reason = changes.pop("override_reason", "")
    long_term = changes.pop("long_term", None)
    unknown = set(changes) - set(ITEM_FIELDS)
    if unknown:
        raise DomainError(f"Unknown prescription item fields: {', '.join(sorted(unknown))}")
    visit, prescription, item = _item_context(item, actor, actor_membership)
    raw = {field: getattr(item, field) for field in ITEM_FIELDS}
    raw.update(changes)
    values = _checked_item(
        _without_drug_defaults(raw),
        starts_on_default=_visit_date(visit),
        check_start="starts_on" in changes,
    )
    same_drug = _item_key(values) == (item.generic_name, item.strength.casefold(), item.form)
    drug = item.drug if item.drug_id and same_drug else None
    if drug is None:
        drug = _listed_drug(visit.clinic_id, values)
    _refuse_duplicate_item(values, _taken_keys(prescription, exclude_pk=item.pk))
    _refuse_restricted(visit, values, drug)
    values.update(
        Safety.for_visit(visit, prescription, exclude_pk=item.pk).review(
            values, drug, override_reason, kept=(item.override_reason, item.override_findings)
        )
    )
    if long_term is not None:
        values["long_term"] = bool(long_term)
    changed = sorted(f for f, v in values.items() if getattr(item, f) != v and f != "schedule")
    if not changed and drug == item.drug:
        return item
    for field, value in values.items():
        setattr(item, field, value)
    item.drug = drug
    item.save()
    audit_record(
        clinic=visit.clinic_id,
        actor=actor,
        action=Actions.PRESCRIPTION_ITEM_UPDATED,
        target=item,
        patient_id=visit.patient_id,
        data={
            "visit_id": visit.pk,
            "prescription_id": prescription.pk,
            "drug_id": item.drug_id,
            "fields": changed,
            "overridden": audit_codes(item.override_findings),
        },
    )
    return item


@transaction.atomic
def prescription_item_remove(
    *, item: PrescriptionItem, actor: Actor, actor_membership: Membership
) -> None:
    """Take an item off a draft prescription."""
    visit, prescription, item = _item_context(item, actor, actor_membership)
    audit_record(
        clinic=visit.clinic_id,
        actor=actor,
        action=Actions.PRESCRIPTION_ITEM_REMOVED,
        target=item,
        patient_id=visit.patient_id,
        data={"visit_id": visit.pk, "prescription_id": prescription.pk, "drug_id": item.drug_id},
    )
    item.delete()


@transaction.atomic
def prescription_item_stop(
    *, item: PrescriptionItem, actor: Actor, reason: str
) -> PrescriptionItem:
    """Stop a medicine from now on (its reminders stop too). Allowed on signed prescriptions:
    stopping does not change what was prescribed. `reason` is a code from STOP_REASONS.

    Any doctor of the clinic may stop a medicine, not only the one who prescribed it: the
    patient's next doctor is often the one who stops it.
    """
    require(
        actor,
        Perm.PRESCRIPTIONS_EDIT,
        clinic_id=item.clinic_id,
        message="Only doctors can stop a medicine.",
    )
    if reason not in STOP_REASONS:
        raise ValidationFailed({"reason": ["Choose why the medicine is stopped."]})
    item = PrescriptionItem.objects.select_for_update().get(pk=item.pk)
    if item.stopped_at is not None:
        raise Conflict("This medicine was already stopped.")
    prescription = Prescription.objects.get(pk=item.prescription_id)
    item.stopped_at = timezone.now()
    item.save(update_fields=["stopped_at"])
    audit_record(
        clinic=item.clinic_id,
        actor=actor,
        action=Actions.PRESCRIPTION_ITEM_STOPPED,
        target=item,
        patient_id=prescription.patient_id,
        data={
            "visit_id": prescription.visit_id,
            "prescription_id": prescription.pk,
            "drug_id": item.drug_id,
            "reason": reason,
        },
    )
    care_event(events.PRESCRIPTION_ITEM_STOPPED, item=item)
    return item
