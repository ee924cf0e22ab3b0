"""Documents: preparing PDFs in the background, storing them frozen, uploads and downloads.

Generated documents (prescription, visit summary, certificate, consent form) are created as
rows in the "preparing" state inside the transaction of the action that calls for them (signing
a visit, issuing a certificate), and rendered by a django-q2 task enqueued after that commit
(`patients.tasks.render_document`). Rendering is idempotent: a worker claims the document before
rendering it (a conditional UPDATE of `claimed_at`), so a document is rendered by one worker
once, however often its task runs; a ready one is never rendered again. A document whose task
was lost (its worker killed) is enqueued again by the lost-task sweep (`DOCUMENTS_WAITING`, in
`clinics.registry.waiting_work`) or by Retry, once it waited longer than a render can take.

Stored files are never overwritten: every file gets a fresh random key
`clinics/<clinic id>/<kind>/<uuid>.<ext>`, and a correction is a new document that supersedes the
old one.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from clinics.audit import Actions, audit_record
from clinics.errors import DomainError, NotAllowed, ValidationFailed
from clinics.guards import limit_refusal
from clinics.languages import in_english
from clinics.models import Membership, User
from clinics.pdf import PDF_CONTENT_TYPE, render_pdf
from clinics.queue import enqueue
from clinics.recovery import waiting_row_requeue, waiting_since_cutoff
from clinics.registry import WaitingWork
from clinics.roles import Perm
from clinics.storage import object_key, storage
from patients import events
from patients.events import care_event
from patients.models import (
    UPLOAD_KINDS,
    Document,
    DocumentKind,
    DocumentStatus,
    Patient,
    Prescription,
    Visit,
)
from patients.models.documents import new_verify_token
from patients.rendering import document_context, renderer_for
from patients.uploads import UploadRefused, check_upload

logger = logging.getLogger(__name__)

RENDER_TASK = "patients.tasks.render_document"
WAITING_KIND = "patients.documents"
VISIT_DOCUMENT_KINDS = (DocumentKind.PRESCRIPTION, DocumentKind.VISIT_SUMMARY)
FAILED_MESSAGE = "The document could not be prepared. Try again; if it fails again, tell support."


def document_key(*, clinic_id: int, kind: str, extension: str) -> str:
    """A storage key with no personal data in it, never used twice."""
    return object_key(clinic_id=clinic_id, kind=kind, extension=extension)


def enqueue_render(document_id: int) -> None:
    """Render the document in a worker once the current transaction commits."""

    def _enqueue() -> None:
        enqueue(RENDER_TASK, document_id)

    transaction.on_commit(_enqueue)


def _title(kind: str, visit: Visit | None) -> str:
    label = DocumentKind(kind).label
    if visit is not None and visit.version > 1:
        return f"{label} (version {visit.version})"
    return label


def document_prepare(
    *,
    kind: str,
    patient_id: int,
    clinic_id: int,
    actor: User | None,
    visit: Visit | None = None,
    title: str = "",
    supersedes: Document | None = None,
) -> Document:
    """Create a generated document in the "preparing" state and render it after commit.

    For the caller's transaction: it writes no audit event of its own (the action that asks for
    the document does). A document it supersedes is marked superseded now.
    """
    now = timezone.now()
    document = Document.objects.create(
        clinic_id=clinic_id,
        patient_id=patient_id,
        visit=visit,
        kind=kind,
        title=title or _title(kind, visit),
        verify_token=new_verify_token(),
        supersedes=supersedes,
        created_by=actor if actor is not None and actor.is_authenticated else None,
        created_at=now,
        queued_at=now,
    )
    if supersedes is not None:
        Document.objects.filter(pk=supersedes.pk, superseded_at__isnull=True).update(
            superseded_at=now
        )
    enqueue_render(document.pk)
    return document


def documents_waiting(cutoff: datetime) -> Q:
    """Documents still preparing whose render was enqueued, and claimed if it was, before
    `cutoff`: their task was lost."""
    enqueued = Q(queued_at__lt=cutoff) | Q(queued_at__isnull=True, created_at__lt=cutoff)
    unclaimed = Q(claimed_at__isnull=True) | Q(claimed_at__lt=cutoff)
    return Q(status=DocumentStatus.PREPARING) & enqueued & unclaimed


DOCUMENTS_WAITING = WaitingWork(
    name=WAITING_KIND, order=10, model=Document, task=RENDER_TASK, stale=documents_waiting
)


def _prepare_again(document: Document) -> None:
    """Put a failed document back to "preparing" and enqueue its render after commit."""
    document.status = DocumentStatus.PREPARING
    document.problem = ""
    document.queued_at = timezone.now()
    document.claimed_at = None
    document.save(update_fields=["status", "problem", "queued_at", "claimed_at"])
    enqueue_render(document.pk)


def visit_documents_prepare(*, visit: Visit, actor: User) -> list[Document]:
    """The signed visit's summary, and its prescription if it has one, to be rendered.

    Called by `visit_sign` inside its transaction. A correction's documents supersede those of
    the version it corrects.
    """
    kinds = [DocumentKind.VISIT_SUMMARY]
    if Prescription.objects.filter(visit=visit, items__isnull=False).exists():
        kinds.insert(0, DocumentKind.PRESCRIPTION)
    earlier: dict[str, Document] = {}
    if visit.amends_id:
        earlier = {
            d.kind: d
            for d in Document.objects.filter(
                visit_id=visit.amends_id, kind__in=VISIT_DOCUMENT_KINDS, superseded_at__isnull=True
            )
        }
    documents = []
    for kind in kinds:
        existing = Document.objects.filter(visit=visit, kind=kind).first()
        if existing is not None:
            documents.append(existing)
            continue
        documents.append(
            document_prepare(
                kind=kind,
                patient_id=visit.patient_id,
                clinic_id=visit.clinic_id,
                visit=visit,
                actor=actor,
                supersedes=earlier.get(kind),
            )
        )
    return documents


@transaction.atomic
def visit_document_request(
    *, visit: Visit, kind: str, actor: User, actor_membership: Membership
) -> Document:
    """Ask for a signed visit's prescription or summary PDF (made now if it does not exist yet,
    prepared again if it failed or its render task was lost). Returns the document, ready or
    preparing."""
    perm = Perm.PRESCRIPTIONS_VIEW if kind == DocumentKind.PRESCRIPTION else Perm.CLINICAL_VIEW
    if kind not in VISIT_DOCUMENT_KINDS:
        raise DomainError("Only a prescription or a visit summary can be made from a visit.")
    if not actor_membership.has_perm(perm):
        raise NotAllowed("Your role cannot open this document.")
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    if not visit.is_signed:
        raise DomainError(
            "The visit is not signed yet: sign it first. Until then, print the draft from the "
            "print view.",
            code="visit_not_signed",
        )
    if kind == DocumentKind.PRESCRIPTION and not Prescription.objects.filter(visit=visit).exists():
        raise DomainError("This visit has no prescription.", code="no_prescription")
    document = Document.objects.filter(visit=visit, kind=kind).first()
    if document is None:
        earlier = None
        if visit.amends_id:
            earlier = Document.objects.filter(
                visit_id=visit.amends_id, kind=kind, superseded_at__isnull=True
            ).first()
        document = document_prepare(
            kind=kind,
            patient_id=visit.patient_id,
            clinic_id=visit.clinic_id,
            visit=visit,
            actor=actor,
            supersedes=earlier,
        )
    elif document.status == DocumentStatus.FAILED:
        _prepare_again(document)
    elif not (document.looks_stuck and waiting_row_requeue(kind=WAITING_KIND, row_id=document.pk)):
        return document  # ready, or preparing within a render's time
    audit_record(
        clinic=visit.clinic_id,
        actor=actor,
        action=Actions.DOCUMENT_REQUESTED,
        target=document,
        patient_id=visit.patient_id,
        data={"kind": kind, "visit_id": visit.pk},
    )
    return document


@transaction.atomic
def document_retry(*, document: Document, actor: User, actor_membership: Membership) -> Document:
    """Prepare again a document that failed (after the cause was fixed), or one still
    "preparing" long after a render can take (its task was lost with a worker).

    A document that is preparing within that time is left to its task: DomainError says so.
    """
    if not actor_membership.has_perm(document.view_perm):
        raise NotAllowed("Your role cannot open this document.")
    document = Document.objects.select_for_update().get(pk=document.pk)
    if document.status == DocumentStatus.FAILED:
        _prepare_again(document)
    elif document.status == DocumentStatus.PREPARING:
        if not waiting_row_requeue(kind=WAITING_KIND, row_id=document.pk):
            raise DomainError(
                "This document is still being prepared: it will appear here in a moment. "
                "If it is still preparing after a few minutes, try again then.",
                code="still_preparing",
            )
        document.refresh_from_db()
    else:
        return document
    audit_record(
        clinic=document.clinic_id,
        actor=actor,
        action=Actions.DOCUMENT_REQUESTED,
        target=document,
        patient_id=document.patient_id,
        data={"kind": document.kind, "retry": True},
    )
    return document


def _store(*, clinic_id: int, kind: str, data: bytes, extension: str) -> str:
    name = document_key(clinic_id=clinic_id, kind=kind, extension=extension)
    stored = storage().save(name, ContentFile(data))
    if stored != name:  # a fresh uuid never collides; if it did, the file would be renamed
        logger.warning("Storage renamed a new document key; keeping the stored name.")
    return stored


def _delete_quietly(name: str) -> None:
    try:
        storage().delete(name)
    except Exception:
        logger.exception("A stored file that is not needed could not be deleted.")


def document_render(*, document_id: int) -> Document:
    """Render a generated document to PDF, store it and mark it ready. Idempotent.

    Runs in a worker (`patients.tasks.render_document`), inside the clinic's scope. A rule that
    stops rendering (the doctor has no registration number) marks the document failed with
    the reason, for staff to fix and retry; an unexpected error does too, and is re-raised for
    the error tracker.
    """
    claimed_at = timezone.now()
    if not _claim(document_id, claimed_at):  # ready, failed, or another worker renders it
        return Document.objects.get(pk=document_id)
    document = Document.objects.select_related("visit").get(pk=document_id)
    try:
        # Documents are written in English (with the patient's language beside it where the
        # template says so), whichever language the request that signed them was in.
        with in_english():
            spec = renderer_for(document.kind)(document)
            pdf = render_pdf(spec.template, document_context(document, spec))
    except DomainError as exc:
        return _mark_failed(document, exc.message)
    except Exception:
        _mark_failed(document, FAILED_MESSAGE)
        raise
    name = _store(clinic_id=document.clinic_id, kind=document.kind, data=pdf, extension="pdf")
    try:
        with transaction.atomic():
            locked = Document.objects.select_for_update().get(pk=document.pk)
            if locked.status != DocumentStatus.PREPARING or locked.claimed_at != claimed_at:
                # Our claim outlived a task's bound and another worker took the document over.
                transaction.on_commit(lambda: _delete_quietly(name))
                return locked
            locked.file.name = name
            locked.content_type = PDF_CONTENT_TYPE
            locked.size = len(pdf)
            locked.sha256 = hashlib.sha256(pdf).hexdigest()
            locked.status = DocumentStatus.READY
            locked.problem = ""
            locked.ready_at = timezone.now()
            locked.save()
            audit_record(
                clinic=locked.clinic_id,
                actor=locked.created_by,
                action=Actions.DOCUMENT_GENERATED,
                target=locked,
                patient_id=locked.patient_id,
                data={"kind": locked.kind, "size": locked.size, "sha256": locked.sha256},
            )
            care_event(events.DOCUMENT_READY, document=locked)
    except BaseException:
        _delete_quietly(name)
        raise
    return locked


def _claim(document_id: int, now: datetime) -> bool:
    """Take a preparing document for this worker (one UPDATE); False when it is not preparing
    or another worker claimed it within a task's bound. Counts the attempt."""
    lost = waiting_since_cutoff(WAITING_KIND, now)
    return bool(
        Document.objects.filter(pk=document_id, status=DocumentStatus.PREPARING)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=lost))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )


