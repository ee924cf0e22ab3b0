"""Bills through the services: drafts, issuing and numbering, freezing, cancelling, credit
notes; payments, advances and refunds; the bad input each refuses."""

from __future__ import annotations

import hashlib

import pytest
from django.db import IntegrityError

from billing.models import Bill, BillFrozen, BillLine, BillStatus, Payment, PdfStatus
from billing.selectors.bills import patient_ledger
from billing.services import (
    CreditDraft,
    LineDraft,
    advance_record,
    bill_cancel,
    bill_draft_create,
    bill_draft_delete,
    bill_draft_update,
    bill_issue,
    bill_payment_record,
    credit_note_issue,
    refund_record,
)
from clinics.errors import Conflict, NotAllowed, ValidationFailed
from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.storage import storage
from tests.factories import MembershipFactory


def _draft(biller, patient, *lines, **kw):
    return bill_draft_create(patient=patient, actor=biller.user, lines=list(lines), **kw)


def test_issued_bill_has_its_number_amounts_and_frozen_pdf(issued):
    assert issued.status == BillStatus.ISSUED
    assert issued.doc_type == "invoice_bill_of_supply"
    assert issued.number.startswith("INV/") and issued.number.endswith("/000001")
    assert issued.gstin == "29AAPFU0939F1ZR"
    assert (issued.exempt_value_paise, issued.taxable_value_paise) == (50000, 4000)
    assert (issued.cgst_paise, issued.sgst_paise, issued.igst_paise) == (100, 100, 0)
    assert issued.total_paise == 54200
    assert issued.amount_due_paise == 54200
    assert issued.pdf_status == PdfStatus.READY
    with storage().open(issued.pdf_file.name, "rb") as fh:
        data = fh.read()
    assert data.startswith(b"%PDF")
    assert hashlib.sha256(data).hexdigest() == issued.pdf_sha256
    assert AuditEvent.objects.filter(
        action="billing.bill.issued", target_id=str(issued.pk)
    ).exists()


def test_numbers_are_consecutive_per_series(biller, patient, items, registered):
    exempt = [_draft(biller, patient, LineDraft(item_id=items["dressing"].pk)) for _ in range(3)]
    numbers = [bill_issue(bill=b, actor=biller.user).number for b in exempt]
    assert [n[-6:] for n in numbers] == ["000001", "000002", "000003"]
    assert all(n.startswith("BOS/") for n in numbers)
    taxable = _draft(biller, patient, LineDraft(item_id=items["cosmetic"].pk))
    assert bill_issue(bill=taxable, actor=biller.user).number.startswith("INV/")


def test_unregistered_clinic_issues_a_plain_bill_without_tax(biller, patient, items):
    bill = _draft(biller, patient, LineDraft(item_id=items["cosmetic"].pk))
    bill = bill_issue(bill=bill, actor=biller.user)
    assert bill.doc_type == "bill" and bill.number.startswith("BIL/")
    assert bill.total_paise == 200000 and bill.gstin == ""


def test_a_deleted_draft_leaves_no_gap_because_drafts_have_no_number(biller, patient, items):
    first = _draft(biller, patient, LineDraft(item_id=items["dressing"].pk))
    second = _draft(biller, patient, LineDraft(item_id=items["dressing"].pk))
    bill_draft_delete(bill=first, actor=biller.user)
    assert bill_issue(bill=second, actor=biller.user).number.endswith("/000001")


def test_drafts_can_be_edited(biller, patient, items, registered):
    bill = _draft(biller, patient, LineDraft(item_id=items["dressing"].pk))
    bill = bill_draft_update(
        bill=bill,
        actor=biller.user,
        lines=[
            LineDraft(item_id=items["cosmetic"].pk, discount_paise=20000, discount_reason="Staff")
        ],
    )
    # Rs 2,000 less Rs 200 = Rs 1,800 at 18% intra-state: CGST = SGST = Rs 162.
    assert (bill.taxable_value_paise, bill.cgst_paise, bill.sgst_paise) == (180000, 16200, 16200)
    assert bill.lines.count() == 1


