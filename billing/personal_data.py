"""Billing's models in the personal-data registry (registered from `billing.apps`).

Bills, their lines and payments are kept under tax law (the billing retention class): an erasure
request leaves them, and the retention purge removes them when their period has run out, a bill
together with its lines, credit notes and payments (billing/retention.py). A
payment link carries the patient's name and phone to Razorpay; Razorpay's raw webhook deliveries
carry them back and are kept a short time. See compliance/personal_data.py for the checklist.
"""

from __future__ import annotations

from typing import Any

from compliance.personal_data import (
    BILLING,
    DELETE,
    NOBODY,
    PATIENT,
    RETAIN,
    WEBHOOK_PAYLOAD,
    PersonalData,
    personal_data,
)

RAZORPAY = "Razorpay (payment links)"
_TAX = "the clinic's accounts, which tax law keeps (GST and income tax)"


def _bill_files(row: Any) -> list[Any]:
    return [row.pdf_file] if row.pdf_file else []


def _patient_bill_numbers(patient_id: int) -> list[str]:
    from billing.models import Bill  # noqa: PLC0415

    return [
        n for n in Bill.objects.filter(patient_id=patient_id).values_list("number", flat=True) if n
    ]


def payment_link_rows(patient_id: int) -> Any:
    """The payment links made for the patient's bills (a link names the bill number)."""
    from billing.models import PaymentLink  # noqa: PLC0415

    return PaymentLink.objects.filter(reference_id__in=_patient_bill_numbers(patient_id))


def razorpay_webhook_rows(patient_id: int) -> Any:
    """Razorpay's raw deliveries about the patient's payment links (kept a short time, so the
    clinic's are read and matched here)."""
    from billing.models import PaymentLink, RazorpayWebhookDelivery  # noqa: PLC0415

    links = PaymentLink.objects.filter(
        reference_id__in=_patient_bill_numbers(patient_id)
    ).values_list("razorpay_link_id", flat=True)
    needles = [f'"{link}"' for link in links if link]
    ids = [
        pk
        for pk, body in RazorpayWebhookDelivery.objects.values_list("pk", "body").iterator()
        if any(needle in _text(body) for needle in needles)
    ]
    return RazorpayWebhookDelivery.objects.filter(pk__in=ids)


def _delete_bills(rows: Any) -> int:
    from billing.retention import bills_delete  # noqa: PLC0415

    return bills_delete(rows)


def _delete_bill_lines(rows: Any) -> int:
    from billing.retention import bill_lines_delete  # noqa: PLC0415

    return bill_lines_delete(rows)


def _delete_payments(rows: Any) -> int:
    from billing.retention import payments_delete  # noqa: PLC0415

    return payments_delete(rows)


def _text(body: Any) -> str:
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body).decode("utf-8", "replace")
    return str(body)


ENTRIES = (
    PersonalData(
        name="billing.bill",
        order=700,
        model="billing.Bill",
        subject=PATIENT,
        description="Bills, tax invoices and credit notes made out to the patient, with their PDFs",
        purpose=_TAX,
        fields=("discount_reason", "reason", "cancel_reason", "pdf_file"),
        retention=BILLING,
        erasure=RETAIN,
        patient_path="patient",
        age_field="created_at",
        files=_bill_files,
        delete=_delete_bills,
    ),
    PersonalData(
        name="billing.bill_line",
        order=701,
        model="billing.BillLine",
        subject=PATIENT,
        description="What each bill charged for (consultations, procedures, medicines)",
        purpose=_TAX,
        fields=("discount_reason",),
        retention=BILLING,
        erasure=RETAIN,
        patient_path="bill__patient",
        age_field="bill__created_at",
        delete=_delete_bill_lines,
    ),
    PersonalData(
        name="billing.payment",
        order=702,
        model="billing.Payment",
        subject=PATIENT,
        description="Payments, advances and refunds, with how they were paid",
        purpose=_TAX,
        fields=("reason",),
        retention=BILLING,
        erasure=RETAIN,
        patient_path="patient",
        age_field="received_at",
        delete=_delete_payments,
    ),
    PersonalData(
        name="billing.payment_link",
        order=703,
        model="billing.PaymentLink",
        subject=PATIENT,
        description="Payment links for the patient's bills (name and phone sent to Razorpay)",
        purpose=_TAX,
        fields=("customer_name", "customer_phone", "owner_label"),
        retention=BILLING,
        erasure=RETAIN,
        rows=payment_link_rows,
        age_field="created_at",
        processors=(RAZORPAY,),
    ),
    PersonalData(
        name="billing.razorpay_webhook_delivery",
        order=704,
        model="billing.RazorpayWebhookDelivery",
        subject=PATIENT,
        description="Razorpay's raw messages about the patient's payments, as they arrived",
        purpose="checking that a payment was recorded correctly",
        fields=("body",),
        retention=WEBHOOK_PAYLOAD,
        erasure=DELETE,
        rows=razorpay_webhook_rows,
        age_field="received_at",
        processors=(RAZORPAY,),
    ),
    PersonalData(
        name="billing.catalogue_item",
        order=990,
        model="billing.CatalogueItem",
        subject=NOBODY,
        description="What the clinic sells, and prices; a doctor's name only as a fee's label.",
    ),
    PersonalData(
        name="billing.billing_profile",
        order=991,
        model="billing.BillingProfile",
        subject=NOBODY,
        description="The clinic's own GST registration and UPI ID (a business's, not a person's).",
    ),
    PersonalData(
        name="billing.day_closing",
        order=992,
        model="billing.DayClosing",
        subject=NOBODY,
        description="The cash counted at the end of a day, with a note about the till.",
    ),
    PersonalData(
        name="billing.razorpay_account",
        order=993,
        model="billing.RazorpayAccount",
        subject=NOBODY,
        description="The clinic's own Razorpay keys, encrypted at rest.",
    ),
    PersonalData(
        name="billing.plan",
        order=994,
        model="billing.Plan",
        subject=NOBODY,
        description="The installation's subscription plans.",
    ),
)


def register() -> None:
    for entry in ENTRIES:
        personal_data.register(entry)
