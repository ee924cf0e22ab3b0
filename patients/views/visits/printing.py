"""The prescription and the visit summary, ready to print."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.roles import Perm
from patients.models import Visit
from patients.selectors.prescriptions import prescription_document
from patients.selectors.visit_pages import visit_summary_document
from patients.services.visits import visit_record_view
from patients.views.visits.page import for_visit


@require_perm(Perm.PRESCRIPTIONS_VIEW)
@for_visit("GET")
def prescription_print(request: HttpRequest, visit: Visit) -> HttpResponse:
    """The prescription, ready to print (and, later, to render to PDF)."""
    try:
        document = prescription_document(visit=visit)
    except DomainError as exc:
        if exc.code != "no_registration_number":
            raise
        membership = request.membership
        context = {
            "visit": visit,
            "message": exc.message,
            "can_fix": membership.pk == visit.doctor_id or membership.has_perm(Perm.STAFF_MANAGE),
        }
        return render(request, "patients/visits/no_registration.html", context)
    visit_record_view(visit=visit, actor=request.user)
    context = {"doc": document, "visit": visit}
    return render(request, "patients/visits/prescription_print.html", context)


@require_perm(Perm.CLINICAL_VIEW)
@for_visit("GET")
def summary_print(request: HttpRequest, visit: Visit) -> HttpResponse:
    """The visit's notes, vitals, diagnoses and medicines, ready to print."""
    document = visit_summary_document(visit_id=visit.pk)
    visit_record_view(visit=visit, actor=request.user)
    context = {"doc": document, "visit": visit}
    return render(request, "patients/visits/summary_print.html", context)
