"""The retention purge: erase what a clinic no longer keeps, in short batches.

Two steps per clinic, both read from the personal-data registry only:

1. Every kind with an `age_field` (message texts, WhatsApp media, raw deliveries, one-time
   codes, expired invitations, ...): rows older than the clinic's period for the kind's class
   are erased with `erase_rows` (deleted, or anonymised for an ANONYMISE kind; rows already
   anonymised are not counted again), in batches by primary key, each batch its own short
   transaction (`WHERE id IN (batch)`), so no lock is held for long. Rows of a patient or a
   conversation under a legal hold are skipped.
2. The clinical record counts from the patient's last visit (a minor's is kept until they are
   21 if that is later). A patient whose record has run out is told first, where a channel
   exists (`erasure_notice_senders`, which messaging fills), and their whole record is erased
   on the first run 48 hours after the notice, unless they came back or a hold came first.
3. The audit trail (class "audit_log", at least a year): its oldest events are cut from the
   start of the clinic's hash chain by `clinics.audit_prune.audit_prune`, which moves the chain's
   sealed anchor forward batch by batch, so `verify_audit_chain` still verifies the rest. A
   legal hold on a patient keeps the first event about them and everything after it (the chain
   can only be cut at one point); a hold on a conversation does not reach the audit trail,
   whose events name patients, not conversations.

Running it again changes nothing more; a run that stopped half-way is finished by the next.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max, ProtectedError, Q, RestrictedError
from django.utils import timezone

from clinics.audit import Actions, audit_record
from clinics.audit_prune import AuditPruneRefused, audit_prune
from clinics.errors import DomainError
from clinics.registry import Registry
from compliance.models import ErasureNotice, PurgeRun
from compliance.personal_data import (
    AUDIT_LOG,
    CLINICAL,
    NOBODY,
    PersonalData,
    erase_rows,
    kind_model,
    personal_data,
)
from compliance.retention import active_holds, retention_periods
from patients.models import Patient

logger = logging.getLogger("vaidya.retention")

BATCH_SIZE = 2000
MIN_BATCH = 100
BATCH_SECONDS = 0.3  # a batch's transaction should take about this long, never seconds
NOTICE_HOURS = 48
MINOR_UNTIL_AGE = 21
AUDIT_KIND = "clinics.audit_event"  # its registry entry (erasure RETAIN): the purge cuts the chain


@dataclass(frozen=True)
class ErasureNoticeSender:
    """How a patient is told, 48 hours ahead, that their whole record will be erased.

    Checklist: `send(patient=)` queues the notice inside the caller's transaction and returns the
    channel's name ("whatsapp"); it raises `DomainError` when it cannot reach the patient (then
    the next sender is tried, and with none left the record goes without a notice). Registered
    from the owning app's `ready()` (messaging registers WhatsApp).
    """

    name: str
    order: int
    send: Callable[..., str]


erasure_notice_senders: Registry[ErasureNoticeSender] = Registry("erasure notice senders")


def purgeable_kinds() -> list[PersonalData]:
    """Kinds the first step visits: about someone, with a date their period counts from."""
    return [k for k in personal_data.entries() if k.subject != NOBODY and k.age_field]


def expired_rows(
    kind: PersonalData,
    *,
    days: int,
    now: Any,
    held_patients: set[int],
    held_conversations: set[int],
) -> Any:
    """The rows of `kind` (in the current clinic) whose period has run out and that still hold
    personal data, leaving out what a legal hold covers."""
    rows = kind_model(kind).objects.filter(**{f"{kind.age_field}__lt": now - timedelta(days=days)})
    holds_data = kind.extra.get("holds_data")
    if holds_data is not None:
        rows = rows.filter(holds_data)
    if held_patients:
        if kind.patient_path:
            rows = rows.exclude(**{f"{kind.patient_path}__in": held_patients})
        elif kind.rows is not None:
            held_ids: set[Any] = set()
            for patient_id in held_patients:
                held_ids.update(kind.rows(patient_id).values_list("pk", flat=True))
            rows = rows.exclude(pk__in=held_ids)
    if held_conversations and kind.conversation_path:
        rows = rows.exclude(**{f"{kind.conversation_path}__in": held_conversations})
    return rows


def erase_in_batches(kind: PersonalData, rows: Any, *, batch_size: int = BATCH_SIZE) -> int:
    """Erase `rows` a batch at a time by primary key, one short transaction per batch.

    The batch shrinks when a transaction took longer than BATCH_SECONDS (a busy database) and
    grows back, up to four times `batch_size`, when it is quick, so no lock is held for long
    whatever the load."""
    model = kind_model(kind)
    done = 0
    last: Any = None
    size = batch_size
    while True:
        page = rows.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        ids = list(page.values_list("pk", flat=True)[:size])
        if not ids:
            return done
        started = time.monotonic()
        try:
            with transaction.atomic():
                done += erase_rows(kind, model.objects.filter(pk__in=ids))
        except (ProtectedError, RestrictedError):
            done += _erase_one_by_one(kind, model, ids)
        took = time.monotonic() - started
        if took > BATCH_SECONDS:
            size = max(MIN_BATCH, size // 2)
        elif took < BATCH_SECONDS / 3:
            size = min(batch_size * 4, size * 2)
        last = ids[-1]


def _erase_one_by_one(kind: PersonalData, model: Any, ids: list[Any]) -> int:
    """A batch that another row still points at: each row on its own, leaving (and logging)
    the ones still referenced, so one kept reference never stops the clinic's whole purge."""
    done = 0
    for pk in ids:
        try:
            with transaction.atomic():
                done += erase_rows(kind, model.objects.filter(pk=pk))
        except (ProtectedError, RestrictedError):
            logger.warning("Retention purge: %s row %s is still referenced; kept.", kind.name, pk)
    return done


