"""Export pages: a patient's exports (owners and doctors), a staff member's own data, and the
download behind a signed link (an expired link or another clinic's answers a clear page)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from clinics.decorators import require_perm
from clinics.errors import DomainError
from clinics.roles import Perm
from clinics.storage import stored_file_response
from compliance.exports.models import DataExport, ExportSubject
from compliance.exports.services import (
    ExportLinkExpired,
    ExportLinkInvalid,
    export_for_link,
    export_link,
    export_request,
)
from patients.models import Patient


def _patient(patient_id: int) -> Patient:
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise Http404("No such patient")
    return patient


@require_GET
@require_perm(Perm.PATIENT_DATA_EXPORT)
def patient_data(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's data rights page: exports (prepared, ready, removed) and erasures."""
    from compliance.erasure.models import Erasure  # noqa: PLC0415

    patient = _patient(patient_id)
    context = {
        "patient": patient,
        "exports": DataExport.objects.filter(patient=patient)[:20],
        "erasures": Erasure.objects.filter(patient=patient)[:10],
        "can_erase": request.membership.has_perm(Perm.RIGHTS_APPROVE_ERASURE),
    }
    return render(request, "compliance/exports/patient_data.html", context)


@require_POST
@require_perm(Perm.PATIENT_DATA_EXPORT)
def patient_export_create(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(patient_id)
    try:
        export_request(
            clinic=request.clinic,
            actor=request.user,
            actor_membership=request.membership,
            patient=patient,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The export is being prepared. Refresh in a minute."))
    return redirect(reverse("patient-data", args=[request.clinic.slug, patient.pk]))


@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    """A staff member's own data at this clinic: their exports, and a button for a new one."""
    exports = DataExport.objects.filter(
        subject=ExportSubject.STAFF, user_id=request.membership.user_id
    )[:10]
    return render(request, "compliance/exports/my_data.html", {"exports": exports})


@require_POST
def my_data_export(request: HttpRequest) -> HttpResponse:
    export_request(clinic=request.clinic, actor=request.user, actor_membership=request.membership)
    messages.success(request, _("Your data is being prepared. Refresh in a minute."))
    return redirect(reverse("my-data", args=[request.clinic.slug]))


def _link_and_follow(request: HttpRequest, export: DataExport) -> HttpResponse:
    """Issue a 15-minute link (role checked again, audited) and follow it."""
    try:
        token, _until = export_link(
            export=export, actor=request.user, actor_membership=request.membership
        )
    except DomainError as exc:
        return render(
            request, "compliance/exports/link_error.html", {"message": exc.message}, status=403
        )
    return redirect(reverse("export-download", args=[request.clinic.slug, token]))


@require_POST
@require_perm(Perm.PATIENT_DATA_EXPORT)
def export_download_link(request: HttpRequest, export_id: int) -> HttpResponse:
    export = DataExport.objects.filter(pk=export_id, subject=ExportSubject.PATIENT).first()
    if export is None:
        raise Http404("No such export")
    return _link_and_follow(request, export)


@require_POST
def my_data_download_link(request: HttpRequest, export_id: int) -> HttpResponse:
    """The staff member's own export only: anyone else's answers 404."""
    export = DataExport.objects.filter(
        pk=export_id, subject=ExportSubject.STAFF, user_id=request.user.pk
    ).first()
    if export is None:
        raise Http404("No such export")
    return _link_and_follow(request, export)


@require_GET
def export_download(request: HttpRequest, token: str) -> HttpResponse:
    try:
        export = export_for_link(token=token[:2000], clinic_id=request.clinic.pk)
    except ExportLinkExpired as exc:
        return render(
            request, "compliance/exports/link_error.html", {"message": exc.message}, status=410
        )
    except ExportLinkInvalid as exc:
        return render(
            request, "compliance/exports/link_error.html", {"message": exc.message}, status=404
        )
    if export.subject == ExportSubject.STAFF and export.user_id != request.user.pk:
        return render(
            request,
            "compliance/exports/link_error.html",
            {"message": _("This download link is not valid.")},
            status=404,
        )
    if export.subject == ExportSubject.PATIENT and not request.access.has(Perm.PATIENT_DATA_EXPORT):
        return render(
            request,
            "compliance/exports/link_error.html",
            {"message": _("Your role at this clinic does not allow this.")},
            status=403,
        )
    name = "patient-data" if export.subject == ExportSubject.PATIENT else "my-data"
    return stored_file_response(
        export.file.name,
        content_type="application/zip",
        disposition=f'attachment; filename="{name}-{export.pk}.zip"',
    )
