"""Public: a patient opens the secure document link from their WhatsApp message (/d/<token>/).

No sign-in, but the link alone is not enough (messaging.links): the page sends a one-time
code to the patient's registered WhatsApp number and hands over the file only to the browser
that typed it back, for a few minutes. Signed-in staff are sent to the staff document page
instead, where their role decides. The page never shows who the document is about. The file
goes out the way staff downloads do: a presigned URL that lives a few minutes (S3 / R2) or the
decrypted file streamed (local storage).
"""

from __future__ import annotations

import time

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from clinics.errors import DomainError
from clinics.models import Clinic
from clinics.storage import stored_file_response
from clinics.templatetags.vaidya import clinic_reverse
from clinics.tenancy import clinic_id_of, clinic_scope
from compliance.verification import verification_code_check, verification_code_send
from messaging.links import (
    SESSION_MINUTES,
    LinkExpired,
    LinkInvalid,
    document_link_record_open,
    document_link_subject,
    read_document_link,
)
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


def _session_key(document_id: int) -> str:
    return f"document-link:{document_id}"


def _verified(request: HttpRequest, document_id: int) -> bool:
    until = request.session.get(_session_key(document_id))
    return isinstance(until, int | float) and until > time.time()


def _file(document: Document) -> HttpResponse:
    document_link_record_open(document=document)
    return _private(
        stored_file_response(
            document.file.name,
            content_type=document.content_type,
            disposition=f'inline; filename="{_download_name(document, document.clinic)}"',
        )
    )


def _code_step(request: HttpRequest, document: Document) -> HttpResponse:
    """Send a code (action "send") or check the one typed (action "check"); then the page."""
    action = request.POST.get("action")
    subject = document_link_subject(document.pk)
    state = {"sent": False, "error": "", "clinic_name": document.clinic.name}
    try:
        if action == "send":
            verification_code_send(patient=document.patient, subject=subject)
            state["sent"] = True
        elif action == "check":
            state["sent"] = True
            verification_code_check(
                patient=document.patient, subject=subject, code=request.POST.get("code", "")
            )
            request.session.cycle_key()
            request.session[_session_key(document.pk)] = time.time() + SESSION_MINUTES * 60
            return _private(HttpResponseRedirect(request.path))
    except DomainError as error:
        state["error"] = error.message
        if getattr(error, "code", "") == "locked":
            state["sent"] = False
    status = 400 if state["error"] else 200
    return _private(render(request, "messaging/link_verify.html", state, status=status))


@never_cache
@require_http_methods(["GET", "POST"])
def document_share(request: HttpRequest, token: str) -> HttpResponse:
    """The patient's document, once they prove with a WhatsApp code that the link is theirs."""
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
        document = Document.objects.select_related("clinic", "patient").get(pk=target.document_id)
        if document.status != DocumentStatus.READY or not document.file:
            return _problem(request, INVALID, 404)
        if document.revoked_at or document.superseded_at:
            return _problem(request, WITHDRAWN, 410)
        if request.user.is_authenticated:
            # Staff never open a document through a patient's link: their own page decides.
            url = clinic_reverse("document-open", document.clinic.slug, document.pk)
            return _private(HttpResponseRedirect(url))
        if request.method == "GET" and _verified(request, document.pk):
            return _file(document)
        with translation.override(document.patient.preferred_language or "en"):
            return _code_step(request, document)
