"""Bills: drafts (by hand or from a visit), issuing, cancelling, and credit notes.

Every amount is computed by `billing.gst` from the lines as entered and stored on the lines and
the bill. Issuing takes the next number of the document's series (see `numbering`), copies the
clinic's GST standing onto the bill, freezes it, and enqueues its PDF after commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from billing import gst
from billing.models import (
    Bill,
    BillKind,
    BillLine,
    BillStatus,
    CatalogueItem,
    PdfStatus,
)
from billing.models.bills import new_verify_token
from billing.services.common import (
    gst_errors,
    local_today,
    profile_of,
    require_billing,
)
from billing.services.numbering import number_take
from clinics.actors import Actor
from clinics.audit import Actions, audit_record
from clinics.errors import Conflict, DomainError, ValidationFailed
from clinics.models import Clinic
from clinics.queue import enqueue
from patients.models import Guardian, Patient, Visit

MAX_LINES = 100
RENDER_TASK = "billing.tasks.render_bill_pdf"  # the same as services.documents


@dataclass(frozen=True)
class LineDraft:
    """One line as staff or a client enter it. With `item_id`, the catalogue fills what is
    left out (description, code, price, GST)."""

    item_id: int | None = None
    description: str = ""
    code: str = ""
    quantity: int = 1
    unit_price_paise: int | None = None
    discount_paise: int = 0
    discount_reason: str = ""
    taxable: bool | None = None
    rate_bp: int | None = None
    is_goods: bool | None = None
    unit: str = ""


def bill_line_drafts(bill: Bill) -> list[LineDraft]:
    """A draft's lines as entered, to send back to `bill_draft_update` with some changed."""
    return [
        LineDraft(
            item_id=line.item_id,
            description=line.description,
            code=line.code,
            quantity=line.quantity,
            unit_price_paise=line.unit_price_paise,
            discount_paise=line.discount_paise,
            discount_reason=line.discount_reason,
            taxable=line.taxable,
            rate_bp=line.rate_bp,
            is_goods=line.is_goods,
            unit=line.unit,
        )
        for line in bill.lines.all()
    ]


def _int_or_error(value: Any, field: str, errors: dict[str, list[str]]) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        errors.setdefault(field, []).append("Give a whole number (amounts are in paise).")


def _build_lines(clinic_id: int, drafts: list[LineDraft]) -> list[BillLine]:
    errors: dict[str, list[str]] = {}
    if not drafts:
        raise ValidationFailed({"lines": ["Add at least one line."]})
    if len(drafts) > MAX_LINES:
        raise ValidationFailed({"lines": [f"A bill has at most {MAX_LINES} lines."]})
    ids = {d.item_id for d in drafts if d.item_id is not None}
    items = {i.pk: i for i in CatalogueItem.objects.filter(pk__in=ids, is_active=True)}
    lines = []
    for index, d in enumerate(drafts):
        prefix = f"lines.{index}."
        for name in ("quantity", "unit_price_paise", "discount_paise", "rate_bp"):
            _int_or_error(getattr(d, name), prefix + name, errors)
        item = items.get(d.item_id) if d.item_id is not None else None
        if d.item_id is not None and item is None:
            errors.setdefault(prefix + "item_id", []).append("No such catalogue item.")
            continue
        description = " ".join((d.description or (item.name if item else "")).split())
        if not description or len(description) > 200:
            errors.setdefault(prefix + "description", []).append(
                "Describe the line (up to 200 characters)."
            )
        if (d.discount_paise or 0) > 0 and not d.discount_reason.strip():
            errors.setdefault(prefix + "discount_reason", []).append("Give the discount's reason.")
        price = (
            d.unit_price_paise
            if d.unit_price_paise is not None
            else (item.price_paise if item else None)
        )
        if price is None:
            errors.setdefault(prefix + "unit_price_paise", []).append("Give the price in paise.")
            price = 0
        taxable = d.taxable if d.taxable is not None else bool(item and item.is_taxable)
        lines.append(
            BillLine(
                clinic_id=clinic_id,
                position=index,
                item=item,
                description=description[:200],
                code=(d.code or (item.code if item else ""))[:8],
                is_goods=d.is_goods if d.is_goods is not None else bool(item and item.is_goods),
                taxable=taxable,
                rate_bp=(d.rate_bp if d.rate_bp is not None else (item.gst_rate_bp if item else 0))
                if taxable
                else 0,
                quantity=d.quantity,
                unit=(d.unit or (item.unit if item else "each"))[:20],
                unit_price_paise=price,
                discount_paise=d.discount_paise or 0,
                discount_reason=d.discount_reason.strip()[:200],
            )
        )
    if errors:
        raise ValidationFailed(errors)
    return lines


