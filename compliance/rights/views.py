"""The rights desk's pages: the desk (list with filters), a request (timeline and actions),
and recording a request or a nominee from the patient's page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.models import Membership
from clinics.roles import Perm
from clinics.web import add_domain_error
from compliance.rights import forms as rights_forms
from compliance.rights import selectors, services
from compliance.rights.models import (
    CorrectionDecision,
    CorrectionItem,
    Nomination,
    Requester,
    RightsKind,
)
from patients.models import Patient, Visit

# The desk's filters as the person reads them (the URL keeps the English key).
FILTER_LABELS = {
    "open": gettext_lazy("open"),
    "overdue": gettext_lazy("overdue"),
    "mine": gettext_lazy("mine"),
    "closed": gettext_lazy("closed"),
    "all": gettext_lazy("all"),
}


def _patient(patient_id: int) -> Patient:
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise Http404("No such patient")
    return patient


def _to_request(request: HttpRequest, rights_request) -> HttpResponse:
    return redirect("rights-request-detail", request.clinic.slug, rights_request.pk)


@require_perm(Perm.RIGHTS_VIEW)
@require_GET
def rights_desk(request: HttpRequest) -> HttpResponse:
    """Open requests, soonest due first; filters: open, overdue, mine, closed, all."""
    show = request.GET.get("show", "open")
    if show not in selectors.FILTERS:
        show = "open"
    rows = selectors.rights_requests(show=show, membership=request.membership)[:200]
    context = {
        "rows": rows,
        "show": show,
        "filters": selectors.FILTERS,
        "filter_choices": [(name, FILTER_LABELS.get(name, name)) for name in selectors.FILTERS],
    }
    return render(request, "compliance/rights/desk.html", context)


@require_perm(Perm.RIGHTS_RECORD)
@require_http_methods(["GET", "POST"])
def rights_grievance(request: HttpRequest) -> HttpResponse:
    """Record a grievance from someone who is not a patient (a relative, a member of the
    public), known by their name and a phone number or an email address."""
    if request.method == "GET":
        form = rights_forms.GrievanceForm()
        return render(request, "compliance/rights/grievance.html", {"form": form})
    form = rights_forms.GrievanceForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            rights_request = services.rights_request_create(
                clinic=request.clinic,
                actor=request.user,
                kind=RightsKind.GRIEVANCE,
                requester=Requester.OTHER,
                requester_name=data["requester_name"],
                requester_phone=data["requester_phone"],
                requester_email=data["requester_email"],
                details=data["details"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"Grievance {rights_request.reference} recorded.")
            return _to_request(request, rights_request)
    return render(request, "compliance/rights/grievance.html", {"form": form}, status=400)


def _detail(request: HttpRequest, rights_request, status: int = 200, **forms_in) -> HttpResponse:
    members = Membership.objects.filter(is_active=True).select_related("user")
    visits = (
        Visit.objects.filter(patient_id=rights_request.patient_id).order_by("-created_at")[:50]
        if rights_request.patient_id
        else []
    )
    context = {
        "rr": rights_request,
        "timeline": selectors.rights_request_timeline(rights_request),
        "corrections": rights_request.corrections.select_related("visit", "decided_by__user"),
        "assign_form": forms_in.get("assign_form") or rights_forms.AssignForm(members=members),
        "verify_form": forms_in.get("verify_form") or rights_forms.VerifyForm(),
        "move_form": forms_in.get("move_form") or rights_forms.MoveForm(),
        "propose_form": forms_in.get("propose_form") or rights_forms.ProposeForm(visits=visits),
        "evidence_form": forms_in.get("evidence_form") or rights_forms.EvidenceForm(),
        "decide_form": rights_forms.DecideForm(),
        "contact_missing": not request.clinic.privacy_contact_name,
    }
    return render(request, "compliance/rights/detail.html", context, status=status)


@require_perm(Perm.RIGHTS_RECORD)
@require_GET
def rights_request_detail(request: HttpRequest, rights_request_id: int) -> HttpResponse:
    return _detail(request, selectors.rights_request_or_404(rights_request_id))


def _act(request, rights_request_id, form_class, form_name, call, done, **form_kwargs):
    """Validate `form_class`, call the service; re-render with the errors or go back."""
    rights_request = selectors.rights_request_or_404(rights_request_id)
    form = form_class(request.POST, **form_kwargs)
    if form.is_valid():
        try:
            call(rights_request, form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, done)
            return _to_request(request, rights_request)
    return _detail(request, rights_request, status=400, **{form_name: form})


@require_perm(Perm.RIGHTS_HANDLE)
@require_POST
def rights_request_assign(request: HttpRequest, rights_request_id: int) -> HttpResponse:
    members = Membership.objects.filter(is_active=True).select_related("user")

    def call(rr, data):
        owner = members.filter(pk=data["owner"]).first() if data["owner"] else None
        services.rights_request_assign(request=rr, actor=request.user, owner=owner)

    return _act(
        request,
        rights_request_id,
        rights_forms.AssignForm,
        "assign_form",
        call,
        gettext("Owner saved."),
        members=members,
    )


@require_perm(Perm.RIGHTS_HANDLE)
@require_POST
def rights_request_verify(request: HttpRequest, rights_request_id: int) -> HttpResponse:
    def call(rr, data):
        services.rights_request_verify(request=rr, actor=request.user, **data)

    return _act(
        request,
        rights_request_id,
        rights_forms.VerifyForm,
        "verify_form",
        call,
        gettext("Identity check recorded."),
    )


@require_perm(Perm.RIGHTS_HANDLE)
@require_POST
def rights_request_send_code(request: HttpRequest, rights_request_id: int) -> HttpResponse:
    rights_request = selectors.rights_request_or_404(rights_request_id)
    try:
        services.rights_request_send_code(request=rights_request, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, gettext("A code was sent to the patient's registered WhatsApp number.")
        )
    return _to_request(request, rights_request)


@require_perm(Perm.RIGHTS_HANDLE)
@require_POST
def rights_request_move(request: HttpRequest, rights_request_id: int) -> HttpResponse:
    def call(rr, data):
        services.rights_request_move(request=rr, actor=request.user, **data)

    return _act(
        request,
        rights_request_id,
        rights_forms.MoveForm,
        "move_form",
        call,
        gettext("Status changed."),
    )


@require_perm(Perm.RIGHTS_HANDLE)
@require_POST
def rights_request_export(request: HttpRequest, rights_request_id: int) -> HttpResponse:
    """Prepare the copy of the patient's data an access or portability request asks for."""
    rights_request = selectors.rights_request_or_404(rights_request_id)
    try:
        services.rights_request_export_start(
            request=rights_request, actor=request.user, actor_membership=request.membership
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            gettext("The copy is being prepared; it is listed on the patient's data page."),
        )
    return _to_request(request, rights_request)


