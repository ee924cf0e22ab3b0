"""Document pages: a patient's documents and uploads, opening a document, the "preparing"
status that turns into a download link (htmx), and the public verification page.

Every document is clinical: prescriptions.view is the least a role needs to reach these pages
(front desk and billing never do), and kinds other than prescriptions need clinical.view too.
Opening a document checks the role for that kind of document and the clinic (another clinic's
document answers 404), writes an audit event, and then either redirects to a presigned URL that
expires in a few minutes (S3 / R2) or streams the decrypted file (local storage). There is no
public URL for any stored file.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinics.decorators import require_perm
from clinics.errors import DomainError, ValidationFailed
from clinics.languages import patient_language
from clinics.roles import Perm
from clinics.storage import stored_file_response
from clinics.tenancy import clinic_scope, find_by_public_token
from clinics.web import add_domain_error
from patients.forms_documents import UploadForm
from patients.models import Document, DocumentKind, DocumentStatus, Patient, Visit
from patients.selectors.documents import patient_documents, verification_facts
from patients.services.documents import (
    document_record_download,
    document_retry,
    document_upload,
    visit_document_request,
)
from patients.verification import verify_elsewhere

STATUS_PARTIAL = "patients/documents/partials/_status.html"


def _document(request: HttpRequest, document_id: int) -> Document:
    document = Document.objects.filter(pk=document_id).first()
    if document is None:
        raise Http404("No such document")
    if not request.membership.has_perm(document.view_perm):
        raise PermissionDenied("Your role at this clinic cannot open this document.")
    return document


def _download_name(request: HttpRequest, document: Document) -> str:
    # No personal data in the name: it travels in URLs and lands in download folders.
    extension = document.file.name.rsplit(".", 1)[-1] if "." in document.file.name else "bin"
    day = timezone.localtime(document.created_at, request.clinic.tzinfo).date().isoformat()
    return f"{document.kind.replace('_', '-')}-{day}-{document.pk}.{extension}"


@never_cache
@require_perm(Perm.PRESCRIPTIONS_VIEW)
@require_GET
def document_open(request: HttpRequest, document_id: int) -> HttpResponse:
    """Hand over a stored document after checking role and clinic, and auditing the access."""
    document = _document(request, document_id)
    if document.status != DocumentStatus.READY:
        return render(
            request,
            "patients/documents/not_ready.html",
            {"document": document},
            status=409,
        )
    document_record_download(document=document, actor=request.user)
    return stored_file_response(
        document.file.name,
        content_type=document.content_type,
        disposition=f'inline; filename="{_download_name(request, document)}"',
    )


@never_cache
@require_perm(Perm.PRESCRIPTIONS_VIEW)
@require_GET
def document_status(request: HttpRequest, document_id: int) -> HttpResponse:
    """The document's state: "preparing" (asks again shortly), a download link, or the problem."""
    document = _document(request, document_id)
    return render(request, STATUS_PARTIAL, {"document": document})


@require_perm(Perm.PRESCRIPTIONS_VIEW)
@require_POST
def document_retry_view(request: HttpRequest, document_id: int) -> HttpResponse:
    document = _document(request, document_id)
    notice = ""
    try:
        document = document_retry(
            document=document, actor=request.user, actor_membership=request.membership
        )
    except DomainError as exc:
        notice = exc.message
        if not request.htmx:
            messages.error(request, exc.message)
    if request.htmx:
        return render(request, STATUS_PARTIAL, {"document": document, "notice": notice})
    return redirect("patient-documents", request.clinic.slug, document.patient_id)


@require_perm(Perm.PRESCRIPTIONS_VIEW)
@require_POST
def visit_document(request: HttpRequest, visit_id: int, kind: str) -> HttpResponse:
    """Ask for a signed visit's prescription or summary PDF; answers with its status."""
    visit = Visit.objects.filter(pk=visit_id).first()
    if visit is None or kind not in (DocumentKind.PRESCRIPTION, DocumentKind.VISIT_SUMMARY):
        raise Http404("No such visit document")
    try:
        document = visit_document_request(
            visit=visit, kind=kind, actor=request.user, actor_membership=request.membership
        )
    except DomainError as exc:
        if exc.code == "permission_denied":
            raise PermissionDenied(exc.message) from None
        if request.htmx:
            return render(
                request,
                STATUS_PARTIAL,
                {"document": None, "problem": exc.message},
                status=400,
            )
        messages.error(request, exc.message)
        return redirect("visit-detail", request.clinic.slug, visit.pk)
    if request.htmx:
        return render(request, STATUS_PARTIAL, {"document": document})
    return redirect("visit-detail", request.clinic.slug, visit.pk)


@require_perm(Perm.CLINICAL_VIEW)
@require_http_methods(["GET", "POST"])
def patient_documents_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A patient's documents (generated and uploaded), and the upload form."""
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise Http404("No such patient")
    can_upload = request.membership.has_perm(Perm.CLINICAL_DRAFT)
    form = UploadForm(patient=patient)
    status = 200
    if request.method == "POST":
        if not can_upload:
            raise PermissionDenied("Your role cannot add documents to a patient's record.")
        form = UploadForm(request.POST, request.FILES, patient=patient)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                document = document_upload(
                    patient=patient,
                    kind=form.cleaned_data["kind"],
                    title=form.cleaned_data["title"],
                    data=upload.read(),
                    original_name=upload.name,
                    visit=form.cleaned_data.get("visit"),
                    actor=request.user,
                    actor_membership=request.membership,
                )
            except ValidationFailed as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, f"{document.title} added to the record.")
                return redirect("patient-documents", request.clinic.slug, patient.pk)
        status = 400
    context = {
        "patient": patient,
        "documents": patient_documents(patient_id=patient.pk),
        "form": form,
        "can_upload": can_upload,
        "max_mb": settings.UPLOAD_MAX_MB,
    }
    return render(request, "patients/documents/list.html", context, status=status)


@never_cache
@require_GET
def document_verify(request: HttpRequest, token: str) -> HttpResponse:
    """Public: is this issued document genuine and current? No patient data, ever."""
    # Tenancy plumbing: the token is the only key a stranger has; it finds the clinic, and the
    # facts are then read inside that clinic's scope.
    found = (
        find_by_public_token(Document, verify_token=token, verify_token__isnull=False)
        if 16 <= len(token) <= 40
        else None
    )
    facts = None
    if found is not None:
        with clinic_scope(found[1]):
            facts = verification_facts(document_id=found[0])
    elif 16 <= len(token) <= 40:
        facts = verify_elsewhere(token)  # a bill or another app's issued document
    if facts is None:
        response = render(request, "patients/documents/verify.html", {"facts": None}, status=404)
    else:
        # In the patient's language, unless the reader picked another on the page (?lang=).
        language = patient_language(request.GET.get("lang") or facts["language"])
        with translation.override(language):
            response = render(
                request,
                "patients/documents/verify.html",
                {"facts": facts, "language": language, "languages": settings.LANGUAGES},
            )
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
