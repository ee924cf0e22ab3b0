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
from collections.abc import Callable

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
    LinkTarget,
    document_link_record_open,
    document_link_subject,
    read_document_link,
)
from patients.models import Document, DocumentStatus
from patients.shared_files import SharedFile, shared_file_kind

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


def _document_file(document: Document) -> SharedFile:
    return SharedFile(
        patient=document.patient,
        subject=document_link_subject(document.pk),
        file_name=document.file.name
        if document.status == DocumentStatus.READY and document.file
        else "",
        content_type=document.content_type,
        download_name=_download_name(document, document.clinic),
        withdrawn=bool(document.revoked_at or document.superseded_at),
        staff_path=clinic_reverse("document-open", document.clinic.slug, document.pk),
        record_open=lambda: document_link_record_open(document=document),
    )


def _session_key(subject: str) -> str:
    # A document's key is its id ("document-link:12"); another app's file its subject
    # ("document-link:bill:12"), so the two never meet.
    return f"document-link:{subject.removeprefix('document:')}"


def _verified(request: HttpRequest, subject: str) -> bool:
    until = request.session.get(_session_key(subject))
    return isinstance(until, int | float) and until > time.time()


def _file(shared: SharedFile) -> HttpResponse:
    shared.record_open()
    return _private(
        stored_file_response(
            shared.file_name,
            content_type=shared.content_type,
            disposition=f'inline; filename="{shared.download_name}"',
        )
    )


def _code_step(request: HttpRequest, shared: SharedFile, clinic_name: str) -> HttpResponse:
    """Send a code (action "send") or check the one typed (action "check"); then the page."""
    action = request.POST.get("action")
    subject = shared.subject
    state = {"sent": False, "error": "", "clinic_name": clinic_name}
    try:
        if action == "send":
            verification_code_send(patient=shared.patient, subject=subject)
            state["sent"] = True
        elif action == "check":
            state["sent"] = True
            verification_code_check(
                patient=shared.patient, subject=subject, code=request.POST.get("code", "")
            )
            request.session.cycle_key()
            request.session[_session_key(subject)] = time.time() + SESSION_MINUTES * 60
            return _private(HttpResponseRedirect(request.path))
    except DomainError as error:
        state["error"] = error.message
        if getattr(error, "code", "") == "locked":
            state["sent"] = False
    status = 400 if state["error"] else 200
    return _private(render(request, "messaging/link_verify.html", state, status=status))


def _load(target: LinkTarget) -> tuple[int, Callable[[], SharedFile | None]] | None:
    """The clinic that owns the link's file, and how to load it inside that clinic's scope."""
    if not target.kind:
        clinic_id = clinic_id_of(Document, target.document_id)

        def load() -> SharedFile | None:
            document = (
                Document.objects.select_related("clinic", "patient")
                .filter(pk=target.document_id)
                .first()
            )
            return _document_file(document) if document is not None else None

    else:
        kind = shared_file_kind(target.kind)
        if kind is None:
            return None
        clinic_id = kind.clinic_of(target.document_id)

        def load() -> SharedFile | None:
            return kind.load(target.document_id)

    return (clinic_id, load) if clinic_id is not None else None


@never_cache
@require_http_methods(["GET", "POST"])
def document_share(request: HttpRequest, token: str) -> HttpResponse:
    """The patient's document (or a file another app issued to them, such as a bill), once they
    prove with a WhatsApp code that the link is theirs."""
    try:
        target = read_document_link(token)
    except LinkExpired:
        return _problem(request, EXPIRED, 410)
    except LinkInvalid:
        return _problem(request, INVALID, 404)
    # Tenancy plumbing: the signed token is the only key; it names the file, whose row names
    # the clinic whose scope the rest runs in.
    found = _load(target)
    if found is None:
        return _problem(request, INVALID, 404)
    clinic_id, load = found
    with clinic_scope(clinic_id):
        shared = load()
        if shared is None or not shared.file_name:
            return _problem(request, INVALID, 404)
        if shared.withdrawn:
            return _problem(request, WITHDRAWN, 410)
        if request.user.is_authenticated:
            # Staff never open a file through a patient's link: their own page decides.
            return _private(HttpResponseRedirect(shared.staff_path))
        if request.method == "GET" and _verified(request, shared.subject):
            return _file(shared)
        clinic_name = Clinic.objects.get(pk=clinic_id).name
        with translation.override(shared.patient.preferred_language or "en"):
            return _code_step(request, shared, clinic_name)
