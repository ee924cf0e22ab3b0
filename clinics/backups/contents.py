"""What is inside an archive, and how it is written and read back.

Inside the encrypted container (`archive.py`) is a tar stream: the database snapshot
(`database/...`), the stored files (`files/...`, local storage only) and, last, `manifest.json`:
Vaidya's version, the migration state, the rows per table, the key ids the data needs, the files
and the size and SHA-256 of every other member. Reading checks every member against the
manifest; nothing outside `database/` and `files/` is ever written to disk.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tomllib
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from django.conf import settings
from django.utils import timezone

from clinics.backups import files, keys
from clinics.backups.archive import CHUNK_SIZE, DecryptingReader, EncryptingWriter
from clinics.backups.database import Snapshot
from clinics.backups.errors import ArchiveDamaged

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
_MAX_MANIFEST = 256 * 1024 * 1024


def vaidya_version() -> str:
    with (settings.BASE_DIR / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)["project"]["version"]


class _Hashing:
    def __init__(self, source: BinaryIO) -> None:
        self.source, self.digest, self.size = source, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        data = self.source.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data


def _add(tar: tarfile.TarFile, name: str, source: BinaryIO, size: int) -> dict:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(timezone.now().timestamp())
    hashing = _Hashing(source)
    tar.addfile(info, hashing)
    return {"size": hashing.size, "sha256": hashing.digest.hexdigest()}


def write_archive(sink: BinaryIO, snapshot: Snapshot, progress) -> dict:
    """Write the archive of `snapshot` and the stored files into `sink`; return the manifest."""
    members: dict[str, dict] = {}
    kind = files.storage_kind()
    file_count = file_bytes = 0
    objects: list[dict] = []
    writer = EncryptingWriter(sink)
    with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        db_name = f"database/{snapshot.path.name}"
        with snapshot.path.open("rb") as fh:
            members[db_name] = _add(tar, db_name, fh, snapshot.path.stat().st_size)
        progress(f"Database: {members[db_name]['size'] / 1e6:.1f} MB")
        if kind == "local":
            for name, path in files.local_files():
                data = path.read_bytes()  # whole: a stored file is at most UPLOAD_MAX_MB
                members[f"files/{name}"] = _add(tar, f"files/{name}", io.BytesIO(data), len(data))
                file_count += 1
                file_bytes += len(data)
        else:
            objects = files.object_listing()
            file_count, file_bytes = len(objects), sum(o["size"] for o in objects)
        progress(f"Files: {file_count} ({file_bytes / 1e6:.1f} MB, {kind} storage)")
        manifest = {
            "format": MANIFEST_FORMAT,
            "vaidya_version": vaidya_version(),
            "created_at": timezone.now().isoformat(),
            "database": {
                "vendor": snapshot.vendor,
                "member": db_name,
                "counts": snapshot.counts,
            },
            "migrations": snapshot.migrations,
            "keys": {"backup": keys.current_backup_key()[0], **keys.data_key_ids()},
            "files": {
                "storage": kind,
                "count": file_count,
                "bytes": file_bytes,
                "objects": objects,
            },
            "members": members,
        }
        blob = json.dumps(manifest, sort_keys=True, indent=1).encode()
        _add(tar, MANIFEST, io.BytesIO(blob), len(blob))
    writer.close()
    return manifest


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if (
        path.is_absolute()
        or ".." in path.parts
        or (name != MANIFEST and path.parts[0] not in ("database", "files"))
        or (path.parts[0] in ("database", "files") and len(path.parts) < 2)
    ):
        raise ArchiveDamaged(f"The archive holds an unexpected member {name!r}.")
    return path


def read_archive(path: Path, staging: Path | None = None) -> dict:
    """Read the archive at `path` through, checking every part and every member against the
    manifest; with `staging`, write the database and files there. Returns the manifest."""
    seen: dict[str, dict] = {}
    blob = b""
    with path.open("rb") as raw:
        reader = DecryptingReader(raw)
        try:
            with tarfile.open(fileobj=reader, mode="r|") as tar:
                for info in tar:
                    name = _safe_name(info.name)
                    if not info.isfile() or info.name in seen:
                        raise ArchiveDamaged(f"The archive holds an unexpected {info.name!r}.")
                    source = tar.extractfile(info)
                    if info.name == MANIFEST:
                        if info.size > _MAX_MANIFEST:
                            raise ArchiveDamaged("The archive's manifest is too large.")
                        blob = source.read()
                        continue
                    seen[info.name] = _copy(source, staging / name if staging else None)
        except tarfile.TarError as exc:
            raise ArchiveDamaged(f"The archive's contents are damaged ({exc}).") from exc
        reader.drain()
    if not blob:
        raise ArchiveDamaged("The archive has no manifest: it is incomplete.")
    try:
        manifest = json.loads(blob)
        expected = manifest["members"]
    except (ValueError, KeyError, TypeError):
        raise ArchiveDamaged("The archive's manifest is damaged.") from None
    if manifest.get("format") != MANIFEST_FORMAT:
        raise ArchiveDamaged(f"The manifest has an unknown format {manifest.get('format')!r}.")
    wrong = sorted(set(expected) ^ set(seen)) + sorted(
        n for n in set(expected) & set(seen) if expected[n] != seen[n]
    )
    if wrong:
        raise ArchiveDamaged(
            f"{len(wrong)} part(s) of the archive do not match its manifest (first: {wrong[0]})."
        )
    return manifest


def _copy(source: BinaryIO, target: Path | None) -> dict:
    digest, size = hashlib.sha256(), 0
    out = None
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        out = target.open("wb")
    try:
        while chunk := source.read(CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
            if out is not None:
                out.write(chunk)
    finally:
        if out is not None:
            out.flush()
            os.fsync(out.fileno())
            out.close()
    return {"size": size, "sha256": digest.hexdigest()}
