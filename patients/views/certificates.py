"""Medical certificate pages: the clinic's register (and its CSV export), a patient's
certificates, issuing one, a certificate's page with its PDF, correcting and revoking.

Who may do what: clinical.view reads certificates and the register (front desk and billing
never do); clinical.edit issues, corrects and revokes (the services also ask for a doctor
profile with a registration number, and say so on the form when it is missing); exporting the
register needs exports.run too. Another clinic's certificate or patient answers 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.roles import Perm
from clinics.web import add_domain_error, paginate
from patients.forms_certificates import (
    CertificateForm,
    CorrectionForm,
    ExportForm,
    RegisterFilterForm,
    RevokeForm,
)
from patients.models import CertificateStatus, MedicalCertificate, Patient, Visit
from patients.selectors import patient_detail
from patients.selectors.certificates import (
    RegisterFilters,
    certificate_detail,
    certificate_register,
    certificate_years,
    examination_date,
    issuing_problem,
    patient_certificates,
    previous_identification_mark,
)
from patients.services.certificates import (
    certificate_correct,
    certificate_issue,
    certificate_register_export,
    certificate_revoke,
)

TEMPLATES = "patients/certificates"


def _by(request: HttpRequest) -> dict[str, Any]:
    return {"actor": request.user, "actor_membership": request.membership}


def _today(request: HttpRequest):
    return timezone.localtime(timezone.now(), request.clinic.tzinfo).date()


def _certificate(certificate_id: int) -> MedicalCertificate:
    try:
        return certificate_detail(certificate_id=certificate_id)
    except MedicalCertificate.DoesNotExist:
        raise Http404("No such certificate") from None


def _patient(patient_id: int) -> Patient:
    try:
        return patient_detail(patient_id=patient_id)
    except Patient.DoesNotExist:
        raise Http404("No such patient") from None


# ---------------------------------------------------------------------------------------------
# The register


@require_perm(Perm.CLINICAL_VIEW)
@require_GET
def certificate_register_view(request: HttpRequest) -> HttpResponse:
    """All the clinic's certificates, newest number first, with filters and search."""
    years = certificate_years()
    form = RegisterFilterForm(request.GET, years=years)
    filters = RegisterFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = RegisterFilters(
            year=data["year"], kind=data["kind"], status=data["status"], query=data["q"]
        )
    this_year = _today(request).year
    context = {
        "form": form,
        "page": paginate(request, certificate_register(filters)),
        "filtered": any((filters.year, filters.kind, filters.status, filters.query)),
        "can_export": request.membership.has_perm(Perm.EXPORTS_RUN),
        "export_years": sorted(set(years) | {this_year}, reverse=True),
        "export_year": filters.year or this_year,
    }
    return render(request, f"{TEMPLATES}/register.html", context)


