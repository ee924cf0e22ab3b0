"""The stored files' part of a backup.

Local storage (the embedded default): every file under the storage folder goes into the archive
as it is on disk (already encrypted with ENCRYPTION_KEYS, which is why the manifest names their
ids). S3/R2: the bucket's own versioning or replication holds the bytes; the archive holds the
list of object keys with their sizes and ETags, and a restore checks the bucket still has them.
The files are read after the database snapshot, so every file a restored row names is there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from django.core.files.storage import FileSystemStorage

from clinics.backups.errors import BackupFailed, RestoreRefused
from clinics.storage import is_object_storage, storage

# Temporary files the storage writes beside a file it replaces (clinics.storage._replace).
_SKIP_PREFIXES = (".rotate-",)


def storage_kind() -> str:
    backend = storage()
    if is_object_storage(backend):
        return "s3"
    if isinstance(backend, FileSystemStorage):
        return "local"
    raise BackupFailed(f"Backups cannot read files from {type(backend).__name__}.")


def local_root() -> Path:
    return Path(storage().location)


def local_files() -> Iterator[tuple[str, Path]]:
    """(name relative to the storage folder, path) of every stored file, sorted."""
    root = local_root()
    if not root.exists():
        return
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if not path.name.startswith(_SKIP_PREFIXES):
            yield path.relative_to(root).as_posix(), path


def _bucket():
    backend = storage()
    return backend.connection.meta.client, backend.bucket_name


def object_listing() -> list[dict]:
    """Every object in the document bucket: key, size and ETag."""
    client, bucket = _bucket()
    objects = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            objects.append({"key": item["Key"], "size": item["Size"], "etag": item["ETag"]})
    return objects


def missing_objects(listed: list[dict]) -> list[str]:
    """The listed objects the bucket no longer has (or has with other content)."""
    have = {(o["key"], o["size"], o["etag"]) for o in object_listing()}
    return [o["key"] for o in listed if (o["key"], o["size"], o["etag"]) not in have]


def restore_local(staged: Path) -> int:
    """Put the archive's files back into the storage folder. Returns how many."""
    root = local_root()
    count = 0
    for path in sorted(p for p in staged.rglob("*") if p.is_file()):
        target = root / path.relative_to(staged)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.replace(target) if _same_device(path, target.parent) else target.write_bytes(
            path.read_bytes()
        )
        count += 1
    return count


def _same_device(a: Path, b: Path) -> bool:
    return a.stat().st_dev == b.stat().st_dev


def check_kind(kind: str) -> None:
    if kind != storage_kind():
        raise RestoreRefused(
            f"The archive's files were on {kind} storage; this installation stores files on "
            f"{storage_kind()}. Configure the same storage before restoring."
        )
