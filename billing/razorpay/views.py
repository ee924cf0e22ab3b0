"""The owner's Razorpay settings page (/c/<clinic>/billing/razorpay/) and the public page a
patient's browser returns to after paying a link (/pay/razorpay/<key>/done/)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from billing.razorpay.accounts import (
    account_for_clinic,
    razorpay_account_disconnect,
    razorpay_account_save,
    razorpay_account_test,
)
from billing.razorpay.forms import RazorpayKeysForm
from billing.razorpay.handlers import handler_for
from billing.razorpay.links import BadCallback, payment_link_callback
from billing.razorpay.models import LinkStatus, PaymentLink, RazorpayAccount
from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.formatting import format_inr
from clinics.languages import for_patient
from clinics.models import Clinic
from clinics.roles import Perm
from clinics.tenancy import clinic_scope, find_by_public_token
from clinics.web import add_domain_error


def _page(request: HttpRequest, *, form: RazorpayKeysForm | None = None, status: int = 200):
    account = account_for_clinic(request.clinic.pk)
    context = {
        "account": account,
        "form": form or RazorpayKeysForm(account=account),
        "webhook_url": request.build_absolute_uri(
            reverse("razorpay-webhook", kwargs={"webhook_key": account.webhook_key})
        )
        if account
        else "",
        "links": list(PaymentLink.objects.filter(clinic=request.clinic)[:20]),
    }
    response = render(request, "billing/razorpay_settings.html", context, status=status)
    response["Cache-Control"] = "private, no-store"
    return response


def _back(request: HttpRequest) -> HttpResponse:
    return redirect("razorpay-settings", clinic_slug=request.clinic.slug)


@never_cache
@require_perm(Perm.SETTINGS_EDIT)
@require_GET
def razorpay_settings(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_perm(Perm.SETTINGS_EDIT)
@require_POST
def razorpay_save(request: HttpRequest) -> HttpResponse:
    account = account_for_clinic(request.clinic.pk)
    form = RazorpayKeysForm(request.POST, account=account)
    if form.is_valid():
        try:
            razorpay_account_save(clinic=request.clinic, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, gettext("Razorpay keys saved. Test the connection below."))
            return _back(request)
    return _page(request, form=form, status=400)


@never_cache
@require_perm(Perm.SETTINGS_EDIT)
@require_POST
def razorpay_test(request: HttpRequest) -> HttpResponse:
    account = account_for_clinic(request.clinic.pk)
    if account is None:
        messages.error(request, gettext("Connect the clinic's Razorpay account first."))
    else:
        result = razorpay_account_test(account=account, actor=request.user)
        (messages.success if result.ok else messages.error)(request, result.message)
    return _back(request)


@require_perm(Perm.SETTINGS_EDIT)
@require_POST
def razorpay_disconnect(request: HttpRequest) -> HttpResponse:
    account = account_for_clinic(request.clinic.pk)
    if account is not None:
        razorpay_account_disconnect(account=account, actor=request.user)
        messages.success(request, gettext("Razorpay disconnected: its keys were erased."))
    return _back(request)


@never_cache
@require_GET
def payment_callback(request: HttpRequest, webhook_key: str) -> HttpResponse:
    """Where Razorpay sends the patient's browser after a payment link. The signature decides;
    a bad one shows a clear page and records nothing."""
    found = find_by_public_token(RazorpayAccount, webhook_key=webhook_key[:40])
    if found is None:
        return render(request, "billing/payment_done.html", {"problem": True}, status=404)
    account_id, clinic_id = found
    with clinic_scope(clinic_id):
        account = RazorpayAccount.objects.get(pk=account_id)
        clinic = Clinic.objects.get(pk=clinic_id)
        try:
            link = payment_link_callback(account=account, params=request.GET.dict())
        except BadCallback:
            return render(request, "billing/payment_done.html", {"problem": True}, status=400)
        context = {
            "clinic_name": clinic.name,
            "paid": link.status == LinkStatus.PAID,
            "amount": format_inr(Decimal(link.amount_paise) / 100),
            "link": link,
        }
        handler = handler_for(link.on_paid_key)
        language = handler.language(link) if handler is not None and handler.language else ""
    if not language:
        return render(request, "billing/payment_done.html", context)
    # In the payer's language, as the patient's other public pages (document verification).
    with for_patient(language):
        return render(request, "billing/payment_done.html", context)
