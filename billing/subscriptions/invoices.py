"""The installation's tax invoice to a clinic for each subscription charge.

SaaS is taxable at 18%. The plan's amount is what Razorpay charges, tax included, so the
taxable value is charge x 100 / 118 rounded half up to the paisa and the tax is the rest: the
rows add up to the charge exactly. Same state as the operator (`OPERATOR_STATE_CODE`): CGST
and SGST at 9% each (SGST takes the odd paisa); another state, or no operator state: IGST.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from billing.subscriptions.models import ClinicSubscription, PlatformInvoice
from clinics.audit import Actions, audit_record
from clinics.models import Clinic
from clinics.sequences import counter_next

GST_PERCENT = 18


def split_tax(total_paise: int) -> tuple[int, int]:
    """(taxable value, tax) of a charge that includes 18% GST, in paise."""
    taxable = (total_paise * 100 * 2 + (100 + GST_PERCENT)) // (2 * (100 + GST_PERCENT))
    return taxable, total_paise - taxable


def financial_year(day: date) -> str:
    """'2026-27' for any day from 1 April 2026 to 31 March 2027."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _series(clinic_id: int) -> str:
    """The clinic's series, six characters: S00012 up to clinic 99,999, then X and the id in
    base 36 (X0255S for clinic 100,000), enough for 60 million clinics."""
    if clinic_id < 100_000:
        return f"S{clinic_id:05d}"
    digits = ""
    n = clinic_id
    while n:
        n, r = divmod(n, 36)
        digits = _BASE36[r] + digits
    if len(digits) > 5:
        raise ValueError(f"Clinic id {clinic_id} does not fit an invoice series.")
    return "X" + digits.rjust(5, "0")


def invoice_number(clinic_id: int, year: str, sequence: int) -> str:
    """S00012/2627/0001: the clinic's series, the financial year, the number: always 16
    characters, as GST allows (a clinic is charged at most monthly, so 9,999 a year is far)."""
    if not 0 < sequence <= 9999:
        raise ValueError(f"Invoice sequence {sequence} does not fit four digits.")
    return f"{_series(clinic_id)}/{year[2:4]}{year[5:7]}/{sequence:04d}"


def platform_invoice_issue(
    *, subscription: ClinicSubscription, payment_id: str, amount_paise: int
) -> PlatformInvoice:
    """Issue the invoice for one charge (inside the clinic's scope); the same payment always
    gets the same invoice."""
    existing = PlatformInvoice.objects.filter(razorpay_payment_id=payment_id).first()
    if existing is not None:
        return existing
    clinic = Clinic.objects.get(pk=subscription.clinic_id)
    taxable, tax = split_tax(amount_paise)
    same_state = bool(settings.OPERATOR_STATE_CODE) and (
        clinic.state_code == settings.OPERATOR_STATE_CODE
    )
    cgst = tax // 2 if same_state else 0
    now = timezone.now()
    year = financial_year(timezone.localdate(now))
    try:
        with transaction.atomic():
            sequence = counter_next(clinic_id=clinic.pk, name=f"platform_invoice:{year}")
            invoice = PlatformInvoice.objects.create(
                clinic=clinic,
                subscription=subscription,
                number=invoice_number(clinic.pk, year, sequence),
                financial_year=year,
                sequence=sequence,
                razorpay_payment_id=payment_id,
                issued_at=now,
                operator_gstin=settings.OPERATOR_GSTIN,
                operator_state_code=settings.OPERATOR_STATE_CODE,
                clinic_gstin=clinic.gstin,
                clinic_state_code=clinic.state_code,
                taxable_paise=taxable,
                cgst_paise=cgst,
                sgst_paise=tax - cgst if same_state else 0,
                igst_paise=0 if same_state else tax,
                total_paise=amount_paise,
            )
            ClinicSubscription.objects.filter(pk=subscription.pk).update(charges=F("charges") + 1)
            audit_record(
                clinic=clinic,
                actor=None,
                action=Actions.PLATFORM_INVOICE_ISSUED,
                target=invoice,
                data={"number": invoice.number, "total_paise": amount_paise},
            )
    except IntegrityError:
        # The same charge processed at the same moment elsewhere: its invoice stands.
        return PlatformInvoice.objects.get(razorpay_payment_id=payment_id)
    return invoice