@never_cache
@require_perm(Perm.CLINICAL_VIEW, Perm.EXPORTS_RUN)
@require_GET
def certificate_register_export_view(request: HttpRequest) -> HttpResponse:
    """The year's register as a CSV file (for the inspector or the clinic's own records)."""
    form = ExportForm(request.GET)
    year = form.cleaned_data["year"] if form.is_valid() else _today(request).year
    text = certificate_register_export(clinic=request.clinic, year=year, **_by(request))
    # With a byte order mark, spreadsheets read names in Indian scripts correctly.
    response = HttpResponse(text.encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="certificate-register-{year}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------------------------------------
# A patient's certificates and issuing one


@require_perm(Perm.CLINICAL_VIEW)
@require_GET
def patient_certificates_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(patient_id)
    context = {
        "patient": patient,
        "certificates": patient_certificates(patient_id=patient.pk),
        "can_issue": request.membership.has_perm(Perm.CLINICAL_EDIT),
    }
    return render(request, f"{TEMPLATES}/patient_list.html", context)


def _issue_initial(request: HttpRequest, patient: Patient) -> dict[str, Any]:
    """The form's starting values: today, or the visit named by ?visit_id= (its date and
    diagnoses), and the identification mark noted on the patient's last certificate."""
    tz = request.clinic.tzinfo
    initial: dict[str, Any] = {
        "effective_from": _today(request),
        "identification_mark": previous_identification_mark(patient_id=patient.pk),
    }
    visit_id = request.GET.get("visit_id", "")
    if visit_id.isdigit():
        visit = (
            Visit.objects.filter(pk=int(visit_id), patient=patient, superseded_at__isnull=True)
            .prefetch_related("diagnoses")
            .first()
        )
        if visit is not None:
            initial["visit"] = visit.pk
            initial["effective_from"] = examination_date(visit, tz)
            initial["condition"] = "; ".join(d.text for d in visit.diagnoses.all())[:300]
    return initial


def _form_page(
    request: HttpRequest,
    *,
    patient: Patient,
    form: CertificateForm,
    correcting: MedicalCertificate | None = None,
) -> HttpResponse:
    context = {
        "patient": patient,
        "form": form,
        "correcting": correcting,
        "problem": issuing_problem(request.membership),
        "earlier": patient_certificates(patient_id=patient.pk)[:5],
    }
    status = 400 if form.errors else 200
    return render(request, f"{TEMPLATES}/form.html", context, status=status)


@require_perm(Perm.CLINICAL_EDIT)
@require_http_methods(["GET", "POST"])
def certificate_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    """GET: the issue form, prefilled. POST: issue the certificate and go to its page."""
    patient = _patient(patient_id)
    tz = request.clinic.tzinfo
    if request.method == "GET":
        form = CertificateForm(initial=_issue_initial(request, patient), patient=patient, tz=tz)
        return _form_page(request, patient=patient, form=form)
    form = CertificateForm(request.POST, patient=patient, tz=tz)
    if form.is_valid():
        try:
            certificate = certificate_issue(
                patient=patient, **form.service_values(), **_by(request)
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"Certificate {certificate.number} issued.")
            return redirect("certificate-detail", request.clinic.slug, certificate.pk)
    return _form_page(request, patient=patient, form=form)


# ---------------------------------------------------------------------------------------------
# One certificate


def _detail_page(
    request: HttpRequest,
    certificate: MedicalCertificate,
    *,
    revoke_form: RevokeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    in_force = certificate.status == CertificateStatus.ISSUED
    can_edit = request.membership.has_perm(Perm.CLINICAL_EDIT)
    context = {
        "certificate": certificate,
        "patient": certificate.patient,
        "document": certificate.document,
        "in_force": in_force,
        "can_correct": in_force and can_edit and certificate.doctor_id == request.membership.pk,
        "can_revoke": in_force and can_edit,
        "revoke_form": revoke_form or RevokeForm(),
    }
    return render(request, f"{TEMPLATES}/detail.html", context, status=status)


@require_perm(Perm.CLINICAL_VIEW)
@require_GET
def certificate_detail_view(request: HttpRequest, certificate_id: int) -> HttpResponse:
    return _detail_page(request, _certificate(certificate_id))


@require_perm(Perm.CLINICAL_EDIT)
@require_http_methods(["GET", "POST"])
def certificate_correct_view(request: HttpRequest, certificate_id: int) -> HttpResponse:
    """GET: the issue form, filled in from the certificate. POST: issue the correction."""
    certificate = _certificate(certificate_id)
    patient = certificate.patient
    tz = request.clinic.tzinfo
    if request.method == "GET":
        initial = CorrectionForm.initial_for_correction(certificate)
        form = CorrectionForm(initial=initial, patient=patient, tz=tz)
        return _form_page(request, patient=patient, form=form, correcting=certificate)
    form = CorrectionForm(request.POST, patient=patient, tz=tz)
    if form.is_valid():
        try:
            new = certificate_correct(
                certificate=certificate,
                **form.service_values(),
                reason=form.cleaned_data["reason"],
                **_by(request),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request, f"Certificate {new.number} issued. It replaces {certificate.number}."
            )
            return redirect("certificate-detail", request.clinic.slug, new.pk)
    return _form_page(request, patient=patient, form=form, correcting=certificate)


@require_perm(Perm.CLINICAL_EDIT)
@require_POST
def certificate_revoke_view(request: HttpRequest, certificate_id: int) -> HttpResponse:
    certificate = _certificate(certificate_id)
    form = RevokeForm(request.POST)
    if form.is_valid():
        try:
            certificate_revoke(
                certificate=certificate, reason=form.cleaned_data["reason"], **_by(request)
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"Certificate {certificate.number} revoked.")
            return redirect("certificate-detail", request.clinic.slug, certificate.pk)
    return _detail_page(request, _certificate(certificate_id), revoke_form=form, status=400)
