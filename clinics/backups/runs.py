"""Making a backup end to end, its record, retention, and the status owners see.

`backup_create` snapshots the database, writes the archive under a temporary name, reads it
back through (every part, every checksum), publishes it, records the run and applies retention.
A failure records the run as failed, removes the temporary file and raises `BackupFailed`: no
file that looks complete is left behind.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from clinics.backups import database, keys
from clinics.backups.contents import read_archive, write_archive
from clinics.backups.destinations import archive_name, archive_time, destination, disk_error
from clinics.backups.errors import BackupError, BackupFailed
from clinics.backups.models import BackupRun, BackupStatus

logger = logging.getLogger("vaidya.backups")

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    logger.info("backup: %s", message)


@dataclass
class BackupResult:
    location: str
    size: int
    manifest: dict
    deleted: list[str]


INTERRUPTED = "Interrupted: it was still running when its worker stopped."
IN_ARCHIVE = (
    "Still running when the backup restored here was taken; the restored installation does not "
    "know how it ended."
)


# pg_advisory_xact_lock's key for "starting a backup" (any constant unique to this use).
BACKUP_LOCK_ID = 0x5661_6964_0001


class BackupRunning(BackupError):
    """Another backup of this installation is under way (the schedule does not start a second)."""


def backup_create(
    *,
    where: str = "",
    trigger: str = "command",
    progress: Progress = _quiet,
    unless_running: bool = False,
):
    """Back up the whole installation to `where` (else BACKUP_DESTINATION).

    Records a `BackupRun`; raises `BackupFailed` with a message for the operator. With
    `unless_running` (the schedule) raises `BackupRunning` instead of starting while another
    backup started less than BACKUP_TIMEOUT_SECONDS ago is still running.
    """
    run = _run_start(trigger=trigger, unless_running=unless_running)
    try:
        result = _make(where, progress, run)
    except BackupError as exc:
        _finish(run, status=BackupStatus.FAILED, problem=str(exc)[:500])
        logger.error("Backup failed: %s", exc)
        raise
    except Exception as exc:
        _finish(run, status=BackupStatus.FAILED, problem=f"Unexpected error: {type(exc).__name__}")
        raise
    _finish(run, status=BackupStatus.SUCCEEDED, archive=result.location, size=result.size)
    logger.info("Backup written: %s (%d bytes)", result.location, result.size)
    return result


def runs_settle_interrupted(*, now: datetime | None = None) -> int:
    """Record as failed the runs still "running" past BACKUP_TIMEOUT_SECONDS: their worker was
    killed or the machine stopped, so they will never finish. Returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.BACKUP_TIMEOUT_SECONDS)
    return BackupRun.objects.filter(status=BackupStatus.RUNNING, started_at__lt=cutoff).update(
        status=BackupStatus.FAILED, finished_at=now, problem=INTERRUPTED
    )