def test_issued_bill_refuses_every_change(issued):
    line = issued.lines.first()
    issued.total_paise = 1
    with pytest.raises(BillFrozen):
        issued.save()
    with pytest.raises(BillFrozen):
        Bill.objects.filter(pk=issued.pk).update(total_paise=1)
    with pytest.raises(BillFrozen):
        Bill.objects.filter(pk=issued.pk).delete()
    line.unit_price_paise = 1
    with pytest.raises(BillFrozen):
        line.save()
    with pytest.raises(BillFrozen):
        BillLine.objects.filter(pk=line.pk).update(unit_price_paise=1)
    with pytest.raises(BillFrozen):
        line.delete()
    with pytest.raises(BillFrozen):
        BillLine.objects.create(
            clinic_id=issued.clinic_id, bill=issued, description="More", unit_price_paise=1
        )
    issued.refresh_from_db()
    assert issued.total_paise == 54200 and issued.lines.count() == 2


def test_issued_bill_cannot_be_edited_or_deleted_through_the_services(issued, biller, items):
    with pytest.raises(Conflict):
        bill_draft_update(
            bill=issued, actor=biller.user, lines=[LineDraft(item_id=items["dressing"].pk)]
        )
    with pytest.raises(Conflict):
        bill_draft_delete(bill=issued, actor=biller.user)


def test_cancelled_bill_keeps_its_number_and_cannot_be_paid(issued, biller):
    bill = bill_cancel(bill=issued, reason="Billed to the wrong patient", actor=biller.user)
    assert bill.status == BillStatus.CANCELLED and bill.number == issued.number
    assert bill.amount_due_paise == 0
    with pytest.raises(Conflict):
        bill_payment_record(bill=bill, amount_paise=100, mode="cash", actor=biller.user)
    assert not Payment.objects.exists()


def test_credit_note_reduces_what_is_due(issued, biller):
    medicine = issued.lines.get(code="3004")
    note = credit_note_issue(
        bill=issued,
        lines=[CreditDraft(line_id=medicine.pk, amount_paise=2000)],
        reason="One strip returned",
        actor=biller.user,
    )
    assert note.number.startswith("CN/") and note.credit_for_id == issued.pk
    # Rs 20 at 5% intra-state: CGST Rs 0.50 + SGST Rs 0.50.
    assert (note.cgst_paise, note.sgst_paise, note.total_paise) == (50, 50, 2100)
    issued.refresh_from_db()
    assert issued.credited_paise == 2100 and issued.amount_due_paise == 54200 - 2100
    with pytest.raises(ValidationFailed) as caught:  # only Rs 20 of that line is left
        credit_note_issue(
            bill=issued,
            lines=[CreditDraft(line_id=medicine.pk, amount_paise=2001)],
            reason="Again",
            actor=biller.user,
        )
    assert "lines.0.amount_paise" in caught.value.errors


def test_partial_payments_then_paid(issued, biller):
    first = bill_payment_record(bill=issued, amount_paise=20000, mode="cash", actor=biller.user)
    second = bill_payment_record(
        bill=issued, amount_paise=34200, mode="upi", reference="UTR1234", actor=biller.user
    )
    assert first.receipt_number.startswith("RCT/") and first.receipt_number != second.receipt_number
    issued.refresh_from_db()
    assert issued.amount_due_paise == 0 and issued.paid_paise == 54200
    assert first.received_by == biller


def test_online_payment_from_the_gateway_needs_no_person(issued):
    payment = bill_payment_record(
        bill=issued, amount_paise=54200, mode="online", reference="plink_123", actor=None
    )
    assert payment.mode == "online" and payment.received_by is None
    with pytest.raises(ValidationFailed):  # the system records online payments only
        bill_payment_record(bill=issued, amount_paise=1, mode="cash", actor=None)


