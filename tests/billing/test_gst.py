"""GST on worked examples computed by hand (billing.gst is pure: no database)."""

from __future__ import annotations

from datetime import date

import pytest

from billing import gst
from billing.gst import DocType, GstInputError, LineIn, bill_tax

MH, KA = "27", "29"  # Maharashtra (the clinic), Karnataka


def test_exempt_only_is_a_bill_of_supply_with_no_tax():
    # Consultation Rs 500 + dressing Rs 200, both exempt health care.
    result = bill_tax([LineIn(50000), LineIn(20000)], registered=True, clinic_state=MH)
    assert result.doc_type == DocType.BILL_OF_SUPPLY
    assert result.exempt_value_paise == 70000
    assert result.taxable_value_paise == 0
    assert (result.cgst_paise, result.sgst_paise, result.igst_paise) == (0, 0, 0)
    assert result.total_paise == 70000


def test_taxable_intra_state_splits_into_cgst_and_sgst():
    # 2 strips at Rs 20 at 5%: value Rs 40; CGST 2.5% = Rs 1.00, SGST 2.5% = Rs 1.00.
    line = LineIn(2000, quantity=2, taxable=True, rate_bp=500, is_goods=True)
    result = bill_tax([line], registered=True, clinic_state=MH, patient_state=KA)
    assert result.doc_type == DocType.TAX_INVOICE
    (tax,) = result.lines
    assert not tax.inter_state  # goods sold at the counter: supplied in the clinic's state
    assert (tax.cgst_paise, tax.sgst_paise, tax.igst_paise) == (100, 100, 0)
    assert result.total_paise == 4200


def test_taxable_inter_state_service_is_igst():
    # Cosmetic treatment Rs 2,000 at 18% for a patient whose address is in Karnataka:
    # IGST 18% = Rs 360.
    line = LineIn(200000, taxable=True, rate_bp=1800)
    result = bill_tax([line], registered=True, clinic_state=MH, patient_state=KA)
    (tax,) = result.lines
    assert tax.inter_state
    assert (tax.cgst_paise, tax.sgst_paise, tax.igst_paise) == (0, 0, 36000)
    assert result.total_paise == 236000


def test_same_service_to_a_local_patient_is_cgst_and_sgst():
    line = LineIn(200000, taxable=True, rate_bp=1800)
    for patient_state in (MH, ""):  # no address on record: the clinic's location
        result = bill_tax([line], registered=True, clinic_state=MH, patient_state=patient_state)
        assert (result.cgst_paise, result.sgst_paise, result.igst_paise) == (18000, 18000, 0)


def test_mixed_bill_is_one_invoice_cum_bill_of_supply():
    # Consultation Rs 500 (exempt) + medicines Rs 40 at 5%.
    lines = [LineIn(50000), LineIn(2000, quantity=2, taxable=True, rate_bp=500, is_goods=True)]
    result = bill_tax(lines, registered=True, clinic_state=MH)
    assert result.doc_type == DocType.INVOICE_BILL_OF_SUPPLY
    assert result.exempt_value_paise == 50000
    assert result.taxable_value_paise == 4000
    assert (result.cgst_paise, result.sgst_paise) == (100, 100)
    assert result.total_paise == 54200


def test_discounts_come_off_before_tax():
    # Line 1: Rs 100 less a Rs 10 line discount = Rs 90 (exempt).
    # Line 2: Rs 50 at 12%.
    # Bill discount Rs 14 shared 90:50 -> Rs 9 and Rs 5.
    # Line 2's taxable value Rs 45: CGST 6% = Rs 2.70, SGST Rs 2.70.
    lines = [LineIn(10000, discount_paise=1000), LineIn(5000, taxable=True, rate_bp=1200)]
    result = bill_tax(lines, registered=True, clinic_state=MH, bill_discount_paise=1400)
    first, second = result.lines
    assert (first.bill_discount_paise, second.bill_discount_paise) == (900, 500)
    assert first.taxable_value_paise == 8100
    assert second.taxable_value_paise == 4500
    assert (second.cgst_paise, second.sgst_paise) == (270, 270)
    assert result.discount_paise == 2400
    assert result.total_paise == 8100 + 4500 + 540