@require_perm(Perm.RIGHTS_APPROVE_ERASURE)
@require_POST
def rights_request_erasure(request: HttpRequest, rights_request_id: int) -> HttpResponse:
    """Write the erasure's dry run for an erasure request and show it for confirmation."""
    rights_request = selectors.rights_request_or_404(rights_request_id)
    try:
        erasure = services.rights_request_erasure_plan(
            request=rights_request, actor=request.user, actor_membership=request.membership
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return _to_request(request, rights_request)
    return redirect("erasure-detail", request.clinic.slug, erasure.pk)


@require_perm(Perm.RIGHTS_RECORD)
@require_POST
def correction_propose(request: HttpRequest, rights_request_id: int) -> HttpResponse:
    rights_request = selectors.rights_request_or_404(rights_request_id)
    visits = Visit.objects.filter(patient_id=rights_request.patient_id)

    def call(rr, data):
        field = data["field"]
        visit = None
        if field.startswith("visit:"):
            field = field.removeprefix("visit:")
            visit = visits.filter(pk=data["visit"]).first()
            if visit is None:
                raise DomainError(gettext("Choose one of this patient's visits."), field="visit")
        services.correction_propose(
            request=rr, actor=request.user, field=field, new_value=data["new_value"], visit=visit
        )

    return _act(
        request,
        rights_request_id,
        rights_forms.ProposeForm,
        "propose_form",
        call,
        gettext("Correction proposed."),
        visits=visits,
    )


@require_perm(Perm.RIGHTS_RECORD)
@require_POST
def correction_decide(
    request: HttpRequest, rights_request_id: int, correction_id: int
) -> HttpResponse:
    rights_request = selectors.rights_request_or_404(rights_request_id)
    item = CorrectionItem.objects.filter(pk=correction_id, request=rights_request).first()
    if item is None:
        raise Http404("No such correction")
    form = rights_forms.DecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Choose approve or refuse."))
        return _to_request(request, rights_request)
    try:
        item = services.correction_decide(
            item=item,
            actor=request.user,
            approve=form.cleaned_data["decision"] == "approve",
            reason=form.cleaned_data["reason"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if (
            item.decision == CorrectionDecision.REFUSED
            and form.cleaned_data["decision"] == "approve"
        ):
            messages.error(request, item.reason)
        else:
            if item.decision == CorrectionDecision.REFUSED:
                messages.success(request, gettext("Correction refused."))
            else:
                messages.success(request, gettext("Correction approved and made."))
    return _to_request(request, rights_request)


@require_perm(Perm.RIGHTS_HANDLE)
@require_POST
def nomination_evidence(request: HttpRequest, rights_request_id: int) -> HttpResponse:
    def call(rr, data):
        if rr.nomination_id is None:
            raise DomainError(gettext("This request was not made by a nominee."))
        services.nomination_evidence_record(
            nomination=Nomination.objects.get(pk=rr.nomination_id),
            actor=request.user,
            request=rr,
            **data,
        )

    return _act(
        request,
        rights_request_id,
        rights_forms.EvidenceForm,
        "evidence_form",
        call,
        gettext("Evidence recorded."),
    )


# --- from the patient's page --------------------------------------------------------------------
def _patient_page(request, patient, record_form=None, nomination_form=None, status=200):
    context = {
        "patient": patient,
        "requests": selectors.patient_requests(patient.pk),
        "nomination": selectors.patient_nomination(patient.pk),
        "form": record_form or _record_form(patient),
        "nomination_form": nomination_form or rights_forms.NominationForm(),
    }
    return render(request, "compliance/rights/patient.html", context, status=status)


def _record_form(patient: Patient, data=None) -> forms.Form:
    return rights_forms.RecordForm(data, guardians=list(patient.guardians.all()))


@require_perm(Perm.RIGHTS_RECORD)
@require_http_methods(["GET", "POST"])
def patient_rights(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's requests and nominee; "Record a request" posts here."""
    patient = _patient(patient_id)
    if request.method == "GET":
        return _patient_page(request, patient)
    form = _record_form(patient, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        guardian = (
            patient.guardians.filter(pk=data["guardian"]).first() if data["guardian"] else None
        )
        try:
            rights_request = services.rights_request_create(
                clinic=request.clinic,
                actor=request.user,
                kind=data["kind"],
                patient=patient,
                requester=data["requester"],
                guardian=guardian,
                nomination=selectors.patient_nomination(patient.pk),
                details=data["details"],
                records_copy=data["records_copy"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                gettext("Request %(reference)s recorded.")
                % {"reference": rights_request.reference},
            )
            return _to_request(request, rights_request)
    return _patient_page(request, patient, record_form=form, status=400)


@require_perm(Perm.RIGHTS_RECORD)
@require_POST
def patient_nominate(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Record the patient's nominee (replacing an earlier one)."""
    patient = _patient(patient_id)
    form = rights_forms.NominationForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.nomination_record(
                patient=patient,
                actor=request.user,
                name=data["name"],
                relation=data["relation"],
                phone=str(data["phone"]),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, gettext("Nominee recorded."))
            return redirect("patient-rights", request.clinic.slug, patient.pk)
    return _patient_page(request, patient, nomination_form=form, status=400)
