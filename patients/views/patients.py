"""Patients pages: the list and search, registration, editing, the patient page, guardians.

Views parse input, check the role's permission and call one service (writes) or selectors
(reads). Every page runs inside the clinic's scope (ClinicScopeMiddleware).
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.roles import Perm
from clinics.web import paginate_quick
from patients import selectors, services
from patients.forms import (
    GuardianForm,
    PatientCreateForm,
    PatientEditForm,
    PatientSearchForm,
    show_service_error,
)
from patients.forms_allergies import AllergyForm
from patients.models import Patient
from patients.registration import registration_steps
from patients.selectors import care
from patients.selectors.allergies import patient_allergies

RESULTS_TARGET = "patient-results"


def _clinic_url(request: HttpRequest, name: str, *args) -> str:
    return reverse(name, args=[request.clinic.slug, *args])


def _for_patient(*methods: str):
    """Give the view the patient named by `patient_id`, then allow only `methods`.

    The patient is looked up first, so another clinic's patient answers 404 to every method
    (never 405 or 403, which would confirm that the record exists).
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, patient_id: int, **kwargs) -> HttpResponse:
            patient = selectors.patient_or_404(patient_id, read=selectors.patient_detail)
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            return view(request, patient, **kwargs)

        return wrapper

    return decorator


def _reads_health(request: HttpRequest) -> bool:
    """Whether the person may read (and so record) allergies and long-term conditions."""
    return request.membership.has_perm(Perm.CLINICAL_VIEW)


def _to_patient_page(request: HttpRequest, patient: Patient) -> HttpResponse:
    return redirect(_clinic_url(request, "patient-detail", patient.pk))


@require_GET
@require_perm(Perm.PATIENTS_VIEW)
def patient_list(request: HttpRequest) -> HttpResponse:
    form = PatientSearchForm(request.GET)
    query, include_archived = form.query()
    page = paginate_quick(
        request, selectors.patient_list(query=query, include_archived=include_archived)
    )
    search = {"q": query} if query else {}
    if include_archived:
        search["archived"] = "on"
    context = {
        "form": form,
        "page": page,
        "query": query,
        "include_archived": include_archived,
        "search_params": urlencode(search),
        "results_target": RESULTS_TARGET,
    }
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.target == RESULTS_TARGET and not htmx.history_restore_request:
        response = render(request, "patients/partials/_results.html", context)
    else:
        response = render(request, "patients/list.html", context)
    # The same URL answers with the whole page or only the results: caches must keep both.
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@require_http_methods(["GET", "POST"])
@require_perm(Perm.PATIENTS_EDIT)
def patient_create(request: HttpRequest) -> HttpResponse:
    duplicates: list[Patient] = []
    data = request.POST if request.method == "POST" else None
    # What other apps record in the same step (the WhatsApp consent): patients.registration.
    steps = [
        (step, step.form_class(data, prefix=step.name, clinic=request.clinic))
        for step in registration_steps
    ]
    if request.method == "POST":
        form = PatientCreateForm(request.POST, health=_reads_health(request))
        steps_valid = [step_form.is_valid() for _step, step_form in steps]
        if form.is_valid() and all(steps_valid):
            try:
                patient = services.patient_create(
                    clinic=request.clinic,
                    actor=request.user,
                    age_years=form.cleaned_data["age_years"],
                    guardian=form.guardian_input(),
                    confirm_duplicate=form.cleaned_data["confirm_duplicate"],
                    registration={
                        step.name: step_form.cleaned_data
                        for step, step_form in steps
                        if step_form.is_used()
                    },
                    **form.patient_fields(),
                )
            except services.PossibleDuplicate as exc:
                duplicates = exc.matches
            except DomainError as exc:
                show_service_error(form, exc)
            else:
                messages.success(
                    request,
                    gettext("Registered %(name)s. Their patient number is %(number)s.")
                    % {"name": patient.full_name, "number": patient.patient_number},
                )
                return _to_patient_page(request, patient)
    else:
        form = PatientCreateForm(health=_reads_health(request))
    context = {
        "form": form,
        "duplicates": duplicates,
        "registration_steps": [
            {"template": step.template, "form": step_form} for step, step_form in steps
        ],
    }
    return render(request, "patients/create.html", context)


