"""The catalogue and the clinic's GST profile (and UPI ID)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.forms import BillingProfileForm, CatalogueItemForm, to_paise
from billing.models import BillingProfile
from billing.selectors.catalogue import catalogue_list, gst_profile_warning
from billing.services.catalogue import billing_profile_save, catalogue_item_save
from billing.views.common import curl, page
from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.models import Membership
from clinics.roles import Perm, Role
from clinics.web import add_domain_error


def _catalogue_page(request: HttpRequest, form: CatalogueItemForm, status: int = 200):
    doctors = Membership.objects.filter(role__in=[Role.DOCTOR, Role.OWNER], is_active=True)
    context = {
        "items": catalogue_list(),
        "form": form,
        "doctors": doctors.select_related("user"),
        "can_edit": request.membership.has_perm(Perm.BILLING_CATALOGUE),
        "warning": gst_profile_warning(clinic_id=request.clinic.pk),
    }
    return page(request, "billing/catalogue.html", context, status)


@require_GET
@require_perm(Perm.BILLING_VIEW)
def catalogue(request: HttpRequest) -> HttpResponse:
    return _catalogue_page(request, CatalogueItemForm())


@require_POST
@require_perm(Perm.BILLING_CATALOGUE)
def catalogue_add(request: HttpRequest) -> HttpResponse:
    form = CatalogueItemForm(request.POST)
    doctors = Membership.objects.filter(role__in=[Role.DOCTOR, Role.OWNER], is_active=True)
    doctor = doctors.filter(pk=request.POST.get("doctor") or 0).first()
    if form.is_valid():
        data = form.cleaned_data
        values = {
            "kind": data["kind"],
            "name": data["name"],
            "code": data["code"],
            "gst_treatment": data["gst_treatment"],
            "gst_rate_bp": int((data["gst_rate"] or 0) * 100),
            "price_paise": to_paise(data["price"]),
            "unit": data["unit"],
            "follow_up_price_paise": to_paise(data["follow_up_price"]),
            "free_follow_up_days": data["free_follow_up_days"] or 0,
        }
        try:
            catalogue_item_save(
                clinic=request.clinic, values=values, actor=request.user, doctor=doctor
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, gettext("Added %(name)s.") % {"name": data["name"]})
            return redirect(curl(request, "billing-catalogue"))
    return _catalogue_page(request, form, 400)


@require_http_methods(["GET", "POST"])
@require_perm(Perm.BILLING_CATALOGUE)
def profile(request: HttpRequest) -> HttpResponse:
    current = BillingProfile.objects.filter(clinic=request.clinic).first()
    initial = (
        {
            "gst_registered": current.gst_registered,
            "gstin": current.gstin,
            "legal_name": current.legal_name,
            "state_code": current.state_code,
            "upi_vpa": current.upi_vpa,
            "upi_payee_name": current.upi_payee_name,
        }
        if current
        else {"state_code": request.clinic.state_code}
    )
    form = BillingProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            billing_profile_save(clinic=request.clinic, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, gettext("The GST profile is saved."))
            return redirect(curl(request, "billing-profile"))
    status = 400 if request.method == "POST" else 200
    return page(request, "billing/profile.html", {"form": form}, status)