# --- the clinical record: last visit, minors, notices -----------------------------------------
def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def expired_patients(*, days: int, now: Any, held: set[int]) -> list[int]:
    """Patients (in the current clinic) whose clinical record has run out: `days` since their
    last visit (or their registration, with no visit), and 21 years old if they were a minor."""
    cutoff = now - timedelta(days=days)
    today = timezone.localdate(now)
    candidates = (
        Patient.objects.filter(created_at__lt=cutoff)
        .annotate(last_visit=Max("visits__created_at"))
        .filter(Q(last_visit__isnull=True) | Q(last_visit__lt=cutoff))
        .exclude(pk__in=held)
        .values_list("pk", "date_of_birth")
    )
    return [
        pk
        for pk, born in candidates
        if born is None or _years_after(born, MINOR_UNTIL_AGE) <= today
    ]


def _notify(patient_id: int, now: Any) -> str:
    """Record the 48-hour notice and send it through the first sender that can."""
    patient = Patient.objects.get(pk=patient_id)
    channel = ""
    for sender in erasure_notice_senders.entries():
        try:
            with transaction.atomic():
                channel = sender.send(patient=patient) or sender.name
            break
        except DomainError:
            continue
    ErasureNotice.objects.create(
        clinic_id=patient.clinic_id,
        patient_id=patient_id,
        noticed_at=now,
        erase_after=now + timedelta(hours=NOTICE_HOURS),
        channel=channel,
    )
    audit_record(
        clinic=patient.clinic_id,
        actor=None,
        action=Actions.ERASURE_NOTICE_GIVEN,
        patient_id=patient_id,
        data={"channel": channel or "none", "hours": NOTICE_HOURS},
    )
    return channel