def _compute(bill: Bill, lines: list[BillLine], *, registered: bool, clinic: Clinic) -> None:
    """Fill the lines' and the bill's amounts from billing.gst (refusing what it refuses)."""
    with gst_errors():
        result = gst.bill_tax(
            [
                gst.LineIn(
                    unit_price_paise=line.unit_price_paise,
                    quantity=line.quantity,
                    discount_paise=line.discount_paise,
                    taxable=line.taxable,
                    rate_bp=line.rate_bp,
                    is_goods=line.is_goods,
                )
                for line in lines
            ],
            registered=registered,
            clinic_state=clinic.state_code,
            patient_state=bill.patient.state_code,
            bill_discount_paise=bill.discount_paise,
        )
    for line, tax in zip(lines, result.lines, strict=True):
        line.bill_discount_paise = tax.bill_discount_paise
        line.taxable_value_paise = tax.taxable_value_paise
        line.tax_charged = tax.taxable
        line.inter_state = tax.inter_state
        line.cgst_paise, line.sgst_paise, line.igst_paise = (
            tax.cgst_paise,
            tax.sgst_paise,
            tax.igst_paise,
        )
        line.total_paise = tax.total_paise
    bill.doc_type = result.doc_type
    bill.gross_paise = result.gross_paise
    bill.total_discount_paise = result.discount_paise
    bill.taxable_value_paise = result.taxable_value_paise
    bill.exempt_value_paise = result.exempt_value_paise
    bill.cgst_paise, bill.sgst_paise, bill.igst_paise = (
        result.cgst_paise,
        result.sgst_paise,
        result.igst_paise,
    )
    bill.total_paise = result.total_paise
    service_state = bill.patient.state_code or clinic.state_code
    bill.place_of_supply = service_state


def _check_header(
    *, patient: Patient, payer_guardian: Guardian | None, discount_paise: Any, reason: str
) -> None:
    errors: dict[str, list[str]] = {}
    if payer_guardian is not None and payer_guardian.patient_id != patient.pk:
        errors["payer_guardian_id"] = ["That guardian is not this patient's."]
    if (
        not isinstance(discount_paise, int)
        or isinstance(discount_paise, bool)
        or discount_paise < 0
    ):
        errors["discount_paise"] = ["The discount is a whole number of paise, 0 or more."]
    elif discount_paise > 0 and not reason.strip():
        errors["discount_reason"] = ["Give the discount's reason."]
    if patient.archived_at is not None:
        raise DomainError(
            "This patient's record is archived: restore it to bill them.", code="archived"
        )
    if errors:
        raise ValidationFailed(errors)


def _registered(clinic_id: int) -> bool:
    profile = profile_of(clinic_id)
    return bool(profile and profile.gst_registered and profile.gstin)


def _save_lines(bill: Bill, lines: list[BillLine]) -> None:
    for line in lines:
        line.bill = bill
    BillLine.objects.bulk_create(lines)


