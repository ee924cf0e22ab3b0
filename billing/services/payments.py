"""Payments, advances and refunds. Each gets its own receipt number (RCT/, ADV/, ADJ/, RFD/
series, per financial year) and is never changed afterwards.

A bill's `paid_paise` is kept in step under the bill's row lock; a patient's advance balance
(deposits, less what bills took from them, less advances refunded) under the patient's row lock.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from billing.models import Bill, BillStatus, DayClosing, Payment, PaymentKind, PaymentMode
from billing.services.common import local_today, require_billing, rs
from billing.services.numbering import number_take
from clinics.actors import Actor, resolve
from clinics.audit import Actions, audit_record
from clinics.errors import Conflict, ValidationFailed
from clinics.models import Clinic, Membership
from patients.models import Patient

COUNTER_MODES = (PaymentMode.CASH, PaymentMode.CARD, PaymentMode.UPI, PaymentMode.CHEQUE)
COUNTER_MODE_CHOICES = [(m.value, m.label) for m in COUNTER_MODES]
RECEIPT_SERIES = {
    PaymentKind.PAYMENT: "RCT",
    PaymentKind.ADVANCE: "ADV",
    PaymentKind.REFUND: "RFD",
}
ADJUSTMENT_SERIES = "ADJ"  # a bill paid from the patient's advance


def _check_amount(amount_paise, field: str = "amount_paise") -> None:
    if not isinstance(amount_paise, int) or isinstance(amount_paise, bool) or amount_paise <= 0:
        raise ValidationFailed({field: ["Give the amount in whole paise, more than 0."]})


def _check_mode(mode: str, allowed) -> None:
    if mode not in allowed:
        names = ", ".join(str(PaymentMode(m).label) for m in allowed)
        raise ValidationFailed({"mode": [f"Choose how it was paid: {names}."]})


def _text(value: str, field: str, limit: int, *, required: bool = False) -> str:
    value = " ".join((value or "").split())
    if len(value) > limit:
        raise ValidationFailed({field: [f"Keep it to {limit} characters."]})
    if required and not value:
        raise ValidationFailed({field: ["Give the reason."]})
    return value


def _receipt(clinic: Clinic, series: str) -> str:
    return number_take(clinic_id=clinic.pk, series=series, day=local_today(clinic))


def _payable_bill(bill: Bill) -> Bill:
    bill = Bill.objects.select_for_update().select_related("clinic").get(pk=bill.pk)
    if bill.is_credit_note:
        raise Conflict("A credit note is not paid.")
    if bill.status == BillStatus.DRAFT:
        raise Conflict("Issue the bill before taking payment on it.")
    if bill.status == BillStatus.CANCELLED:
        raise Conflict("This bill is cancelled: it cannot be paid.")
    return bill


def _received_by(actor: Actor, clinic_id: int, received_by: Membership | None) -> Membership | None:
    if received_by is not None:
        if received_by.clinic_id != clinic_id:
            raise ValidationFailed({"received_by": ["Not a staff member of this clinic."]})
        return received_by
    return resolve(actor, clinic_id=clinic_id).membership if actor is not None else None


@transaction.atomic
def bill_payment_record(
    *,
    bill: Bill,
    amount_paise: int,
    mode: str,
    reference: str = "",
    received_by: Membership | None = None,
    actor: Actor = None,
    received_at: datetime | None = None,
) -> Payment:
    """Record money received against an issued bill, up to what is due on it.

    Staff record cash, card, UPI and cheque; Vaidya itself (actor None) records an online
    payment (mode "online", the payment link's reference) when the payment gateway confirms it.
    """
    if actor is None:
        _check_mode(mode, (PaymentMode.ONLINE,))
    else:
        require_billing(actor, bill.clinic_id)
        _check_mode(mode, (*COUNTER_MODES, PaymentMode.ONLINE))
    _check_amount(amount_paise)
    reference = _text(reference, "reference", 100)
    if mode == PaymentMode.CHEQUE and not reference:
        raise ValidationFailed({"reference": ["Give the cheque's number."]})
    bill = _payable_bill(bill)
    if amount_paise > bill.amount_due_paise:
        raise ValidationFailed(
            {
                "amount_paise": [
                    f"That is more than the {rs(bill.amount_due_paise)} due on this bill. "
                    "Take the rest as an advance."
                ]
            }
        )
    payment = Payment.objects.create(
        clinic_id=bill.clinic_id,
        patient_id=bill.patient_id,
        bill=bill,
        kind=PaymentKind.PAYMENT,
        mode=mode,
        amount_paise=amount_paise,
        reference=reference,
        receipt_number=_receipt(bill.clinic, RECEIPT_SERIES[PaymentKind.PAYMENT]),
        received_by=_received_by(actor, bill.clinic_id, received_by),
        created_by=resolve(actor, clinic_id=bill.clinic_id).user if actor is not None else None,
        received_at=received_at or timezone.now(),
    )
    bill.paid_paise += amount_paise
    bill.save(update_fields=["paid_paise"])
    audit_record(
        clinic=bill.clinic_id,
        actor=actor,
        action=Actions.PAYMENT_RECORDED,
        target=payment,
        patient_id=bill.patient_id,
        data={"bill": bill.number, "mode": mode, "amount_paise": amount_paise},
    )
    return payment


def advance_balance(patient_id: int) -> int:
    """What is left of the patient's deposits: advances, less what bills took, less refunds."""
    sums = Payment.objects.filter(patient_id=patient_id).aggregate(
        paid_in=Sum("amount_paise", filter=Q(kind=PaymentKind.ADVANCE)),
        used=Sum("amount_paise", filter=Q(kind=PaymentKind.PAYMENT, mode=PaymentMode.ADVANCE)),
        refunded=Sum("amount_paise", filter=Q(kind=PaymentKind.REFUND, bill__isnull=True)),
    )
    return (sums["paid_in"] or 0) - (sums["used"] or 0) - (sums["refunded"] or 0)


def _lock_patient(patient_id: int) -> Patient:
    return Patient.objects.select_for_update().get(pk=patient_id)


def apply_advance(*, bill: Bill, actor: Actor) -> int:
    """Pay what can be paid of an issued bill from the patient's advance; for the caller's
    transaction (issuing), which audits it. Returns the paise applied."""
    _lock_patient(bill.patient_id)
    amount = min(advance_balance(bill.patient_id), bill.amount_due_paise)
    if amount <= 0:
        return 0
    clinic = Clinic.objects.get(pk=bill.clinic_id)
    Payment.objects.create(
        clinic_id=bill.clinic_id,
        patient_id=bill.patient_id,
        bill=bill,
        kind=PaymentKind.PAYMENT,
        mode=PaymentMode.ADVANCE,
        amount_paise=amount,
        receipt_number=_receipt(clinic, ADJUSTMENT_SERIES),
        received_by=_received_by(actor, bill.clinic_id, None),
    )
    bill.paid_paise += amount
    bill.save(update_fields=["paid_paise"])
    return amount


@transaction.atomic
def advance_record(
    *,
    patient: Patient,
    amount_paise: int,
    mode: str,
    actor: Actor,
    reference: str = "",
    received_by: Membership | None = None,
) -> Payment:
    """Take a deposit on the patient's account; the bills issued to them later use it first."""
    access = require_billing(actor, patient.clinic_id)
    _check_mode(mode, COUNTER_MODES)
    _check_amount(amount_paise)
    reference = _text(reference, "reference", 100)
    patient = _lock_patient(patient.pk)
    clinic = Clinic.objects.get(pk=patient.clinic_id)
    payment = Payment.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        kind=PaymentKind.ADVANCE,
        mode=mode,
        amount_paise=amount_paise,
        reference=reference,
        receipt_number=_receipt(clinic, RECEIPT_SERIES[PaymentKind.ADVANCE]),
        received_by=_received_by(actor, patient.clinic_id, received_by),
        created_by=access.user,
    )
    audit_record(
        clinic=patient.clinic_id,
        actor=actor,
        action=Actions.ADVANCE_RECORDED,
        target=payment,
        patient_id=patient.pk,
        data={"mode": mode, "amount_paise": amount_paise},
    )
    return payment


