"""The doctor's follow-up board: open alerts, adherence by patient, upcoming follow-ups."""

from __future__ import annotations

from django import forms
from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse

from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.roles import Perm, Role
from clinics.web import add_domain_error
from messaging import selectors
from messaging.models import Escalation
from messaging.services.escalations import escalation_acknowledge, escalation_resolve


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label="What was done",
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "Called the patient; dose changed"}),
    )


def _show(request: HttpRequest) -> str:
    show = request.GET.get("show", "")
    if show in ("mine", "all"):
        return show
    # A doctor sees their own patients first; everyone else starts with the whole clinic.
    return "mine" if request.membership.role == Role.DOCTOR else "all"


def _page(request: HttpRequest, show: str, failed: tuple[int, ResolveForm] | None = None):
    doctor = request.membership if show == "mine" else None
    tz = request.clinic.tzinfo
    escalations = list(selectors.open_escalations(doctor=doctor)[:100])
    for escalation in escalations:
        escalation.resolve_form = (
            failed[1] if failed and failed[0] == escalation.pk else ResolveForm()
        )
    shown = {e.pk for e in escalations}
    context = {
        # An error about an alert no longer listed (resolved by someone else) shows on top.
        "other_errors": failed[1] if failed and failed[0] not in shown else None,
        "show": show,
        "escalations": escalations,
        "adherence": selectors.adherence_by_patient(tz=tz, doctor=doctor)[:50],
        "follow_ups": list(selectors.upcoming_follow_ups(tz=tz, doctor=doctor)[:100]),
    }
    return render(request, "messaging/board.html", context)


@require_perm(Perm.CLINICAL_VIEW)
def board(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return _page(request, _show(request))


@require_perm(Perm.CLINICAL_VIEW)
def escalation_resolve_view(request: HttpRequest, escalation_id: int) -> HttpResponse:
    escalation = Escalation.objects.filter(pk=escalation_id).first()
    if escalation is None:
        raise Http404("No such alert")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    show = request.POST.get("show", "all") if request.POST.get("show") in ("mine", "all") else "all"
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            escalation_resolve(
                escalation=escalation,
                actor=request.user,
                resolution=form.cleaned_data["resolution"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            flash.success(request, f"Alert about {escalation.patient.full_name} resolved.")
            url = reverse("messaging-board", args=[request.clinic.slug])
            return redirect(f"{url}?show={show}")
    return _page(request, show, failed=(escalation.pk, form))


@require_perm(Perm.CLINICAL_VIEW)
def escalation_acknowledge_view(request: HttpRequest, escalation_id: int) -> HttpResponse:
    escalation = Escalation.objects.filter(pk=escalation_id).first()
    if escalation is None:
        raise Http404("No such alert")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    show = request.POST.get("show") if request.POST.get("show") in ("mine", "all") else "all"
    try:
        escalation_acknowledge(escalation=escalation, actor=request.user)
    except DomainError as exc:
        flash.error(request, exc.message)
    else:
        flash.success(request, f"Alert about {escalation.patient.full_name} acknowledged.")
    url = reverse("messaging-board", args=[request.clinic.slug])
    return redirect(f"{url}?show={show}")
