"""Billing's reports: the day book (by mode and by staff, with the day's closing), outstanding
dues, refunds, and the monthly GST summary an accountant files from. Each aggregates in the
database in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from billing.models import (
    Bill,
    BillKind,
    BillLine,
    BillStatus,
    DayClosing,
    Payment,
    PaymentKind,
    PaymentMode,
)
from clinics.models import Clinic


def _bounds(clinic: Clinic, first: date, last: date) -> tuple[datetime, datetime]:
    tz = clinic.tzinfo
    return (
        datetime.combine(first, time.min, tzinfo=tz),
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz),
    )


@dataclass
class DayBook:
    day: date
    by_mode: list[dict] = field(default_factory=list)  # mode, received, refunded
    by_staff: list[dict] = field(default_factory=list)  # name, received, refunded
    received_paise: int = 0
    refunded_paise: int = 0
    cash_expected_paise: int = 0
    closing: DayClosing | None = None


def day_book(*, clinic: Clinic, day: date) -> DayBook:
    """Money taken and returned on one day (the clinic's day), by mode and by staff member.
    A bill paid from an advance moved no money that day and is left out. Three queries."""
    start, end = _bounds(clinic, day, day)
    rows = (
        Payment.objects.filter(received_at__gte=start, received_at__lt=end)
        .exclude(mode=PaymentMode.ADVANCE)
        .values("mode", "received_by__user__full_name")
        .annotate(
            received=Coalesce(Sum("amount_paise", filter=~Q(kind=PaymentKind.REFUND)), 0),
            refunded=Coalesce(Sum("amount_paise", filter=Q(kind=PaymentKind.REFUND)), 0),
        )
        .order_by("mode", "received_by__user__full_name")
    )
    book = DayBook(day=day)
    modes: dict[str, dict] = {}
    staff: dict[str, dict] = {}
    for row in rows:
        label = str(PaymentMode(row["mode"]).label)
        m = modes.setdefault(label, {"mode": label, "received": 0, "refunded": 0})
        name = row["received_by__user__full_name"] or "Online (no staff)"
        s = staff.setdefault(name, {"name": name, "received": 0, "refunded": 0})
        for target in (m, s):
            target["received"] += row["received"]
            target["refunded"] += row["refunded"]
        book.received_paise += row["received"]
        book.refunded_paise += row["refunded"]
        if row["mode"] == PaymentMode.CASH:
            book.cash_expected_paise += row["received"] - row["refunded"]
    book.by_mode = list(modes.values())
    book.by_staff = list(staff.values())
    book.closing = DayClosing.objects.select_related("closed_by").filter(day=day).first()
    return book


def outstanding_bills() -> QuerySet[Bill]:
    """Issued bills with something still due, oldest first."""
    return (
        Bill.objects.filter(kind=BillKind.BILL, status=BillStatus.ISSUED)
        .filter(total_paise__gt=F("credited_paise") + F("paid_paise"))
        .select_related("patient")
        .order_by("issue_date", "id")
    )


def refunds(*, clinic: Clinic, first: date, last: date) -> QuerySet[Payment]:
    start, end = _bounds(clinic, first, last)
    return (
        Payment.objects.filter(kind=PaymentKind.REFUND, received_at__gte=start, received_at__lt=end)
        .select_related("patient", "bill", "received_by__user")
        .order_by("received_at", "id")
    )


@dataclass
class GstSummary:
    first: date
    last: date
    by_rate: list[dict]  # rate_bp, taxable, cgst, sgst, igst (bills, credit notes taken off)
    exempt_paise: int
    credit_notes: dict  # count, taxable, exempt, cgst, sgst, igst, total
    documents: list[dict]  # series, count, first number, last number, cancelled


def gst_summary(*, first: date, last: date) -> GstSummary:
    """Taxable value and tax by rate and head, exempt value, credit notes, and the document
    series issued (with cancelled counts), for bills issued between `first` and `last`.
    Cancelled bills count for nothing but the series. Two queries, each one pass in SQL
    (no COUNT(DISTINCT): it made PostgreSQL sort every line of the month on disk)."""
    lines = BillLine.objects.filter(
        bill__issue_date__gte=first, bill__issue_date__lte=last, bill__status=BillStatus.ISSUED
    )
    sign_rows = (
        lines.values("bill__kind", "tax_charged", "rate_bp")
        .annotate(
            value=Coalesce(Sum("taxable_value_paise"), 0),
            cgst=Coalesce(Sum("cgst_paise"), 0),
            sgst=Coalesce(Sum("sgst_paise"), 0),
            igst=Coalesce(Sum("igst_paise"), 0),
        )
        .order_by("rate_bp")
    )
    rates: dict[int, dict] = {}
    exempt = 0
    notes = {"count": 0, "taxable": 0, "exempt": 0, "cgst": 0, "sgst": 0, "igst": 0, "total": 0}
    for row in sign_rows:
        credit = row["bill__kind"] == BillKind.CREDIT_NOTE
        sign = -1 if credit else 1
        if credit:
            key = "taxable" if row["tax_charged"] else "exempt"
            notes[key] += row["value"]
            for head in ("cgst", "sgst", "igst"):
                notes[head] += row[head]
            notes["total"] += row["value"] + row["cgst"] + row["sgst"] + row["igst"]
        if not row["tax_charged"]:
            exempt += sign * row["value"]
            continue
        r = rates.setdefault(
            row["rate_bp"],
            {"rate_bp": row["rate_bp"], "taxable": 0, "cgst": 0, "sgst": 0, "igst": 0},
        )
        r["taxable"] += sign * row["value"]
        for head in ("cgst", "sgst", "igst"):
            r[head] += sign * row[head]
    documents = list(
        Bill.objects.filter(issue_date__gte=first, issue_date__lte=last)
        .exclude(status=BillStatus.DRAFT)
        .values("series")
        .annotate(
            count=Count("id"),
            first_number=Min("number"),
            last_number=Max("number"),
            cancelled=Count("id", filter=Q(status=BillStatus.CANCELLED)),
            credit_notes=Count("id", filter=Q(kind=BillKind.CREDIT_NOTE)),
        )
        .order_by("series")
    )
    # A credit note is issued at once (never a draft), so the series rows count them all.
    notes["count"] = sum(row.pop("credit_notes") for row in documents)
    return GstSummary(
        first=first,
        last=last,
        by_rate=sorted(rates.values(), key=lambda r: r["rate_bp"]),
        exempt_paise=exempt,
        credit_notes=notes,
        documents=documents,
    )


def period_bills(*, first: date, last: date) -> QuerySet[Bill]:
    """Issued (and cancelled) bills and credit notes of a period with a stored PDF."""
    return (
        Bill.objects.filter(issue_date__gte=first, issue_date__lte=last)
        .exclude(status=BillStatus.DRAFT)
        .exclude(pdf_file="")
        .order_by("issue_date", "number")
    )
