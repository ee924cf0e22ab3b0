"""Care pages of the clinic: the drug list and a doctor's prescription templates.

Views parse input, check the role's permission and call one service (writes) or selectors
(reads). Every page runs inside the clinic's scope (ClinicScopeMiddleware). The permission is
checked before the object is looked up, and another clinic's drug or another doctor's template
answers 404.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinics.decorators import require_perm
from clinics.errors import DomainError, ValidationFailed
from clinics.roles import Perm
from clinics.web import add_domain_error, paginate_quick
from patients import services
from patients.forms_care import DrugEditForm, DrugSearchForm, FavouriteForm, FormularyImportForm
from patients.models import Drug, PrescriptionTemplate
from patients.prescribing.formulary import COLUMNS
from patients.selectors import care

DRUG_RESULTS_TARGET = "drug-results"


def _clinic_url(request: HttpRequest, name: str, *args) -> str:
    return reverse(name, args=[request.clinic.slug, *args])


def _drug_or_404(drug_id: int) -> Drug:
    try:
        return care.drug_for_page(drug_id=drug_id)
    except Drug.DoesNotExist:
        raise Http404("No such drug") from None


def _to_drug_list(request: HttpRequest) -> HttpResponse:
    return redirect(_clinic_url(request, "drug-list"))


@require_perm(Perm.PRESCRIPTIONS_VIEW)
@require_GET
def drug_list(request: HttpRequest) -> HttpResponse:
    form = DrugSearchForm(request.GET)
    query, include_inactive = form.search()
    page = paginate_quick(
        request,
        care.drug_list(query=query, include_inactive=include_inactive),
        per_page=care.DRUGS_PER_PAGE,
    )
    search = {"q": query} if query else {}
    if include_inactive:
        search["inactive"] = "on"
    context = {
        "page": page,
        "query": query,
        "include_inactive": include_inactive,
        "search_params": urlencode(search),
        "results_target": DRUG_RESULTS_TARGET,
        "can_edit": request.membership.has_perm(Perm.PRESCRIPTIONS_EDIT),
        "can_import": request.membership.has_perm(Perm.SETTINGS_EDIT),
    }
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.target == DRUG_RESULTS_TARGET and not htmx.history_restore_request:
        response = render(request, "patients/care/_drug_results.html", context)
    else:
        response = render(request, "patients/care/drug_list.html", context)
    # The same URL answers with the whole page or only the results: caches must keep both.
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@require_perm(Perm.SETTINGS_EDIT)
@require_http_methods(["GET", "POST"])
def formulary_import(request: HttpRequest) -> HttpResponse:
    """The owner imports a formulary CSV: all rows or none, with each bad row's problem."""
    form = FormularyImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            added, updated = services.formulary_import(
                clinic=request.clinic, actor=request.user, text=form.cleaned_data["file"]
            )
        except ValidationFailed as exc:
            errors = [m for messages in exc.errors.values() for m in messages]
        except DomainError as exc:
            errors = [exc.message]
        else:
            messages.success(request, f"Imported the formulary: {added} added, {updated} updated.")
            return _to_drug_list(request)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "errors": errors, "columns": COLUMNS}
    return render(request, "patients/care/formulary_import.html", context, status=status)


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@require_http_methods(["GET", "POST"])
def drug_add(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = DrugEditForm(request.POST)
        if form.is_valid():
            try:
                drug = services.drug_add(
                    clinic=request.clinic, actor=request.user, **form.drug_fields()
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, f"Added {drug} to the drug list.")
                return _to_drug_list(request)
    else:
        form = DrugEditForm()
    return render(request, "patients/care/drug_form.html", {"form": form, "drug": None})


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@require_http_methods(["GET", "POST"])
def drug_edit(request: HttpRequest, drug_id: int) -> HttpResponse:
    drug = _drug_or_404(drug_id)
    if request.method == "POST":
        form = DrugEditForm(request.POST, initial=DrugEditForm.initial_for(drug))
        if form.is_valid():
            try:
                drug = services.drug_update(drug=drug, actor=request.user, **form.drug_fields())
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, f"Saved {drug}.")
                return _to_drug_list(request)
    else:
        form = DrugEditForm(initial=DrugEditForm.initial_for(drug))
    return render(request, "patients/care/drug_form.html", {"form": form, "drug": drug})


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@require_POST
def drug_favourite(request: HttpRequest, drug_id: int) -> HttpResponse:
    drug = _drug_or_404(drug_id)
    form = FavouriteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing was changed: use the star button on the drug list.")
        return _to_drug_list(request)
    try:
        drug = services.drug_set_favourite(
            drug=drug, actor=request.user, is_favourite=form.cleaned_data["is_favourite"]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return _to_drug_list(request)
    htmx = getattr(request, "htmx", None)
    if htmx:
        # Only the drug's row is swapped: the list keeps its place and search.
        return render(request, "patients/care/_drug_row.html", {"drug": drug, "can_edit": True})
    if drug.is_favourite:
        messages.success(request, f"{drug} is now a favourite: it comes first when prescribing.")
    else:
        messages.success(request, f"{drug} is no longer a favourite.")
    return _to_drug_list(request)


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@require_POST
def drug_deactivate(request: HttpRequest, drug_id: int) -> HttpResponse:
    drug = _drug_or_404(drug_id)
    try:
        drug = services.drug_deactivate(drug=drug, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"{drug} is off the drug list. Prescriptions already written with it are unchanged.",
        )
    return _to_drug_list(request)


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@require_POST
def drug_reactivate(request: HttpRequest, drug_id: int) -> HttpResponse:
    drug = _drug_or_404(drug_id)
    try:
        drug = services.drug_reactivate(drug=drug, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{drug} is back on the drug list.")
    return _to_drug_list(request)


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    rows = care.doctor_template_rows(doctor=request.membership)
    return render(request, "patients/care/template_list.html", {"rows": rows})


@require_perm(Perm.PRESCRIPTIONS_EDIT)
@require_POST
def template_delete(request: HttpRequest, template_id: int) -> HttpResponse:
    try:
        template = care.doctor_template(doctor=request.membership, template_id=template_id)
    except PrescriptionTemplate.DoesNotExist:
        raise Http404("No such template") from None
    name = template.name
    try:
        services.prescription_template_delete(template=template, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Deleted the template “{name}”. Prescriptions written from it are unchanged.",
        )
    return redirect(_clinic_url(request, "template-list"))
