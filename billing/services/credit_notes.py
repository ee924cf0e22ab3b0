"""Credit notes: a correction to an issued bill, numbered in its own series (CN/), with the
tax of each credited line at that line's rate and heads."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from billing import gst
from billing.models import Bill, BillKind, BillLine, BillStatus, DocType
from billing.services.bills import _freeze, _save_lines, enqueue_pdf
from billing.services.common import require_billing
from clinics.actors import Actor
from clinics.audit import Actions, audit_record
from clinics.errors import Conflict, ValidationFailed
from clinics.models import Clinic


@dataclass(frozen=True)
class CreditDraft:
    line_id: int
    amount_paise: int  # taxable value credited (before tax); the tax follows the line's rate


def _credit_lines(bill: Bill, credits: list[CreditDraft]) -> list[BillLine]:
    # Lazy on purpose: the selectors module imports the payment services.
    from billing.selectors.bills import credited_by_line  # noqa: PLC0415

    originals = {line.pk: line for line in bill.lines.all()}
    credited = credited_by_line(bill=bill)
    errors: dict[str, list[str]] = {}
    out = []
    if not credits:
        raise ValidationFailed({"lines": ["Choose what to credit."]})
    for index, c in enumerate(credits):
        field = f"lines.{index}.amount_paise"
        line = originals.get(c.line_id)
        if line is None:
            errors[f"lines.{index}.line_id"] = ["No such line on this bill."]
            continue
        amount = c.amount_paise
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            errors[field] = ["Give the amount in whole paise, more than 0."]
            continue
        left = line.taxable_value_paise - credited.get(line.pk, 0)
        if amount > left:
            errors[field] = [f"At most {left} paise of this line is left to credit."]
            continue
        cgst, sgst, igst = (
            gst.head_split(amount, line.rate_bp, inter_state=line.inter_state)
            if line.tax_charged
            else (0, 0, 0)
        )
        out.append(
            BillLine(
                clinic_id=bill.clinic_id,
                position=index,
                item=line.item,
                credited_line=line,
                description=line.description,
                code=line.code,
                is_goods=line.is_goods,
                taxable=line.taxable,
                rate_bp=line.rate_bp,
                quantity=1,
                unit=line.unit,
                unit_price_paise=amount,
                taxable_value_paise=amount,
                tax_charged=line.tax_charged,
                inter_state=line.inter_state,
                cgst_paise=cgst,
                sgst_paise=sgst,
                igst_paise=igst,
                total_paise=amount + cgst + sgst + igst,
            )
        )
    if errors:
        raise ValidationFailed(errors)
    return out


@transaction.atomic
def credit_note_issue(*, bill: Bill, lines: list[CreditDraft], reason: str, actor: Actor) -> Bill:
    """Issue a credit note against an issued bill: part or all of some of its lines' taxable
    values, with their tax at the line's rate and heads. The bill's due amount goes down by it;
    what was paid beyond it can then be refunded."""
    access = require_billing(actor, bill.clinic_id)
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > 200:
        raise ValidationFailed({"reason": ["Give the reason for the credit note."]})
    bill = Bill.objects.select_for_update().select_related("patient").get(pk=bill.pk)
    if bill.status != BillStatus.ISSUED or bill.is_credit_note:
        raise Conflict("A credit note can only be issued against an issued bill.")
    built = _credit_lines(bill, lines)
    clinic = Clinic.objects.get(pk=bill.clinic_id)
    note = Bill(
        clinic_id=bill.clinic_id,
        kind=BillKind.CREDIT_NOTE,
        patient=bill.patient,
        payer_guardian=bill.payer_guardian,
        credit_for=bill,
        reason=reason,
        doc_type=DocType.CREDIT_NOTE,
        place_of_supply=bill.place_of_supply,
        gross_paise=sum(line.taxable_value_paise for line in built),
        taxable_value_paise=sum(x.taxable_value_paise for x in built if x.tax_charged),
        exempt_value_paise=sum(x.taxable_value_paise for x in built if not x.tax_charged),
        cgst_paise=sum(x.cgst_paise for x in built),
        sgst_paise=sum(x.sgst_paise for x in built),
        igst_paise=sum(x.igst_paise for x in built),
        total_paise=sum(x.total_paise for x in built),
        created_by=access.user,
    )
    if note.total_paise > bill.total_paise - bill.credited_paise:
        raise ValidationFailed({"lines": ["That is more than is left of the bill to credit."]})
    note.save()
    _save_lines(note, built)
    _freeze(note, series=gst.DocType.SERIES[gst.DocType.CREDIT_NOTE], clinic=clinic)
    note.save()
    bill.credited_paise += note.total_paise
    bill.save(update_fields=["credited_paise"])
    audit_record(
        clinic=bill.clinic_id,
        actor=actor,
        action=Actions.CREDIT_NOTE_ISSUED,
        target=note,
        patient_id=bill.patient_id,
        data={"number": note.number, "bill": bill.number, "total_paise": note.total_paise},
    )
    enqueue_pdf(note.pk)
    return note