@require_perm(Perm.PATIENTS_EDIT)
@_for_patient("GET", "POST")
def patient_edit(request: HttpRequest, patient: Patient) -> HttpResponse:
    health = _reads_health(request)
    initial = PatientEditForm.initial_for(patient, health=health)
    if request.method == "POST":
        form = PatientEditForm(request.POST, initial=initial, health=health)
        if form.is_valid():
            # Only what the person changed: an untouched (possibly estimated) date of birth is
            # not re-sent, so a newly typed age replaces it.
            changes = form.patient_fields(only_changed=True)
            age_years = form.cleaned_data["age_years"]
            try:
                services.patient_update(
                    patient=patient, actor=request.user, age_years=age_years, **changes
                )
            except DomainError as exc:
                show_service_error(form, exc)
            else:
                if changes or age_years is not None:
                    messages.success(
                        request, f"Saved the changes to {patient.full_name}'s details."
                    )
                else:
                    messages.info(request, "Nothing was changed.")
                return _to_patient_page(request, patient)
    else:
        form = PatientEditForm(initial=initial, health=health)
    return render(request, "patients/edit.html", {"form": form, "patient": patient})


@require_perm(Perm.PATIENTS_VIEW)
@_for_patient("GET")
def patient_detail(request: HttpRequest, patient: Patient) -> HttpResponse:
    services.patient_record_view(patient=patient, actor=request.user)
    context = {
        "patient": patient,
        **care.patient_care(patient=patient, membership=request.membership),
        "guardian_form": GuardianForm(),
        "allergy_entries": patient_allergies(patient.pk),
    }
    if _reads_health(request) and request.membership.has_perm(Perm.CLINICAL_DRAFT):
        context["allergy_form"] = AllergyForm()
    return render(request, "patients/detail.html", context)


@require_perm(Perm.PATIENTS_ARCHIVE)
@_for_patient("POST")
def patient_archive(request: HttpRequest, patient: Patient) -> HttpResponse:
    try:
        services.patient_archive(patient=patient, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"{patient.full_name} is archived: hidden from the patient list and search. "
            "Nothing was deleted; you can restore the record at any time.",
        )
    return _to_patient_page(request, patient)


@require_perm(Perm.PATIENTS_ARCHIVE)
@_for_patient("POST")
def patient_restore(request: HttpRequest, patient: Patient) -> HttpResponse:
    try:
        services.patient_restore(patient=patient, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{patient.full_name} is back in the patient list.")
    return _to_patient_page(request, patient)


@require_perm(Perm.PATIENTS_EDIT)
@_for_patient("GET", "POST")
def guardian_add(request: HttpRequest, patient: Patient) -> HttpResponse:
    if request.method == "POST":
        form = GuardianForm(request.POST)
        if form.is_valid():
            guardian = form.guardian_input() or services.GuardianInput(relation="")
            try:
                record = services.guardian_add(
                    patient=patient, actor=request.user, guardian=guardian
                )
            except DomainError as exc:
                show_service_error(form, exc)
            else:
                messages.success(
                    request,
                    f"Added {record.display_name} ({record.get_relation_display()}) "
                    f"as a guardian of {patient.full_name}.",
                )
                return _to_patient_page(request, patient)
    else:
        form = GuardianForm()
    return render(request, "patients/guardian_add.html", {"form": form, "patient": patient})


@require_perm(Perm.PATIENTS_EDIT)
@_for_patient("POST")
def guardian_remove(request: HttpRequest, patient: Patient, guardian_id: int) -> HttpResponse:
    guardian = next((g for g in patient.guardians.all() if g.pk == guardian_id), None)
    if guardian is None:
        raise Http404("No such guardian")
    try:
        services.guardian_remove(guardian=guardian, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"{guardian.display_name} is no longer a guardian of {patient.full_name}."
        )
    return _to_patient_page(request, patient)
