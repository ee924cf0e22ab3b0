"""Exports of a person's data: requested by staff, built by a task, handed out by a signed link.

`export_request` (a patient's data: owner and doctors; a staff member's own data: themselves)
writes the row and enqueues `compliance.exports.tasks.build_export` after commit. The task
claims the row with one conditional UPDATE (`claimed_at`), builds the ZIP
(`compliance.exports.build`), stores it under a key with no personal data and marks it ready;
a second run of the same task finds it ready or claimed and does nothing. A lost task is
enqueued again by the lost-task sweep (`EXPORTS_WAITING`). `export_link` checks the role again,
writes an audit event and signs a link valid `EXPORT_LINK_SECONDS`; `export_for_link` opens it.
`exports_expire` (the daily schedule) removes ZIPs older than `EXPORT_KEEP_DAYS`.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from django.core import signing
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from clinics.actors import Actor, require
from clinics.audit import Actions, audit_record
from clinics.errors import DomainError, NotAllowed
from clinics.models import Clinic, Membership
from clinics.queue import enqueue
from clinics.recovery import waiting_since_cutoff
from clinics.registry import WaitingWork
from clinics.roles import Perm
from clinics.storage import object_key, storage
from compliance.exports.models import DataExport, ExportStatus, ExportSubject
from patients.models import Patient

logger = logging.getLogger(__name__)

BUILD_TASK = "compliance.exports.tasks.build_export"
WAITING_KIND = "compliance.exports"
EXPORT_KEEP_DAYS = 7
EXPORT_LINK_SECONDS = 15 * 60
_SALT = "vaidya.compliance.export-link"
FAILED_MESSAGE = "The export could not be prepared. Try again; if it fails again, tell support."


class ExportLinkInvalid(DomainError):
    code = "not_found"


class ExportLinkExpired(DomainError):
    code = "gone"


def _enqueue_build(export_id: int) -> None:
    transaction.on_commit(lambda: enqueue(BUILD_TASK, export_id))


@transaction.atomic
def export_request(
    *,
    clinic: Clinic,
    actor: Actor,
    actor_membership: Membership | None,
    patient: Patient | None = None,
    request_reference: str | None = None,
) -> DataExport:
    """Ask for a ZIP of a patient's data (or, without a patient, of the acting staff member's
    own data at this clinic). Built in the background; one audit event."""
    if patient is not None:
        require(actor, Perm.PATIENT_DATA_EXPORT, clinic_id=clinic.pk, membership=actor_membership)
        if patient.clinic_id != clinic.pk:
            raise NotAllowed("No such patient at this clinic.")
    elif actor_membership is None or actor_membership.clinic_id != clinic.pk:
        raise NotAllowed("Only a member of staff can download their own data.")
    now = timezone.now()
    export = DataExport.objects.create(
        clinic=clinic,
        subject=ExportSubject.PATIENT if patient is not None else ExportSubject.STAFF,
        patient=patient,
        user_id=None if patient is not None else actor_membership.user_id,
        requested_by=actor_membership,
        request_reference=(request_reference or None),
        created_at=now,
        queued_at=now,
    )
    audit_record(
        clinic=clinic,
        actor=actor,
        action=Actions.DATA_EXPORT_REQUESTED,
        target=export,
        patient_id=patient.pk if patient is not None else None,
        data={"subject": export.subject},
    )
    _enqueue_build(export.pk)
    return export


def exports_waiting(cutoff: datetime) -> Q:
    """Exports still preparing, enqueued (and claimed, if they were) before `cutoff`."""
    unclaimed = Q(claimed_at__isnull=True) | Q(claimed_at__lt=cutoff)
    return Q(status=ExportStatus.PREPARING, queued_at__lt=cutoff) & unclaimed


EXPORTS_WAITING = WaitingWork(
    name=WAITING_KIND, order=40, model=DataExport, task=BUILD_TASK, stale=exports_waiting
)


def _claim(export_id: int, now: datetime) -> bool:
    lost = waiting_since_cutoff(WAITING_KIND, now)
    return bool(
        DataExport.objects.filter(pk=export_id, status=ExportStatus.PREPARING)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=lost))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )


def export_build(*, export_id: int) -> DataExport:
    """Build the export's ZIP, store it and mark it ready. Idempotent: a ready, failed or
    freshly claimed export is left as it is. Runs in a worker inside the clinic's scope."""
    # Lazy: the builder loads WeasyPrint and every app's export callables.
    from compliance.exports.build import build_zip  # noqa: PLC0415

    claimed_at = timezone.now()
    if not _claim(export_id, claimed_at):
        return DataExport.objects.get(pk=export_id)
    export = DataExport.objects.select_related("clinic", "patient", "user").get(pk=export_id)
    try:
        data, counts = build_zip(export)
    except Exception:
        DataExport.objects.filter(pk=export_id, claimed_at=claimed_at).update(
            status=ExportStatus.FAILED, problem=FAILED_MESSAGE
        )
        raise
    name = storage().save(
        object_key(clinic_id=export.clinic_id, kind="exports", extension="zip"), ContentFile(data)
    )
    try:
        with transaction.atomic():
            locked = DataExport.objects.select_for_update().get(pk=export_id)
            if locked.status != ExportStatus.PREPARING or locked.claimed_at != claimed_at:
                transaction.on_commit(lambda: _delete_quietly(name))
                return locked
            now = timezone.now()
            locked.file.name = name
            locked.size = len(data)
            locked.sha256 = hashlib.sha256(data).hexdigest()
            locked.counts = counts
            locked.status = ExportStatus.READY
            locked.ready_at = now
            locked.expires_at = now + timedelta(days=EXPORT_KEEP_DAYS)
            locked.save()
            audit_record(
                clinic=locked.clinic_id,
                actor=None,
                action=Actions.DATA_EXPORT_READY,
                target=locked,
                patient_id=locked.patient_id,
                data={"size": locked.size, "sha256": locked.sha256},
            )
    except BaseException:
        _delete_quietly(name)
        raise
    return locked


