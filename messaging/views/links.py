"""Public: a patient opens the secure document link from their WhatsApp message (/d/<token>/).

No sign-in: the signed, expiring token is the key (messaging.links). The page never shows who
the document is about. A valid link is audited and then hands over the file the way staff
downloads do: a presigned URL that lives a few minutes (S3 / R2) or the decrypted file
streamed (local storage).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clinics.models import Clinic
from clinics.storage import storage
from clinics.tenancy import clinic_id_of, clinic_scope
from messaging.links import LinkExpired, LinkInvalid, document_link_record_open, read_document_link
from patients.models import Document, DocumentStatus

EXPIRED = "expired"
INVALID = "invalid"
WITHDRAWN = "withdrawn"


def _problem(request: HttpRequest, problem: str, status: int) -> HttpResponse:
    response = render(request, "messaging/link_problem.html", {"problem": problem}, status=status)
    return _private(response)


def _private(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "private, no-store"
    return response


def _download_name(document: Document, clinic: Clinic) -> str:
    # No personal data in the name: it lands in the patient's download folder and phone gallery.
    extension = document.file.name.rsplit(".", 1)[-1] if "." in document.file.name else "bin"
    day = timezone.localtime(document.created_at, clinic.tzinfo).date().isoformat()
    return f"{document.kind.replace('_', '-')}-{day}-{document.pk}.{extension}"


def _is_object_storage(backend) -> bool:
    # Lazy on purpose (PLC0415): this loads boto3, which only a deployment storing files in S3
    # needs.
    from storages.backends.s3 import S3Storage

    return isinstance(backend, S3Storage)


@never_cache
@require_GET
def document_share(request: HttpRequest, token: str) -> HttpResponse:
    """Hand the patient their document if the link is genuine, current and not withdrawn."""
    try:
        target = read_document_link(token)
    except LinkExpired:
        return _problem(request, EXPIRED, 410)
    except LinkInvalid:
        return _problem(request, INVALID, 404)
    # Tenancy plumbing: the signed token is the only key; it names the document, which names
    # the clinic whose scope the rest runs in.
    clinic_id = clinic_id_of(Document, target.document_id)
    if clinic_id is None:
        return _problem(request, INVALID, 404)
    with clinic_scope(clinic_id):
        document = Document.objects.select_related("clinic").get(pk=target.document_id)
        if document.status != DocumentStatus.READY or not document.file:
            return _problem(request, INVALID, 404)
        if document.revoked_at or document.superseded_at:
            return _problem(request, WITHDRAWN, 410)
        document_link_record_open(document=document)
    backend = storage()
    disposition = f'inline; filename="{_download_name(document, document.clinic)}"'
    if _is_object_storage(backend):
        url = backend.url(
            document.file.name,
            parameters={
                "ResponseContentDisposition": disposition,
                "ResponseContentType": document.content_type,
                "ResponseCacheControl": "private, no-store",
            },
            expire=settings.DOCUMENT_LINK_SECONDS,
        )
        return _private(HttpResponseRedirect(url))
    with backend.open(document.file.name, "rb") as fh:
        data = fh.read()
    response = HttpResponse(data, content_type=document.content_type or "application/octet-stream")
    response["Content-Disposition"] = disposition
    response["X-Content-Type-Options"] = "nosniff"
    return _private(response)