def running_backup(*, now: datetime | None = None) -> BackupRun | None:
    """A backup started less than BACKUP_TIMEOUT_SECONDS ago and still running, if any."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.BACKUP_TIMEOUT_SECONDS)
    return (
        BackupRun.objects.filter(status=BackupStatus.RUNNING, started_at__gte=cutoff)
        .order_by("-started_at")
        .first()
    )


def _run_start(*, trigger: str, unless_running: bool) -> BackupRun:
    """Record the run's start. With `unless_running`, the check and the new row are one
    serialised step: SQLite's write transactions are IMMEDIATE, and on PostgreSQL an advisory
    lock held to the end of the transaction keeps two workers from both starting (the ORM broker
    hands a long task out again after Q_RETRY seconds)."""
    with transaction.atomic():
        runs_settle_interrupted()
        if unless_running:
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [BACKUP_LOCK_ID])
            running = running_backup()
            if running is not None:
                raise BackupRunning(
                    "A backup started at "
                    f"{timezone.localtime(running.started_at):%Y-%m-%d %H:%M} is still running; "
                    "this one was not started."
                )
        return BackupRun.objects.create(trigger=trigger)


def runs_settle_after_restore(*, manifest: dict, location: str, size: int) -> None:
    """After a restore, the runs the archive recorded as running are settled: the latest one
    that started before the archive was made is the run that made it (the archive just restored
    is its result); any other was cut off."""
    made_at = datetime.fromisoformat(manifest["created_at"])
    running = BackupRun.objects.filter(status=BackupStatus.RUNNING).order_by("-started_at")
    maker = running.filter(started_at__lte=made_at).first()
    if maker is not None:
        running.filter(pk=maker.pk).update(
            status=BackupStatus.SUCCEEDED, finished_at=made_at, archive=location[:200], size=size
        )
    running.update(status=BackupStatus.FAILED, finished_at=timezone.now(), problem=IN_ARCHIVE)


def _finish(run: BackupRun, **fields) -> None:
    for name, value in fields.items():
        setattr(run, name, value)
    run.finished_at = timezone.now()
    run.save()


def _make(where: str, progress: Progress, run: BackupRun) -> BackupResult:
    target = destination(where)
    run.destination = str(target)[:500]
    run.save(update_fields=["destination"])
    try:
        keys.current_backup_key()
    except ImproperlyConfigured as exc:
        raise BackupFailed(str(exc)) from exc
    target.check()
    name = archive_name(timezone.now())
    try:
        work_ctx = tempfile.TemporaryDirectory(dir=settings.DATA_DIR, prefix=".backup-work-")
    except OSError as exc:
        raise disk_error(exc, "the data folder") from exc
    with work_ctx as work:
        progress("Copying the database (a consistent snapshot)...")
        try:
            snapshot = database.snapshot(Path(work))
        except OSError as exc:
            raise disk_error(exc, "the data folder") from exc
        with target.partial(name) as partial:
            progress(f"Writing the encrypted archive to {target}...")
            try:
                with partial.open("wb") as sink:
                    manifest = write_archive(sink, snapshot, progress)
                    sink.flush()
                    os.fsync(sink.fileno())
            except OSError as exc:
                raise disk_error(exc, f"the backup destination {target}") from exc
            progress("Reading the archive back to check it...")
            read_archive(partial)
            size = partial.stat().st_size
            location = target.publish(partial, name)
    progress(f"Backup written: {location} ({size / 1e6:.1f} MB)")
    deleted = retention_apply(target)
    return BackupResult(location=location, size=size, manifest=manifest, deleted=deleted)


def archives_to_keep(
    times: list[datetime], *, daily: int = 7, weekly: int = 4, monthly: int = 12
) -> set[datetime]:
    """Grandfather-father-son: the newest archive of each of the last `daily` days that have
    one, of the last `weekly` ISO weeks and of the last `monthly` months."""
    keep: set[datetime] = set()
    for count, period in (
        (daily, lambda t: t.date()),
        (weekly, lambda t: t.isocalendar()[:2]),
        (monthly, lambda t: (t.year, t.month)),
    ):
        newest: dict = {}
        for at in sorted(times, reverse=True):
            newest.setdefault(period(at), at)
        keep.update(sorted(newest.values(), reverse=True)[:count])
    return keep


def retention_apply(target) -> list[str]:
    """Delete the archives retention no longer keeps (BACKUP_KEEP_DAILY/WEEKLY/MONTHLY)."""
    names = {archive_time(n): n for n in target.names()}
    names.pop(None, None)
    keep = archives_to_keep(
        list(names),
        daily=settings.BACKUP_KEEP_DAILY,
        weekly=settings.BACKUP_KEEP_WEEKLY,
        monthly=settings.BACKUP_KEEP_MONTHLY,
    )
    deleted = []
    for at, name in sorted(names.items()):
        if at not in keep:
            target.delete(name)
            deleted.append(name)
    return deleted


@dataclass
class BackupHealth:
    last_good: BackupRun | None
    last_run: BackupRun | None
    stale: bool
    alert_after_hours: int
    running: bool = False


def backup_health(*, now: datetime | None = None) -> BackupHealth:
    """The last good backup and whether it is older than BACKUP_ALERT_AFTER_HOURS, and whether
    the latest run is still under way (two queries). A run left "running" past
    BACKUP_TIMEOUT_SECONDS is not under way: its worker stopped."""
    now = now or timezone.now()
    last_good = (
        BackupRun.objects.filter(status=BackupStatus.SUCCEEDED).order_by("-started_at").first()
    )
    hours = settings.BACKUP_ALERT_AFTER_HOURS
    stale = last_good is None or last_good.started_at < now - timedelta(hours=hours)
    last_run = BackupRun.objects.order_by("-started_at").first()
    running = (
        last_run is not None
        and last_run.status == BackupStatus.RUNNING
        and last_run.started_at >= now - timedelta(seconds=settings.BACKUP_TIMEOUT_SECONDS)
    )
    return BackupHealth(
        last_good=last_good,
        last_run=last_run,
        stale=stale,
        alert_after_hours=hours,
        running=running,
    )