@pytest.mark.parametrize("amount", [-100, 0, 10.5, 54201, True])
def test_bad_payment_amounts_are_refused(issued, biller, amount):
    with pytest.raises(ValidationFailed) as caught:
        bill_payment_record(bill=issued, amount_paise=amount, mode="cash", actor=biller.user)
    assert "amount_paise" in caught.value.errors
    assert not Payment.objects.exists()


def test_refund_never_above_what_was_paid(issued, biller, patient):
    bill_payment_record(bill=issued, amount_paise=10000, mode="cash", actor=biller.user)
    with pytest.raises(ValidationFailed):
        refund_record(
            patient=patient,
            bill=issued,
            amount_paise=10001,
            mode="cash",
            reason="x",
            actor=biller.user,
        )
    with pytest.raises(ValidationFailed) as caught:  # a reason is required
        refund_record(
            patient=patient,
            bill=issued,
            amount_paise=100,
            mode="cash",
            reason=" ",
            actor=biller.user,
        )
    assert "reason" in caught.value.errors
    refund = refund_record(
        patient=patient,
        bill=issued,
        amount_paise=10000,
        mode="cash",
        reason="Overcharged",
        actor=biller.user,
    )
    assert refund.receipt_number.startswith("RFD/")
    issued.refresh_from_db()
    assert issued.paid_paise == 0 and issued.amount_due_paise == 54200


def test_advance_pays_the_next_bill(biller, patient, items):
    advance_record(patient=patient, amount_paise=30000, mode="cash", actor=biller.user)
    bill = _draft(biller, patient, LineDraft(item_id=items["dressing"].pk))
    bill = bill_issue(bill=bill, actor=biller.user)
    assert bill.paid_paise == 20000 and bill.amount_due_paise == 0
    ledger = patient_ledger(patient_id=patient.pk)
    assert (ledger.billed_paise, ledger.paid_paise, ledger.due_paise) == (20000, 20000, 0)
    assert ledger.advance_paise == 10000
    with pytest.raises(ValidationFailed):  # only Rs 100 of the advance is left
        refund_record(
            patient=patient, amount_paise=10001, mode="cash", reason="Leaving", actor=biller.user
        )
    refund_record(
        patient=patient, amount_paise=10000, mode="cash", reason="Leaving", actor=biller.user
    )
    assert patient_ledger(patient_id=patient.pk).advance_paise == 0


def test_discount_above_price_and_missing_reason_are_refused(biller, patient, items):
    with pytest.raises(ValidationFailed) as caught:
        _draft(
            biller,
            patient,
            LineDraft(item_id=items["dressing"].pk, discount_paise=20001, discount_reason="x"),
        )
    assert "lines.0.discount_paise" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        _draft(biller, patient, LineDraft(item_id=items["dressing"].pk, discount_paise=100))
    assert "lines.0.discount_reason" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        _draft(
            biller,
            patient,
            LineDraft(item_id=items["dressing"].pk),
            discount_paise=20001,
            discount_reason="x",
        )
    assert "discount_paise" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        _draft(biller, patient, LineDraft(description="Hand line", unit_price_paise=-5))
    assert "lines.0.unit_price_paise" in caught.value.errors
    assert not Bill.objects.exists()


def test_the_database_refuses_a_discount_above_the_price(scoped, patient):
    bill = Bill.objects.create(clinic=scoped, patient=patient)
    with pytest.raises(IntegrityError):
        BillLine.objects.create(
            clinic=scoped, bill=bill, description="x", unit_price_paise=100, discount_paise=101
        )


def test_doctors_and_assistants_cannot_bill(scoped, patient, items, doctor):
    assistant = MembershipFactory(clinic=scoped, role=Role.ASSISTANT)
    for member in (doctor, assistant):
        with pytest.raises(NotAllowed):
            _draft(member, patient, LineDraft(item_id=items["dressing"].pk))