@transaction.atomic
def bill_draft_create(
    *,
    patient: Patient,
    lines: list[LineDraft],
    actor: Actor,
    payer_guardian: Guardian | None = None,
    visit: Visit | None = None,
    discount_paise: int = 0,
    discount_reason: str = "",
) -> Bill:
    """A draft bill for a patient, its amounts computed now (and again when issued)."""
    access = require_billing(actor, patient.clinic_id)
    _check_header(
        patient=patient,
        payer_guardian=payer_guardian,
        discount_paise=discount_paise,
        reason=discount_reason,
    )
    if visit is not None and visit.patient_id != patient.pk:
        raise ValidationFailed({"visit_id": ["That visit is another patient's."]})
    clinic = Clinic.objects.get(pk=patient.clinic_id)
    built = _build_lines(patient.clinic_id, lines)
    bill = Bill(
        clinic_id=patient.clinic_id,
        patient=patient,
        payer_guardian=payer_guardian,
        visit=visit,
        discount_paise=discount_paise,
        discount_reason=discount_reason.strip()[:200],
        created_by=access.user,
    )
    _compute(bill, built, registered=_registered(clinic.pk), clinic=clinic)
    bill.save()
    _save_lines(bill, built)
    audit_record(
        clinic=bill.clinic_id,
        actor=actor,
        action=Actions.BILL_DRAFTED,
        target=bill,
        patient_id=patient.pk,
        data={"lines": len(built), "visit_id": visit.pk if visit else None},
    )
    return bill


def _lock_draft(bill: Bill) -> Bill:
    bill = Bill.objects.select_for_update().select_related("patient").get(pk=bill.pk)
    if bill.status != BillStatus.DRAFT:
        raise Conflict("This bill has been issued and cannot be changed. Issue a credit note.")
    return bill


@transaction.atomic
def bill_draft_update(
    *,
    bill: Bill,
    lines: list[LineDraft],
    actor: Actor,
    payer_guardian: Guardian | None = None,
    discount_paise: int = 0,
    discount_reason: str = "",
) -> Bill:
    """Replace a draft's lines, payer and discount."""
    require_billing(actor, bill.clinic_id)
    bill = _lock_draft(bill)
    _check_header(
        patient=bill.patient,
        payer_guardian=payer_guardian,
        discount_paise=discount_paise,
        reason=discount_reason,
    )
    built = _build_lines(bill.clinic_id, lines)
    bill.payer_guardian = payer_guardian
    bill.discount_paise = discount_paise
    bill.discount_reason = discount_reason.strip()[:200]
    bill.updated_at = timezone.now()
    _compute(bill, built, registered=_registered(bill.clinic_id), clinic=bill.clinic)
    bill.lines.all().delete()
    bill.save()
    _save_lines(bill, built)
    audit_record(
        clinic=bill.clinic_id,
        actor=actor,
        action=Actions.BILL_DRAFT_UPDATED,
        target=bill,
        patient_id=bill.patient_id,
        data={"lines": len(built)},
    )
    return bill


@transaction.atomic
def bill_draft_delete(*, bill: Bill, actor: Actor) -> None:
    """Delete a draft (an issued bill is never deleted: cancel it or credit it)."""
    require_billing(actor, bill.clinic_id)
    bill = _lock_draft(bill)
    audit_record(
        clinic=bill.clinic_id,
        actor=actor,
        action=Actions.BILL_DRAFT_DELETED,
        target=bill,
        patient_id=bill.patient_id,
    )
    bill.lines.all().delete()
    bill.delete()


def enqueue_pdf(bill_id: int) -> None:
    transaction.on_commit(lambda: enqueue(RENDER_TASK, bill_id))


def _freeze(bill: Bill, *, series: str, clinic: Clinic) -> None:
    profile = profile_of(clinic.pk)
    now = timezone.now()
    bill.issue_date = local_today(clinic)
    bill.series = series
    bill.number = number_take(clinic_id=clinic.pk, series=series, day=bill.issue_date)
    bill.issued_at = now
    bill.status = BillStatus.ISSUED
    bill.gst_registered = bool(profile and profile.gst_registered and profile.gstin)
    bill.gstin = profile.gstin if bill.gst_registered else ""
    bill.supplier_state = (profile.state_code if profile and profile.state_code else "") or (
        clinic.state_code
    )
    bill.verify_token = new_verify_token()
    bill.pdf_status = PdfStatus.PREPARING
    bill.pdf_queued_at = now
    bill.updated_at = now


