"""Billing's reports: the day book with its closing, outstanding dues, refunds, the monthly GST
summary, each with a CSV; and a ZIP of a month's bill PDFs."""

from __future__ import annotations

import csv
import io
import zipfile
from calendar import monthrange
from datetime import date

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from billing.forms import DayCloseForm, DayForm, MonthForm, to_paise
from billing.gst import rate_label
from billing.selectors.reports import (
    day_book,
    gst_summary,
    outstanding_bills,
    period_bills,
    refunds,
)
from billing.services import day_close
from billing.services.common import local_today, rs
from billing.views.common import curl, page
from clinics.decorators import require_perm
from clinics.errors import DomainError, ValidationFailed
from clinics.reports import csv_cell
from clinics.roles import Perm
from clinics.storage import storage

MAX_ZIP_BILLS = 5000


def _csv(name: str, headers: list[str], rows: list[list]) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows([csv_cell(c) for c in row] for row in rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _message(exc: DomainError) -> str:
    if isinstance(exc, ValidationFailed):
        return " ".join(m for ms in exc.errors.values() for m in ms)
    return exc.message


def _day(request: HttpRequest) -> date:
    form = DayForm(request.GET)
    return (form.is_valid() and form.cleaned_data["day"]) or local_today(request.clinic)


def _month(request: HttpRequest) -> tuple[date, date]:
    form = MonthForm(request.GET)
    if form.is_valid() and form.cleaned_data["month"]:
        year, month = map(int, form.cleaned_data["month"].split("-"))
    else:
        today = local_today(request.clinic)
        year, month = today.year, today.month
    return date(year, month, 1), date(year, month, monthrange(year, month)[1])


@require_GET
@require_perm(Perm.BILLING_VIEW)
def day_book_page(request: HttpRequest) -> HttpResponse:
    day = _day(request)
    book = day_book(clinic=request.clinic, day=day)
    if request.GET.get("format") == "csv":
        rows = [["mode", m["mode"], m["received"], m["refunded"]] for m in book.by_mode]
        rows += [["staff", s["name"], s["received"], s["refunded"]] for s in book.by_staff]
        return _csv(f"day-book-{day}", ["by", "name", "received_paise", "refunded_paise"], rows)
    return page(
        request,
        "billing/day_book.html",
        {
            "book": book,
            "day": day,
            "close_form": DayCloseForm(),
            "rs": rs,
            "can_close": request.membership.has_perm(Perm.BILLING_EDIT),
        },
    )


@require_POST
@require_perm(Perm.BILLING_EDIT)
def day_close_view(request: HttpRequest) -> HttpResponse:
    day = _day(request)
    form = DayCloseForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationFailed({"counted": [gettext("Give the cash counted in rupees.")]})
        day_close(
            clinic=request.clinic,
            day=day,
            counted_cash_paise=to_paise(form.cleaned_data["counted"]),
            note=form.cleaned_data["note"],
            actor=request.user,
        )
    except DomainError as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, gettext("Closed %(day)s.") % {"day": day})
    return redirect(f"{curl(request, 'billing-day-book')}?day={day.isoformat()}")


@require_GET
@require_perm(Perm.BILLING_VIEW)
def outstanding_page(request: HttpRequest) -> HttpResponse:
    bills = list(outstanding_bills()[:1000])
    if request.GET.get("format") == "csv":
        rows = [
            [b.number, b.issue_date, b.patient.full_name, b.total_paise, b.amount_due_paise]
            for b in bills
        ]
        return _csv(
            "outstanding", ["number", "issued", "patient", "total_paise", "due_paise"], rows
        )
    return page(request, "billing/outstanding.html", {"bills": bills})


@require_GET
@require_perm(Perm.BILLING_VIEW)
def gst_page(request: HttpRequest) -> HttpResponse:
    first, last = _month(request)
    summary = gst_summary(first=first, last=last)
    rows = list(refunds(clinic=request.clinic, first=first, last=last))
    if request.GET.get("format") == "csv":
        out = [
            ["rate", rate_label(r["rate_bp"]), r["taxable"], r["cgst"], r["sgst"], r["igst"]]
            for r in summary.by_rate
        ]
        out.append(["exempt", "", summary.exempt_paise, 0, 0, 0])
        n = summary.credit_notes
        out.append(
            [
                "credit_notes",
                n["count"],
                n["taxable"] + n["exempt"],
                n["cgst"],
                n["sgst"],
                n["igst"],
            ]
        )
        headers = ["row", "rate", "value_paise", "cgst_paise", "sgst_paise", "igst_paise"]
        return _csv(f"gst-{first:%Y-%m}", headers, out)
    return page(
        request,
        "billing/gst.html",
        {"summary": summary, "month": f"{first:%Y-%m}", "refunds": rows, "rate_label": rate_label},
    )


@require_GET
@require_perm(Perm.BILLING_VIEW)
def bills_zip(request: HttpRequest) -> HttpResponse:
    """The month's stored bill and credit note PDFs as one ZIP (for the accountant)."""
    first, last = _month(request)
    buffer = io.BytesIO()
    backend = storage()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for bill in period_bills(first=first, last=last)[:MAX_ZIP_BILLS]:
            with backend.open(bill.pdf_file.name, "rb") as fh:
                archive.writestr(f"{bill.number.replace('/', '-')}.pdf", fh.read())
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="bills-{first:%Y-%m}.zip"'
    response["Cache-Control"] = "private, no-store"
    return response