def records_step(
    *, clinic_id: int, days: int, now: Any, held: set[int], dry_run: bool
) -> dict[str, int]:
    """Notice, then erase, the patients whose clinical record has run out."""
    from compliance.erasure.expired import patient_record_erase_expired  # noqa: PLC0415
    from compliance.erasure.plan import kept_until  # noqa: PLC0415

    expired = set(expired_patients(days=days, now=now, held=held))
    # A record whose clinical period ran out may still be kept by another rule (a recent bill
    # under tax law, evidence of a data-rights request): it is neither noticed nor erased yet.
    today = timezone.localdate(now)
    kept = {
        pk
        for pk, patient in Patient.objects.in_bulk(sorted(expired)).items()
        if kept_until(patient, today=today) is not None
    }
    expired -= kept
    counts = {"noticed": 0, "erased": 0, "blocked": 0, "kept": len(kept), "due": len(expired)}
    notices = dict(ErasureNotice.objects.values_list("patient_id", "erase_after"))
    if dry_run:
        counts["erased"] = sum(1 for p in expired if p in notices and notices[p] <= now)
        counts["noticed"] = sum(1 for p in expired if p not in notices)
        return counts
    # A patient who came back, or whose record a hold now keeps, is told again next time.
    stale = [p for p in notices if p not in expired]
    if stale:
        ErasureNotice.objects.filter(patient_id__in=stale).delete()
    for patient_id in sorted(expired):
        if patient_id not in notices:
            with transaction.atomic():
                _notify(patient_id, now)
            counts["noticed"] += 1
        elif notices[patient_id] <= now:
            try:
                patient_record_erase_expired(patient_id=patient_id, reason="retention")
                counts["erased"] += 1
            except DomainError:
                counts["blocked"] += 1
    return counts


# --- one clinic's run --------------------------------------------------------------------------
def purge_clinic(
    *, clinic_id: int, now: Any = None, dry_run: bool = False, batch_size: int = BATCH_SIZE
) -> dict[str, Any]:
    """Purge one clinic (inside its scope, outside any transaction: each batch commits on its
    own). With `dry_run`, only count. Returns {"kinds": {name: n}, "classes": {class: n},
    "records": {...}}."""
    now = now or timezone.now()
    periods = retention_periods(clinic_id=clinic_id)
    held_patients, held_conversations = active_holds(clinic_id=clinic_id)
    kinds: dict[str, int] = {}
    classes: dict[str, int] = {}
    for kind in purgeable_kinds():
        rows = expired_rows(
            kind,
            days=periods[kind.retention],
            now=now,
            held_patients=held_patients,
            held_conversations=held_conversations,
        )
        n = rows.count() if dry_run else erase_in_batches(kind, rows, batch_size=batch_size)
        kinds[kind.name] = n
        classes[kind.retention] = classes.get(kind.retention, 0) + n
    records = records_step(
        clinic_id=clinic_id, days=periods[CLINICAL], now=now, held=held_patients, dry_run=dry_run
    )
    classes[CLINICAL] = classes.get(CLINICAL, 0) + records["erased"]
    problems: list[str] = []
    try:
        audit = audit_prune(
            clinic_id=clinic_id,
            before=now - timedelta(days=periods[AUDIT_LOG]),
            held_patients=held_patients,
            batch_size=batch_size,
            dry_run=dry_run,
        )
    except AuditPruneRefused as refused:  # the rest of the purge stands; the run says why
        audit = 0
        problems.append(f"audit trail not pruned: {refused}")
    kinds[AUDIT_KIND] = audit
    classes[AUDIT_LOG] = classes.get(AUDIT_LOG, 0) + audit
    return {"kinds": kinds, "classes": classes, "records": records, "problems": problems}


def purge_run(*, run: PurgeRun, now: Any = None, batch_size: int = BATCH_SIZE) -> PurgeRun:
    """Carry out a logged purge run of its clinic; a finished run is not run again."""
    if run.finished_at is not None:
        return run
    counts = purge_clinic(clinic_id=run.clinic_id, now=now, batch_size=batch_size)
    with transaction.atomic():
        run.counts = counts
        run.finished_at = timezone.now()
        run.problem = "; ".join(counts["problems"])[:300]
        run.save(update_fields=["counts", "finished_at", "problem"])
        audit_record(
            clinic=run.clinic_id,
            actor=None,
            action=Actions.RETENTION_PURGED,
            target=run,
            data={"classes": counts["classes"], "records": counts["records"]},
        )
    return run