@transaction.atomic
def refund_record(
    *,
    patient: Patient,
    amount_paise: int,
    mode: str,
    reason: str,
    actor: Actor,
    bill: Bill | None = None,
    reference: str = "",
) -> Payment:
    """Return money to a patient, with a reason: from a bill's payments (never more than was
    paid on it), or from their advance (never more than is left of it)."""
    access = require_billing(actor, patient.clinic_id)
    _check_mode(mode, COUNTER_MODES)
    _check_amount(amount_paise)
    reason = _text(reason, "reason", 200, required=True)
    reference = _text(reference, "reference", 100)
    patient = _lock_patient(patient.pk)
    if bill is not None:
        bill = Bill.objects.select_for_update().get(pk=bill.pk)
        if bill.patient_id != patient.pk:
            raise ValidationFailed({"bill_id": ["That bill is another patient's."]})
        if amount_paise > bill.paid_paise:
            raise ValidationFailed(
                {"amount_paise": [f"Only {rs(bill.paid_paise)} was paid on this bill."]}
            )
    elif amount_paise > advance_balance(patient.pk):
        raise ValidationFailed(
            {"amount_paise": [f"Only {rs(advance_balance(patient.pk))} is left of the advance."]}
        )
    clinic = Clinic.objects.get(pk=patient.clinic_id)
    payment = Payment.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        bill=bill,
        kind=PaymentKind.REFUND,
        mode=mode,
        amount_paise=amount_paise,
        reason=reason,
        reference=reference,
        receipt_number=_receipt(clinic, RECEIPT_SERIES[PaymentKind.REFUND]),
        received_by=access.membership,
        created_by=access.user,
    )
    if bill is not None:
        bill.paid_paise -= amount_paise
        bill.save(update_fields=["paid_paise"])
    audit_record(
        clinic=patient.clinic_id,
        actor=actor,
        action=Actions.REFUND_RECORDED,
        target=payment,
        patient_id=patient.pk,
        data={"mode": mode, "amount_paise": amount_paise, "bill": bill.number if bill else None},
    )
    return payment


