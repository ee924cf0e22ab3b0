"""Bills, a bill's page, and a patient's ledger."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum

from billing.models import Bill, BillKind, BillLine, BillStatus, Payment, PaymentKind, PaymentMode
from billing.services.payments import advance_balance


def bill_list(*, patient_id: int | None = None, status: str | None = None) -> QuerySet[Bill]:
    rows = Bill.objects.select_related("patient").order_by("-created_at", "-id")
    if patient_id is not None:
        rows = rows.filter(patient_id=patient_id)
    if status:
        rows = rows.filter(status=status)
    return rows


def bill_detail(*, bill_id: int) -> Bill:
    """One bill with its lines, payments and patient (Bill.DoesNotExist for another clinic's)."""
    return (
        Bill.objects.select_related("patient", "payer_guardian", "credit_for", "clinic")
        .prefetch_related("lines", "payments__received_by__user", "credit_notes")
        .get(pk=bill_id)
    )


def credited_by_line(*, bill: Bill) -> dict[int, int]:
    """Taxable value already credited on each of an issued bill's lines (by line id), from its
    issued credit notes."""
    rows = (
        BillLine.objects.filter(credited_line__bill=bill, bill__status=BillStatus.ISSUED)
        .values("credited_line_id")
        .annotate(total=Sum("taxable_value_paise"))
    )
    return {row["credited_line_id"]: row["total"] for row in rows}


@dataclass(frozen=True)
class Ledger:
    billed_paise: int  # issued bills (cancelled ones left out)
    credited_paise: int  # credit notes against them
    paid_paise: int  # payments on bills, less refunds of them
    advance_paise: int  # deposits still unused
    due_paise: int  # what the patient owes on issued bills
    bills: list[Bill]
    payments: list[Payment]


def patient_ledger(*, patient_id: int) -> Ledger:
    """What a patient was billed, paid and owes, with their bills and payments (newest first)."""
    bills = list(
        Bill.objects.filter(patient_id=patient_id, kind=BillKind.BILL)
        .exclude(status=BillStatus.DRAFT)
        .order_by("-issued_at", "-id")
    )
    issued = [b for b in bills if b.status == BillStatus.ISSUED]
    payments = list(
        Payment.objects.filter(patient_id=patient_id)
        .select_related("bill")
        .order_by("-received_at", "-id")
    )
    bill_money = Payment.objects.filter(patient_id=patient_id, bill__isnull=False).aggregate(
        paid=Sum("amount_paise", filter=Q(kind=PaymentKind.PAYMENT) & ~Q(mode=PaymentMode.ADVANCE)),
        from_advance=Sum(
            "amount_paise", filter=Q(kind=PaymentKind.PAYMENT, mode=PaymentMode.ADVANCE)
        ),
        refunded=Sum("amount_paise", filter=Q(kind=PaymentKind.REFUND)),
    )
    return Ledger(
        billed_paise=sum(b.total_paise for b in issued),
        credited_paise=sum(b.credited_paise for b in issued),
        paid_paise=(bill_money["paid"] or 0)
        + (bill_money["from_advance"] or 0)
        - (bill_money["refunded"] or 0),
        advance_paise=advance_balance(patient_id),
        due_paise=sum(b.amount_due_paise for b in issued),
        bills=bills,
        payments=payments,
    )


def checkout_today(*, clinic) -> list:
    """Today's appointments that are done or with the doctor and have no bill yet (cancelled
    bills do not count): the front desk's checkout list. One query."""
    # Lazy on purpose: only this list needs the schedule's models and day bounds.
    from django.utils import timezone  # noqa: PLC0415

    from patients.models import Appointment, AppointmentStatus  # noqa: PLC0415
    from patients.selectors.appointments import local_day_bounds  # noqa: PLC0415

    tz = clinic.tzinfo
    start, end = local_day_bounds(timezone.now().astimezone(tz).date(), tz)
    billed = (
        Bill.objects.filter(kind=BillKind.BILL, visit__appointment__isnull=False)
        .exclude(status=BillStatus.CANCELLED)
        .values("visit__appointment_id")
    )
    return list(
        Appointment.objects.filter(
            starts_at__gte=start,
            starts_at__lt=end,
            status__in=[AppointmentStatus.COMPLETED, AppointmentStatus.IN_CONSULTATION],
        )
        .exclude(pk__in=billed)
        .select_related("patient", "doctor__user")
        .order_by("-completed_at", "token_number")[:50]
    )


@dataclass(frozen=True)
class OnlineState:
    """What the bill's page shows about paying online: the link for what is due now (if made),
    whether Razorpay is connected, and money paid online that the bill did not take."""

    connected: bool
    link: object | None  # billing.razorpay.models.PaymentLink
    latest: object | None
    unrecorded: list


def online_state(bill: Bill) -> OnlineState:
    # Lazy on purpose: the Razorpay package imports the services, which the selectors serve.
    from billing.razorpay.accounts import account_for_clinic  # noqa: PLC0415
    from billing.razorpay.bill_links import (  # noqa: PLC0415
        bill_links,
        bill_online_unrecorded,
        open_link,
    )

    if bill.is_draft or bill.is_credit_note:
        return OnlineState(False, None, None, [])
    return OnlineState(
        connected=account_for_clinic(bill.clinic_id) is not None,
        link=open_link(bill),
        latest=bill_links(bill).first(),
        unrecorded=bill_online_unrecorded(bill),
    )
