"""What a printed bill or credit note says, as plain values for templates/pdf/bill*.html, and
the verification facts of a bill's QR code."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from billing.gst import DocType, rate_label
from billing.models import Bill, BillingProfile, BillStatus, PdfStatus
from billing.services.common import rs
from billing.upi import upi_link, upi_qr
from clinics.audit import Actions, audit_record
from clinics.formatting import format_date
from clinics.models import Clinic
from clinics.pdf import image_data_uri, qr_data_uri
from clinics.states import state_name
from clinics.tenancy import clinic_id_of, clinic_scope, find_by_public_token
from patients.selectors.prescriptions import clinic_letterhead
from patients.shared_files import SharedFile, SharedFileKind


def _line(line) -> dict[str, Any]:
    return {
        "description": line.description,
        "code": line.code,
        "quantity": line.quantity,
        "unit": line.unit,
        "unit_price": rs(line.unit_price_paise),
        "discount": rs(line.discount_paise + line.bill_discount_paise)
        if line.discount_paise + line.bill_discount_paise
        else "",
        "discount_reason": line.discount_reason,
        "taxable_value": rs(line.taxable_value_paise),
        "rate": rate_label(line.rate_bp) if line.tax_charged else "",
        "cgst": rs(line.cgst_paise) if line.cgst_paise else "",
        "sgst": rs(line.sgst_paise) if line.sgst_paise else "",
        "igst": rs(line.igst_paise) if line.igst_paise else "",
        "total": rs(line.total_paise),
        "exempt": not line.tax_charged,
    }


def bill_document(*, bill: Bill) -> dict[str, Any]:
    """Everything the printed bill carries (Rules 46, 46A and 49): supplier, GSTIN, number and
    date, recipient, place of supply, HSN/SAC, taxable value after discount, tax per head."""
    clinic = Clinic.objects.get(pk=bill.clinic_id)
    profile = BillingProfile.objects.filter(clinic_id=clinic.pk).first()
    lines = list(bill.lines.all())
    patient = bill.patient
    payer = bill.payer_guardian
    due = bill.amount_due_paise
    link = upi_link(profile=profile, bill=bill, amount_paise=due) if bill.status == "issued" else ""
    taxed = bill.cgst_paise + bill.sgst_paise + bill.igst_paise > 0
    inter = (
        bill.supplier_state and bill.place_of_supply and bill.supplier_state != bill.place_of_supply
    )
    return {
        "clinic": clinic_letterhead(clinic),
        "legal_name": (profile.legal_name if profile else "") or clinic.name,
        "gstin": bill.gstin,
        "title": DocType.LABELS.get(bill.doc_type, "Bill"),
        "number": bill.number or "DRAFT",
        "is_draft": bill.status == BillStatus.DRAFT,
        "draft_mark": "DRAFT",
        "cancelled": bill.status == BillStatus.CANCELLED,
        "issued_on": format_date(bill.issue_date) if bill.issue_date else "",
        "credit_for": bill.credit_for.number if bill.credit_for_id else "",
        "reason": bill.reason,
        "patient": {
            "name": patient.full_name,
            "number": f"P-{patient.number:06d}",
            "address": ", ".join(p for p in (patient.address, patient.city, patient.pincode) if p),
            "state": state_name(patient.state_code) if patient.state_code else "",
        },
        "payer": f"{payer.name or payer.guardian_patient} ({payer.get_relation_display()})"
        if payer
        else "",
        "place_of_supply": f"{state_name(bill.place_of_supply)} ({bill.place_of_supply})"
        if bill.place_of_supply
        else "",
        "inter_state": bool(inter),
        "show_tax": taxed or bill.doc_type in (DocType.TAX_INVOICE, DocType.INVOICE_BILL_OF_SUPPLY),
        "lines": [_line(x) for x in lines],
        "gross": rs(bill.gross_paise),
        "discount": rs(bill.total_discount_paise) if bill.total_discount_paise else "",
        "discount_reason": bill.discount_reason,
        "taxable_value": rs(bill.taxable_value_paise),
        "exempt_value": rs(bill.exempt_value_paise),
        "cgst": rs(bill.cgst_paise),
        "sgst": rs(bill.sgst_paise),
        "igst": rs(bill.igst_paise),
        "total": rs(bill.total_paise),
        "due": rs(due),
        "upi_link": link,
        "upi_qr_uri": upi_qr(link),
        "unregistered_note": not bill.gst_registered and bill.status != BillStatus.DRAFT,
    }


def bill_verify_url(token: str) -> str:
    return settings.SITE_URL + reverse("document-verify", args=[token])


def bill_pdf_context(bill: Bill) -> dict[str, Any]:
    clinic = Clinic.objects.only("id", "logo").get(pk=bill.clinic_id)
    context: dict[str, Any] = {
        "doc": bill_document(bill=bill),
        "logo_uri": image_data_uri(clinic.logo),
    }
    if bill.verify_token:
        url = bill_verify_url(bill.verify_token)
        context.update(verify_url=url, qr_uri=qr_data_uri(url))
    return context


def bill_verifier(token: str) -> dict[str, Any] | None:
    """The verification page's facts for a bill's QR code (patients.verification)."""
    found = find_by_public_token(Bill, verify_token=token, verify_token__isnull=False)
    if found is None:
        return None
    with clinic_scope(found[1]):
        bill = Bill.objects.get(pk=found[0])
        clinic = Clinic.objects.only("name", "city").get(pk=bill.clinic_id)
        return {
            "clinic": clinic.name,
            "city": clinic.city,
            "kind": f"{DocType.LABELS.get(bill.doc_type, 'Bill')} {bill.number}",
            "issued_on": format_date(bill.issue_date) if bill.issue_date else "",
            "person_label": "",
            "person": "",
            "validity": "cancelled" if bill.status == BillStatus.CANCELLED else "valid",
            "language": "en",
        }


# --- the patient's secure link (patients.shared_files) --------------------------------------
def _bill_clinic(bill_id: int) -> int | None:
    return clinic_id_of(Bill, bill_id)


def _bill_opened(bill: Bill) -> None:
    audit_record(
        clinic=bill.clinic_id,
        actor=None,
        label="patient (WhatsApp link, code verified)",
        action=Actions.BILL_OPENED_BY_PATIENT,
        target=bill,
        patient_id=bill.patient_id,
        data={"number": bill.number, "via": "whatsapp link", "verified": "whatsapp code"},
    )


def bill_shared_file(bill_id: int) -> SharedFile | None:
    """An issued bill's PDF as the patient's secure link hands it over (inside its clinic's
    scope): only once stored; a cancelled bill is withdrawn."""
    bill = Bill.objects.select_related("patient", "clinic").filter(pk=bill_id).first()
    if bill is None or bill.status == BillStatus.DRAFT:
        return None
    ready = bill.pdf_status == PdfStatus.READY and bool(bill.pdf_file)
    day = bill.issue_date.isoformat() if bill.issue_date else "bill"
    return SharedFile(
        patient=bill.patient,
        subject=f"bill:{bill.pk}",
        file_name=bill.pdf_file.name if ready else "",
        content_type="application/pdf",
        download_name=f"bill-{day}-{bill.pk}.pdf",
        withdrawn=bill.status == BillStatus.CANCELLED,
        staff_path=reverse("billing-pdf", args=[bill.clinic.slug, bill.pk]),
        record_open=lambda: _bill_opened(bill),
    )


BILL_FILES = SharedFileKind(name="bill", order=50, clinic_of=_bill_clinic, load=bill_shared_file)