@transaction.atomic
def day_close(*, clinic: Clinic, day, counted_cash_paise: int, actor: Actor, note: str = ""):
    """Close a day at the counter: record the cash counted beside the cash expected (cash
    received less cash refunded that day). A day is closed once."""
    access = require_billing(actor, clinic.pk)
    if (
        not isinstance(counted_cash_paise, int)
        or isinstance(counted_cash_paise, bool)
        or (counted_cash_paise < 0)
    ):
        raise ValidationFailed({"counted_cash_paise": ["Give the cash counted in whole paise."]})
    if day > local_today(clinic):
        raise ValidationFailed({"day": ["A day can be closed once it has begun."]})
    if DayClosing.objects.filter(day=day).exists():
        raise Conflict("This day is already closed.")
    # Lazy on purpose: the selectors import the services' helpers.
    from billing.selectors.reports import day_book  # noqa: PLC0415

    expected = day_book(clinic=clinic, day=day).cash_expected_paise
    closing = DayClosing.objects.create(
        clinic=clinic,
        day=day,
        expected_cash_paise=expected,
        counted_cash_paise=counted_cash_paise,
        note=_text(note, "note", 200),
        closed_by=access.user,
    )
    audit_record(
        clinic=clinic.pk,
        actor=actor,
        action=Actions.DAY_CLOSED,
        target=closing,
        data={"day": day, "expected": expected, "counted": counted_cash_paise},
    )
    return closing
