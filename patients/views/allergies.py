"""Recording and removing a patient's allergies on the patient page (clinical staff)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.roles import Perm
from patients import selectors, services
from patients.forms import show_service_error
from patients.forms_allergies import AllergyForm
from patients.models import PatientAllergy


def _patient_page(request: HttpRequest, patient_id: int) -> HttpResponse:
    return redirect(
        reverse("patient-detail", args=[request.clinic.slug, patient_id]) + "#allergies"
    )


@require_perm(Perm.CLINICAL_DRAFT)
@require_POST
def allergy_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = selectors.patient_or_404(patient_id)
    form = AllergyForm(request.POST)
    if form.is_valid():
        try:
            entry = services.patient_allergy_add(
                patient=patient, actor=request.user, **form.cleaned_data
            )
        except DomainError as exc:
            show_service_error(form, exc)
        else:
            messages.success(request, f"Recorded the allergy to {entry.label}.")
            return _patient_page(request, patient.pk)
    context = {"patient": patient, "allergy_form": form}
    return render(request, "patients/allergy_add.html", context, status=400)


@require_perm(Perm.CLINICAL_DRAFT)
@require_POST
def allergy_remove(request: HttpRequest, patient_id: int, allergy_id: int) -> HttpResponse:
    patient = selectors.patient_or_404(patient_id)
    entry = PatientAllergy.objects.filter(pk=allergy_id, patient_id=patient.pk).first()
    if entry is None:
        raise Http404("No such allergy")
    try:
        services.patient_allergy_remove(allergy=entry, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Removed the allergy to {entry.label} from the record.")
    return _patient_page(request, patient.pk)