def _delete_quietly(name: str) -> None:
    try:
        storage().delete(name)
    except Exception:
        logger.exception("A stored export that is not needed could not be deleted.")


def _may_download(export: DataExport, actor: Actor, membership: Membership | None) -> None:
    if export.subject == ExportSubject.PATIENT:
        require(actor, Perm.PATIENT_DATA_EXPORT, clinic_id=export.clinic_id, membership=membership)
    elif membership is None or membership.user_id != export.user_id:
        raise NotAllowed("Only the staff member whose data this is can download it.")


@transaction.atomic
def export_link(
    *, export: DataExport, actor: Actor, actor_membership: Membership | None
) -> tuple[str, datetime]:
    """A signed link to the ready export's ZIP, valid EXPORT_LINK_SECONDS, after the role check
    and an audit event. Returns (the link's token, valid until); the web page and the API put
    the token in their own download address."""
    _may_download(export, actor, actor_membership)
    if export.status != ExportStatus.READY:
        raise DomainError(
            "This export is not ready."
            if export.status == ExportStatus.PREPARING
            else "This export is no longer available; prepare a new one.",
            code="not_ready" if export.status == ExportStatus.PREPARING else "gone",
        )
    token = signing.dumps({"e": export.pk, "c": export.clinic_id}, salt=_SALT, compress=True)
    audit_record(
        clinic=export.clinic_id,
        actor=actor,
        action=Actions.DATA_EXPORT_LINK_ISSUED,
        target=export,
        patient_id=export.patient_id,
    )
    until = timezone.now() + timedelta(seconds=EXPORT_LINK_SECONDS)
    return token, until


def export_for_link(*, token: str, clinic_id: int) -> DataExport:
    """The export a signed link names, if it is still valid and this clinic's (inside its
    scope); writes the download to the audit trail. Raises ExportLinkExpired (410) for a link
    past its time or an export already removed, ExportLinkInvalid (404) otherwise."""
    try:
        payload = signing.loads(token, salt=_SALT, max_age=EXPORT_LINK_SECONDS)
    except signing.SignatureExpired as exc:
        raise ExportLinkExpired(
            "This download link has expired. Links work for 15 minutes: ask for a new one."
        ) from exc
    except signing.BadSignature as exc:
        raise ExportLinkInvalid("This download link is not valid.") from exc
    if not isinstance(payload, dict) or payload.get("c") != clinic_id:
        raise ExportLinkInvalid("This download link is not valid.")
    export = DataExport.objects.filter(pk=payload.get("e")).first()
    if export is None:
        raise ExportLinkInvalid("This download link is not valid.")
    if export.status != ExportStatus.READY or not export.file:
        raise ExportLinkExpired("This export was removed after 7 days; prepare a new one.")
    audit_record(
        clinic=clinic_id,
        actor=None,
        action=Actions.DATA_EXPORT_DOWNLOADED,
        target=export,
        patient_id=export.patient_id,
        label="holder of a signed download link",
    )
    return export


def exports_expire(clinic_id: int, *, now: datetime | None = None) -> int:
    """Remove this clinic's export ZIPs older than EXPORT_KEEP_DAYS (the rows stay, marked
    expired, without the file). Safe to run twice. Inside the clinic's scope."""
    now = now or timezone.now()
    due = list(
        DataExport.objects.filter(status=ExportStatus.READY, expires_at__lte=now).values_list(
            "pk", "file"
        )
    )
    for pk, name in due:
        with transaction.atomic():
            changed = DataExport.objects.filter(pk=pk, status=ExportStatus.READY).update(
                status=ExportStatus.EXPIRED, file=""
            )
            if changed:
                audit_record(
                    clinic=clinic_id,
                    actor=None,
                    action=Actions.DATA_EXPORT_REMOVED,
                    target=DataExport(pk=pk),
                )
                if name:
                    transaction.on_commit(lambda n=name: _delete_quietly(n))
    return len(due)
