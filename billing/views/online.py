"""A bill on WhatsApp, from the bill's page: the bill itself (a secure link to its PDF), and
its online payment (the Razorpay payment link, made or shown, and sent). Billing staff and
the front desk (`billing.edit`)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from billing.razorpay.bill_links import bill_payment_link_create, bill_payment_link_send
from billing.services.documents import bill_document_send
from billing.views.common import bill_or_404, curl
from clinics.decorators import require_perm
from clinics.errors import DomainError, ValidationFailed
from clinics.roles import Perm


def _refusal(exc: DomainError) -> str:
    if isinstance(exc, ValidationFailed):
        return " ".join(m for found in exc.errors.values() for m in found)
    return exc.message


@require_POST
@require_perm(Perm.BILLING_EDIT)
def payment_link(request: HttpRequest, bill_id: int) -> HttpResponse:
    """Make the bill's payment link, or show the open one already made for what is due."""
    bill = bill_or_404(bill_id)
    try:
        link = bill_payment_link_create(bill=bill, actor=request.user)
    except DomainError as exc:
        messages.error(request, _refusal(exc))
    else:
        messages.success(
            request,
            gettext("Payment link for %(amount)s: %(url)s")
            % {"amount": link.amount_shown, "url": link.short_url},
        )
    return redirect(curl(request, "billing-bill", bill.pk) + "#online-payment")


@require_POST
@require_perm(Perm.BILLING_EDIT)
def payment_link_send(request: HttpRequest, bill_id: int) -> HttpResponse:
    """Send the payment link to the patient on WhatsApp (made first if needed)."""
    bill = bill_or_404(bill_id)
    try:
        link = bill_payment_link_send(bill=bill, actor=request.user)
    except DomainError as exc:
        messages.error(request, _refusal(exc))
    else:
        messages.success(
            request,
            gettext("Payment link for %(amount)s sent on WhatsApp.")
            % {"amount": link.amount_shown},
        )
    return redirect(curl(request, "billing-bill", bill.pk) + "#online-payment")


@require_POST
@require_perm(Perm.BILLING_EDIT)
def bill_send(request: HttpRequest, bill_id: int) -> HttpResponse:
    """Send the issued bill to the patient on WhatsApp (a secure link to its PDF)."""
    bill = bill_or_404(bill_id)
    try:
        bill_document_send(bill=bill, actor=request.user)
    except DomainError as exc:
        messages.error(request, _refusal(exc))
    else:
        messages.success(request, f"{bill.number} sent to the patient on WhatsApp.")
    return redirect(curl(request, "billing-bill", bill.pk) + "#send-bill")
