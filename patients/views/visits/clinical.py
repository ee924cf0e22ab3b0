"""Vitals, diagnoses and procedures: sections of a draft visit that htmx saves in place."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from clinics.decorators import require_perm
from clinics.roles import Perm
from patients import icd10, services
from patients.forms_visits import DiagnosisForm, ProcedureForm, VitalsForm
from patients.models import Diagnosis, ProcedureDone, Visit
from patients.views.visits.page import (
    PARTIALS,
    SEARCH_LIMIT,
    for_visit,
    one_of,
    section_write,
)


@require_perm(Perm.CLINICAL_DRAFT)
@for_visit("POST")
def visit_vitals(request: HttpRequest, visit: Visit) -> HttpResponse:
    form = VitalsForm(request.POST)
    return section_write(
        request,
        visit,
        "vitals",
        lambda: services.vitals_record(
            visit=visit,
            actor=request.user,
            actor_membership=request.membership,
            **form.service_values(),
        ),
        form=form,
        saved="Vitals saved.",
        show_error=VitalsForm.show_error,
    )


@require_perm(Perm.CLINICAL_EDIT)
@for_visit("POST")
def diagnosis_add(request: HttpRequest, visit: Visit) -> HttpResponse:
    form = DiagnosisForm(request.POST)
    return section_write(
        request,
        visit,
        "diagnoses",
        lambda: services.diagnosis_add(
            visit=visit,
            actor=request.user,
            actor_membership=request.membership,
            **form.service_values(),
        ),
        form=form,
        saved=lambda diagnosis: f"Added {diagnosis}.",
    )


@require_perm(Perm.CLINICAL_EDIT)
@for_visit("POST")
def diagnosis_remove(request: HttpRequest, visit: Visit, diagnosis_id: int) -> HttpResponse:
    diagnosis = one_of(Diagnosis.objects, pk=diagnosis_id, visit=visit)
    return section_write(
        request,
        visit,
        "diagnoses",
        lambda: services.diagnosis_remove(
            diagnosis=diagnosis, actor=request.user, actor_membership=request.membership
        ),
        saved=f"Removed {diagnosis}.",
    )


@require_perm(Perm.CLINICAL_EDIT)
@for_visit("POST")
def procedure_add(request: HttpRequest, visit: Visit) -> HttpResponse:
    form = ProcedureForm(request.POST)
    return section_write(
        request,
        visit,
        "procedures",
        lambda: services.procedure_add(
            visit=visit,
            actor=request.user,
            actor_membership=request.membership,
            **form.cleaned_data,
        ),
        form=form,
        saved=lambda procedure: f"Added {procedure.name}.",
    )


@require_perm(Perm.CLINICAL_EDIT)
@for_visit("POST")
def procedure_remove(request: HttpRequest, visit: Visit, procedure_id: int) -> HttpResponse:
    procedure = one_of(ProcedureDone.objects, pk=procedure_id, visit=visit)
    return section_write(
        request,
        visit,
        "procedures",
        lambda: services.procedure_remove(
            procedure=procedure, actor=request.user, actor_membership=request.membership
        ),
        saved=f"Removed {procedure.name}.",
    )


@require_perm(Perm.CLINICAL_EDIT)
@require_GET
def icd10_search(request: HttpRequest) -> HttpResponse:
    """WHO ICD-10 codes matching a code ('j06') or words ('typh fev'), as buttons that add the
    diagnosis with that code."""
    query = ""
    for name in ("q", "icd10_code", "text"):
        query = (request.GET.get(name) or "").strip()[:100]
        if query:
            break
    results = icd10.search(query, limit=SEARCH_LIMIT) if len(query) >= 2 else []
    return render(request, f"{PARTIALS}/_icd10_results.html", {"results": results, "query": query})
