"""Starting a visit, opening its page, and its notes."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render

from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.roles import Perm
from clinics.web import add_domain_error
from patients import services
from patients.forms_visits import VisitNotesForm, VisitStartForm
from patients.models import Patient, Visit
from patients.selectors import patient_detail
from patients.selectors.visit_pages import appointment_for_visit, patient_draft_visits
from patients.services.visits import visit_record_view
from patients.views.visits.page import for_visit, history, page_context, section_write, visit_url


@require_perm(Perm.CLINICAL_DRAFT)
def visit_start(request: HttpRequest, patient_id: int) -> HttpResponse:
    """GET: choose the doctor and mode (the signed-in doctor by default). POST: open a draft
    visit, linked to an appointment when one is given, and go to it."""
    try:
        patient = patient_detail(patient_id=patient_id)
    except Patient.DoesNotExist:
        raise Http404("No such patient") from None
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.method == "POST":
        form = VisitStartForm(request.POST, membership=request.membership)
        if form.is_valid():
            appointment = None
            appointment_id = form.cleaned_data["appointment_id"]
            if appointment_id is not None:
                appointment = appointment_for_visit(appointment_id)
                if appointment is None:
                    form.add_error(None, "That appointment is not in this clinic's diary.")
            if not form.errors:
                try:
                    visit = services.visit_start(
                        clinic=request.clinic,
                        actor=request.user,
                        actor_membership=request.membership,
                        patient=patient,
                        doctor=form.cleaned_data["doctor"],
                        appointment=appointment,
                        mode=form.cleaned_data["mode"],
                    )
                except DomainError as exc:
                    add_domain_error(form, exc)
                else:
                    messages.success(request, f"Started a visit for {patient.full_name}.")
                    return redirect(visit_url(request, visit.pk))
    else:
        initial = {}
        if request.GET.get("appointment_id", "").isdigit():
            appointment = appointment_for_visit(int(request.GET["appointment_id"]))
            if appointment is not None and appointment.patient_id == patient.pk:
                initial = {"appointment_id": appointment.pk, "doctor": appointment.doctor_id}
        form = VisitStartForm(initial=initial, membership=request.membership)
    context = {"form": form, "patient": patient, "drafts": patient_draft_visits(patient)}
    return render(
        request, "patients/visits/start.html", context, status=400 if form.errors else 200
    )


@require_perm(Perm.CLINICAL_VIEW)
@for_visit("GET", page=True)
def visit_detail(request: HttpRequest, visit: Visit) -> HttpResponse:
    visit_record_view(visit=visit, actor=request.user)
    context = page_context(request, visit)
    context.update(history(visit), page_errors=[])
    return render(request, "patients/visits/detail.html", context)


@require_perm(Perm.CLINICAL_DRAFT)
@for_visit("POST")
def visit_notes(request: HttpRequest, visit: Visit) -> HttpResponse:
    form = VisitNotesForm(request.POST)
    return section_write(
        request,
        visit,
        "notes",
        lambda: services.visit_update_notes(
            visit=visit,
            actor=request.user,
            actor_membership=request.membership,
            **form.service_values(),
        ),
        form=form,
        saved="Notes saved.",
    )