def test_rounding_is_half_up_per_line_and_per_head():
    # Rs 3.33 at 5%: each half 8.325 paise -> 8; IGST 16.65 -> 17.
    intra = bill_tax([LineIn(333, taxable=True, rate_bp=500)], registered=True, clinic_state=MH)
    assert (intra.cgst_paise, intra.sgst_paise) == (8, 8)
    inter = bill_tax(
        [LineIn(333, taxable=True, rate_bp=500)], registered=True, clinic_state=MH, patient_state=KA
    )
    assert inter.igst_paise == 17
    # Rs 2.50 at 18%: each half 22.5 paise -> 23 (half up); IGST 45.
    half = bill_tax([LineIn(250, taxable=True, rate_bp=1800)], registered=True, clinic_state=MH)
    assert (half.cgst_paise, half.sgst_paise) == (23, 23)
    # Per line, not on the total: three lines of Rs 3.33 at 5% give 3 x 8 = 24 paise of CGST
    # (on the total, Rs 9.99, it would have been 24.975 -> 25).
    three = bill_tax([LineIn(333, taxable=True, rate_bp=500)] * 3, registered=True, clinic_state=MH)
    assert three.cgst_paise == 24


def test_unregistered_clinic_issues_a_plain_bill_with_no_tax():
    lines = [LineIn(50000), LineIn(2000, taxable=True, rate_bp=500, is_goods=True)]
    result = bill_tax(lines, registered=False, clinic_state=MH)
    assert result.doc_type == DocType.BILL
    assert result.cgst_paise == result.sgst_paise == result.igst_paise == 0
    assert result.total_paise == 52000
    assert all(not line.taxable for line in result.lines)


def test_credit_note_heads_follow_the_line():
    # Half of the Rs 40 medicines line at 5% credited: Rs 20, CGST Rs 0.50, SGST Rs 0.50.
    assert gst.head_split(2000, 500, inter_state=False) == (50, 50, 0)
    assert gst.head_split(2000, 500, inter_state=True) == (0, 0, 100)


def test_bill_discount_shares_add_up_exactly():
    assert gst.share_discount(100, [300, 300, 300]) == [34, 33, 33]
    assert sum(gst.share_discount(999, [1, 2, 997, 3])) == 999


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (LineIn(-100), "lines.0.unit_price_paise"),
        (LineIn(10.5), "lines.0.unit_price_paise"),  # fractional paise
        (LineIn(1000, discount_paise=1001), "lines.0.discount_paise"),
        (LineIn(1000, quantity=0), "lines.0.quantity"),
        (LineIn(1000, taxable=True, rate_bp=5000), "lines.0.rate_bp"),
    ],
)
def test_bad_lines_are_refused(line, field):
    with pytest.raises(GstInputError) as caught:
        bill_tax([line], registered=True, clinic_state=MH)
    assert caught.value.field == field


def test_a_bill_discount_above_the_total_is_refused():
    with pytest.raises(GstInputError):
        bill_tax([LineIn(1000)], registered=True, clinic_state=MH, bill_discount_paise=1001)


def test_numbers_are_per_financial_year_and_at_most_16_characters():
    assert gst.financial_year(date(2027, 3, 31)) == 2026
    assert gst.financial_year(date(2027, 4, 1)) == 2027
    number = gst.document_number("INV", 2026, 42)
    assert number == "INV/2627/000042"
    assert len(gst.document_number("INV", 2026, 9_999_999)) == 16
    with pytest.raises(OverflowError):
        gst.document_number("INV", 2026, 10_000_000)


def test_upi_amounts_are_rupees_with_paise():
    assert gst.rupees(123456) == "1234.56"
    assert gst.rupees(5) == "0.05"