@transaction.atomic
def bill_issue(*, bill: Bill, actor: Actor) -> Bill:
    """Issue a draft: compute it once more with the clinic's GST standing now, number it in its
    series, freeze it, and prepare its PDF after commit. A deposit the patient left (an advance)
    pays what it can of the bill at once."""
    require_billing(actor, bill.clinic_id)
    bill = _lock_draft(bill)
    clinic = Clinic.objects.get(pk=bill.clinic_id)
    lines = list(bill.lines.all())
    if not lines:
        raise ValidationFailed({"lines": ["Add at least one line."]})
    _compute(bill, lines, registered=_registered(clinic.pk), clinic=clinic)
    BillLine.objects.bulk_update(
        lines,
        [
            "bill_discount_paise",
            "taxable_value_paise",
            "tax_charged",
            "inter_state",
            "cgst_paise",
            "sgst_paise",
            "igst_paise",
            "total_paise",
        ],
    )
    _freeze(bill, series=gst.DocType.SERIES[bill.doc_type], clinic=clinic)
    bill.save()
    # Lazy on purpose: payments import this module for its bill helpers.
    from billing.services.payments import apply_advance  # noqa: PLC0415

    applied = apply_advance(bill=bill, actor=actor)
    audit_record(
        clinic=bill.clinic_id,
        actor=actor,
        action=Actions.BILL_ISSUED,
        target=bill,
        patient_id=bill.patient_id,
        data={
            "number": bill.number,
            "doc_type": bill.doc_type,
            "total_paise": bill.total_paise,
            "advance_applied_paise": applied,
        },
    )
    enqueue_pdf(bill.pk)
    return bill


@transaction.atomic
def bill_cancel(*, bill: Bill, reason: str, actor: Actor) -> Bill:
    """Cancel an issued bill that nothing was paid on: it keeps its number and shows as
    cancelled everywhere (its PDF stays as issued)."""
    access = require_billing(actor, bill.clinic_id)
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > 200:
        raise ValidationFailed(
            {"reason": ["Give the reason for cancelling (up to 200 characters)."]}
        )
    bill = Bill.objects.select_for_update().get(pk=bill.pk)
    if bill.status == BillStatus.DRAFT:
        raise Conflict("A draft is not cancelled: delete it.", code="conflict")
    if bill.status == BillStatus.CANCELLED:
        raise Conflict("This bill is already cancelled.")
    if bill.paid_paise > 0:
        raise Conflict("Money was received on this bill: refund it before cancelling.")
    if bill.credited_paise > 0 or (bill.is_credit_note):
        raise Conflict("A bill with credit notes (or a credit note) cannot be cancelled.")
    bill.status = BillStatus.CANCELLED
    bill.cancelled_at = timezone.now()
    bill.cancel_reason = reason
    bill.cancelled_by = access.user
    bill.save(update_fields=["status", "cancelled_at", "cancel_reason", "cancelled_by"])
    audit_record(
        clinic=bill.clinic_id,
        actor=actor,
        action=Actions.BILL_CANCELLED,
        target=bill,
        patient_id=bill.patient_id,
        data={"number": bill.number},
    )
    return bill


def bill_for_visit(*, visit: Visit, actor: Actor) -> Bill:
    """The visit's bill: the one already made (draft or issued), else a new draft pre-filled
    with the visit's consultation, procedures and medicines (billing.selectors.visits)."""
    # Lazy on purpose: the selector builds the LineDraft values this module defines.
    from billing.selectors.visits import visit_bill_lines  # noqa: PLC0415

    require_billing(actor, visit.clinic_id)
    existing = (
        Bill.objects.filter(visit=visit, kind=BillKind.BILL)
        .exclude(status=BillStatus.CANCELLED)
        .order_by("-id")
        .first()
    )
    if existing is not None:
        return existing
    lines = visit_bill_lines(visit=visit)
    if not lines:
        raise ValidationFailed(
            {"lines": ["Nothing to bill from this visit: add the doctor's fee to the catalogue."]}
        )
    return bill_draft_create(patient=visit.patient, lines=lines, actor=actor, visit=visit)
