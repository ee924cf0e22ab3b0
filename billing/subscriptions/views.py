"""The owner's subscription page (/c/<clinic>/billing/subscription/): the plan, what Vaidya
does in the current state, choosing a plan (a Razorpay checkout link), cancelling, and the
installation's invoices. Owners only; it stays writable while the clinic is read-only."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from billing.subscriptions.models import ClinicSubscription, Plan, PlatformInvoice
from billing.subscriptions.modes import clinic_mode
from billing.subscriptions.services import (
    subscription_cancel,
    subscription_refresh,
    subscription_start,
)
from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.formatting import format_date, format_inr
from clinics.pdf import PDF_CONTENT_TYPE, render_pdf
from clinics.roles import Perm


def _back(request: HttpRequest) -> HttpResponse:
    return redirect("subscription", clinic_slug=request.clinic.slug)


@never_cache
@require_perm(Perm.SETTINGS_EDIT)
@require_GET
def subscription_page(request: HttpRequest) -> HttpResponse:
    mode = clinic_mode(request.clinic.pk)
    context = {
        "mode": mode,
        "plans": list(Plan.objects.filter(is_active=True)),
        "invoices": list(PlatformInvoice.objects.filter(clinic=request.clinic)[:24]),
    }
    return render(request, "billing/subscription.html", context)


def _parse_plan(request: HttpRequest) -> Plan | None:
    raw = request.POST.get("plan", "")
    if not raw.isdigit() or len(raw) > 9:
        return None
    return Plan.objects.filter(pk=int(raw), is_active=True).first()


@require_perm(Perm.SETTINGS_EDIT)
@require_POST
def subscription_start_view(request: HttpRequest) -> HttpResponse:
    plan = _parse_plan(request)
    if plan is None:
        messages.error(request, "Choose one of the plans listed.")
        return _back(request)
    try:
        subscription = subscription_start(clinic=request.clinic, actor=request.user, plan=plan)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _back(request)
    # The owner authorises the payments on Razorpay's checkout page.
    return redirect(subscription.short_url)


def _current(request: HttpRequest) -> ClinicSubscription | None:
    return clinic_mode(request.clinic.pk).subscription


@require_perm(Perm.SETTINGS_EDIT)
@require_POST
def subscription_cancel_view(request: HttpRequest) -> HttpResponse:
    subscription = _current(request)
    if subscription is None:
        messages.error(request, "The clinic has no subscription to cancel.")
        return _back(request)
    at_cycle_end = request.POST.get("when") == "cycle_end"
    try:
        subscription_cancel(
            subscription=subscription, actor=request.user, at_cycle_end=at_cycle_end
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            "The subscription will end with the paid period."
            if at_cycle_end
            else "The subscription is cancelled.",
        )
    return _back(request)


@require_perm(Perm.SETTINGS_EDIT)
@require_POST
def subscription_refresh_view(request: HttpRequest) -> HttpResponse:
    """Ask Razorpay now (after paying, before its webhook arrives)."""
    subscription = _current(request)
    if subscription is not None:
        try:
            subscription_refresh(subscription=subscription)
        except DomainError as exc:
            messages.error(request, exc.message)
    return _back(request)


@require_perm(Perm.SETTINGS_EDIT)
@require_GET
def platform_invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """The installation's tax invoice for one charge, as a PDF (another clinic's: 404)."""
    invoice = (
        PlatformInvoice.objects.select_related("subscription__plan")
        .filter(clinic=request.clinic, pk=invoice_id)
        .first()
    )
    if invoice is None:
        raise Http404("No such invoice")

    def rupees(paise: int) -> str:
        return format_inr(Decimal(paise) / 100)

    pdf = render_pdf(
        "pdf/platform_invoice.html",
        {
            "invoice": invoice,
            "clinic": request.clinic,
            "operator_name": settings.OPERATOR_LEGAL_NAME,
            "issued_on": format_date(invoice.issued_at),
            "cgst": rupees(invoice.cgst_paise),
            "sgst": rupees(invoice.sgst_paise),
            "igst": rupees(invoice.igst_paise),
        },
    )
    response = HttpResponse(pdf, content_type=PDF_CONTENT_TYPE)
    # The invoice number names the file; it holds no personal data.
    filename = invoice.number.replace("/", "-")
    response["Content-Disposition"] = f'inline; filename="invoice-{filename}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
