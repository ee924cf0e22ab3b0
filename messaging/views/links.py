"""Public: a patient opens the secure document link from their WhatsApp message (/d/<token>/).

No sign-in: the signed, expiring token is the key (messaging.links). The page never shows who
the document is about. A valid link is audited and then hands over the file the way staff
downloads do: a presigned URL that lives a few minutes (S3 / R2) or the decrypted file
streamed (local storage).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clinics.models import Clinic
from clinics.storage import stored_file_response
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
    return _private(
        stored_file_response(
            document.file.name,
            content_type=document.content_type,
            disposition=f'inline; filename="{_download_name(document, document.clinic)}"',
        )
    )
