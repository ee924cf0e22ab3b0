"""My WhatsApp alerts: a doctor or owner turns escalation alerts on their own WhatsApp on or off.

Each person acts only on their own choice (the page never takes a membership id to turn alerts
on); an owner may also turn someone else's alerts off, for instance when they left.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.models import Membership
from clinics.roles import Perm
from clinics.web import add_domain_error
from messaging.forms import WhatsAppAlertsForm
from messaging.services.staff_alert_optin import (
    alert_readiness,
    whatsapp_alerts_for,
    whatsapp_alerts_list,
    whatsapp_alerts_turn_off,
    whatsapp_alerts_turn_on,
)

PAGE = "messaging/my_alerts.html"


def _page(request: HttpRequest, form: WhatsAppAlertsForm | None = None, status: int = 200):
    opt_in = whatsapp_alerts_for(request.membership)
    if form is None:
        initial = {}
        if opt_in is not None:
            phone = opt_in.phone.as_international if opt_in.phone else ""
            initial = {"phone": phone, "language": opt_in.language}
        form = WhatsAppAlertsForm(initial=initial)
    can_manage = request.membership.has_perm(Perm.STAFF_MANAGE)
    context = {
        "opt_in": opt_in,
        "form": form,
        "readiness": alert_readiness(request.clinic.pk),
        "can_manage": can_manage,
        "others": [
            row for row in whatsapp_alerts_list() if row.membership_id != request.membership.pk
        ]
        if can_manage
        else [],
    }
    response = render(request, PAGE, context, status=status)
    response["Cache-Control"] = "private, no-store"
    return response


def _back(request: HttpRequest) -> HttpResponse:
    return redirect("messaging-my-alerts", clinic_slug=request.clinic.slug)


# Alerts go to the people who sign clinical notes: doctors and owners (clinical.edit).
@never_cache
@require_perm(Perm.CLINICAL_EDIT)
@require_http_methods(["GET", "POST"])
def my_alerts(request: HttpRequest) -> HttpResponse:
    """Show the signed-in member's choice; POST turns alerts on (or changes number/language)."""
    if request.method == "GET":
        return _page(request)
    form = WhatsAppAlertsForm(request.POST)
    if form.is_valid():
        try:
            # Always the signed-in member: whatever else the form carries is ignored.
            whatsapp_alerts_turn_on(
                membership=request.membership,
                actor=request.user,
                phone=form.cleaned_data["phone"],
                language=form.cleaned_data["language"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "WhatsApp alerts are on for this number.")
            return _back(request)
    return _page(request, form=form, status=400)


@require_perm(Perm.CLINICAL_EDIT)
@require_POST
def my_alerts_off(request: HttpRequest) -> HttpResponse:
    """The signed-in member turns their own alerts off."""
    whatsapp_alerts_turn_off(membership=request.membership, actor=request.user)
    messages.success(request, "WhatsApp alerts are off. Alerts still open in Vaidya.")
    return _back(request)


@require_perm(Perm.STAFF_MANAGE)
@require_POST
def staff_alerts_off(request: HttpRequest, membership_id: int) -> HttpResponse:
    """An owner turns someone's alerts off (their number is erased too)."""
    membership = Membership.objects.filter(pk=membership_id).select_related("user").first()
    if membership is None:
        raise Http404("No such staff member")
    try:
        whatsapp_alerts_turn_off(membership=membership, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"WhatsApp alerts to {membership.user} are off.")
    return _back(request)