def _mark_failed(document: Document, problem: str) -> Document:
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        if locked.status == DocumentStatus.READY:
            return locked
        locked.status = DocumentStatus.FAILED
        locked.problem = problem[:300]
        locked.save(update_fields=["status", "problem"])
        audit_record(
            clinic=locked.clinic_id,
            actor=None,
            action=Actions.DOCUMENT_FAILED,
            target=locked,
            patient_id=locked.patient_id,
            data={"kind": locked.kind},
        )
    return locked


def document_upload(
    *,
    patient: Patient,
    kind: str,
    title: str,
    data: bytes,
    original_name: str,
    actor: User,
    actor_membership: Membership,
    visit: Visit | None = None,
) -> Document:
    """Store a file staff upload (lab report, scan, photo, referral letter) for a patient.

    The file's type is decided by its content (patients/uploads.py); the name it had is kept
    for staff to see but never used in the storage key. Refused (on `file`) when it would pass
    the clinic's plan's storage limit. Nothing is stored if anything fails.
    """
    if not actor_membership.has_perm(Perm.CLINICAL_DRAFT):
        raise NotAllowed("Your role cannot add documents to a patient's record.")
    errors: dict[str, list[str]] = {}
    if kind not in UPLOAD_KINDS:
        errors["kind"] = ["Choose what kind of document this is."]
    title = " ".join((title or "").split())
    if len(title) > 200:
        errors["title"] = ["Keep the title to 200 characters."]
    if visit is not None and visit.patient_id != patient.pk:
        errors["visit"] = ["That visit belongs to another patient."]
    try:
        file_type = check_upload(data)
    except UploadRefused as exc:
        errors["file"] = [exc.message]
    if patient.archived_at is not None:
        errors["__all__"] = ["This patient's record is archived: restore it to add documents."]
    if not errors:
        # The clinic's plan limits what staff store; nothing is written when it refuses.
        # Generated documents (prescriptions, summaries, certificates, signed consent) are
        # never refused: a signed clinical record must always have its PDF.
        refusal = limit_refusal(patient.clinic_id, "storage_mb", adding=len(data))
        if refusal:
            errors["file"] = [refusal]
    if errors:
        raise ValidationFailed(errors)
    name = _store(clinic_id=patient.clinic_id, kind=kind, data=data, extension=file_type.extension)
    try:
        with transaction.atomic():
            document = Document.objects.create(
                clinic_id=patient.clinic_id,
                patient=patient,
                visit=visit,
                kind=kind,
                title=title or DocumentKind(kind).label,
                status=DocumentStatus.READY,
                file=name,
                content_type=file_type.content_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                original_name=(original_name or "")[-255:],
                created_by=actor,
                ready_at=timezone.now(),
            )
            audit_record(
                clinic=patient.clinic_id,
                actor=actor,
                action=Actions.DOCUMENT_UPLOADED,
                target=document,
                patient_id=patient.pk,
                data={"kind": kind, "size": document.size, "content_type": document.content_type},
            )
    except BaseException:
        _delete_quietly(name)
        raise
    return document


def document_record_download(*, document: Document, actor: User) -> None:
    """Audit that someone opened a document (before the file is handed over)."""
    audit_record(
        clinic=document.clinic_id,
        actor=actor,
        action=Actions.DOCUMENT_DOWNLOADED,
        target=document,
        patient_id=document.patient_id,
        data={"kind": document.kind},
    )
