"""Checking an archive, and restoring one into an empty installation.

Order matters: the whole archive is read and checked (every part's seal, every member's
checksum) into a private staging folder, then the manifest is checked against this installation
(a newer Vaidya's migrations, the data keys, the database vendor and file storage, an empty
database unless forced, the objects still in the bucket), and only then is anything changed.
Afterwards every clinic's audit chain is verified and the rows per table are compared with the
manifest's.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from clinics.audit import audit_verify
from clinics.backups import database, files, keys
from clinics.backups.contents import read_archive
from clinics.backups.destinations import Bucket, parse_s3
from clinics.backups.errors import RestoreRefused
from clinics.backups.runs import runs_settle_after_restore
from clinics.models import Clinic

Progress = Callable[[str], None]


@contextlib.contextmanager
def local_copy(archive: str) -> Iterator[Path]:
    """The archive as a local file: itself, or downloaded from `s3://bucket/key`."""
    if not archive.startswith("s3://"):
        path = Path(archive)
        if not path.is_file():
            raise RestoreRefused(f"There is no archive at {archive}.")
        yield path
        return
    bucket, key = parse_s3(archive)
    with tempfile.TemporaryDirectory(dir=settings.DATA_DIR, prefix=".restore-dl-") as tmp:
        target = Path(tmp) / "archive.vbak"
        Bucket(bucket, "").download(key.rstrip("/"), target)
        yield target


def archive_verify(*, archive: str) -> dict:
    """Check an archive through without restoring it; returns its manifest."""
    with local_copy(archive) as path:
        return read_archive(path)


def _check_keys(manifest: dict) -> None:
    have = keys.data_key_ids()
    needed = manifest.get("keys", {})
    missing = {
        kind: [k for k in needed.get(kind, []) if k not in have[kind]]
        for kind in ("encryption", "audit")
    }
    if any(missing.values()):
        raise RestoreRefused(
            "This installation lacks the keys the archive's data needs: "
            f"ENCRYPTION_KEYS ids {missing['encryption'] or 'ok'}, AUDIT_KEYS ids "
            f"{missing['audit'] or 'ok'}. Put the keys from where you keep them in "
            "ENCRYPTION_KEYS and AUDIT_KEYS (or data/encryption_key and data/audit_key)."
        )


def check_target(manifest: dict, *, force: bool) -> None:
    """Refuse, before anything changes, an archive this installation cannot take."""
    newer = database.unknown_migrations(manifest.get("migrations", []))
    if newer:
        raise RestoreRefused(
            f"The archive was made by a newer Vaidya ({manifest.get('vaidya_version', '?')}) "
            f"with {len(newer)} migration(s) this one does not have (first: {newer[0]}). "
            "Install that version (or newer) and restore again."
        )
    _check_keys(manifest)
    vendor = manifest["database"]["vendor"]
    from django.db import connection  # noqa: PLC0415

    if vendor != connection.vendor:
        raise RestoreRefused(
            f"The archive holds a {vendor} database; this installation uses {connection.vendor}."
        )
    files.check_kind(manifest["files"]["storage"])
    occupied = database.holds_data()
    if occupied and not force:
        raise RestoreRefused(
            f"The database is not empty ({len(occupied)} tables hold rows, e.g. "
            f"{', '.join(occupied[:3])}). Restore into an empty installation, or pass --force "
            "to replace everything in it."
        )
    if manifest["files"]["storage"] == "s3":
        missing = files.missing_objects(manifest["files"]["objects"])
        if missing:
            raise RestoreRefused(
                f"{len(missing)} stored file(s) the archive lists are not in the bucket "
                "(restore them from the bucket's versions or replica first)."
            )


@dataclass
class RestoreReport:
    manifest: dict
    files: int = 0
    problems: list[str] = field(default_factory=list)
    chains: list[str] = field(default_factory=list)


def backup_restore(*, archive: str, force: bool = False, progress: Progress = print):
    """Restore `archive` into this installation (empty, unless `force`)."""
    with (
        local_copy(archive) as path,
        tempfile.TemporaryDirectory(dir=settings.DATA_DIR, prefix=".restore-") as work,
    ):
        staging = Path(work)
        size = path.stat().st_size
        progress("Reading and checking the archive...")
        manifest = read_archive(path, staging)
        check_target(manifest, force=force)
        progress("Restoring the database...")
        db = manifest["database"]
        database.restore(db["vendor"], staging / db["member"])
        report = RestoreReport(manifest=manifest)
        if manifest["files"]["storage"] == "local" and (staging / "files").exists():
            progress("Restoring the stored files...")
            report.files = files.restore_local(staging / "files")
    _after_restore(report)
    # Settled after the count comparison, which they do not change (rows updated, none added).
    runs_settle_after_restore(manifest=manifest, location=archive, size=size)
    return report


def _after_restore(report: RestoreReport) -> None:
    expected = report.manifest["database"]["counts"]
    now = database.current_counts()
    for table, count in sorted(expected.items()):
        if now.get(table) != count:
            report.problems.append(f"table {table}: {now.get(table)} rows, archive had {count}")
    for clinic in Clinic.objects.order_by("slug"):
        chain = audit_verify(clinic_id=clinic.pk)
        if chain.ok:
            report.chains.append(f"{clinic.slug}: {chain.checked} events verified")
        else:
            report.problems.append(f"audit chain of {clinic.slug} broken: {chain.problem}")
