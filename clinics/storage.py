"""Vaidya's storage backends.

Local storage (the embedded default) encrypts every file at rest with the encryption helper
(`clinics.crypto`), so a copied disk does not leak patients' records. On S3 / R2 the bucket's
server-side encryption does that job (settings.STORAGES), and downloads are presigned URLs.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.http import HttpResponse, HttpResponseRedirect

from clinics import crypto

MAGIC = b"VAIDYA-ENC1\n"


class EncryptedFileSystemStorage(FileSystemStorage):
    """Files on the local disk, each encrypted with the current key.

    A file written before encryption was switched on (no header) is read as it is, and
    `rotate_encryption_keys` encrypts it. Names, sizes and hashes recorded by Vaidya are always
    those of the plain content.
    """

    def _save(self, name: str, content: File) -> str:
        content.seek(0)
        data = content.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        return super()._save(name, ContentFile(MAGIC + crypto.encrypt(data)))

    def _open(self, name: str, mode: str = "rb") -> File:
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("Stored files are never changed in place; save a new file instead.")
        with open(self.path(name), "rb") as fh:
            raw = fh.read()
        file = ContentFile(_plain(raw), name=name)
        file.mode = "rb"
        return file

    def size(self, name: str) -> int:
        with open(self.path(name), "rb") as fh:
            return len(_plain(fh.read()))

    def rotate_all(self) -> tuple[int, int]:
        """Re-encrypt every stored file with the current key. Returns (rotated, already current)."""
        rotated = current = 0
        root = Path(self.location)
        if not root.exists():
            return 0, 0
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            raw = path.read_bytes()
            if raw.startswith(MAGIC):
                token = raw[len(MAGIC) :]
                if crypto.is_current(token):
                    current += 1
                    continue
                new = MAGIC + crypto.rotate(token)
            else:
                new = MAGIC + crypto.encrypt(raw)
            _replace(path, new)
            rotated += 1
        return rotated, current


def _plain(raw: bytes) -> bytes:
    if raw.startswith(MAGIC):
        return crypto.decrypt(raw[len(MAGIC) :])
    return raw


def _replace(path: Path, data: bytes) -> None:
    """Write beside the file, then rename over it: a crash leaves the old or the new file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".rotate-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def object_key(*, clinic_id: int, kind: str, extension: str) -> str:
    """A storage key with no personal data in it, never used twice:
    `clinics/<clinic id>/<kind>/<uuid>.<extension>`."""
    return f"clinics/{clinic_id}/{kind}/{uuid.uuid4().hex}.{extension}"


def storage() -> Storage:
    """The storage documents and uploads go to (settings.STORAGES["default"])."""
    return storages["default"]


def is_object_storage(backend: Storage) -> bool:
    """Whether `backend` is S3/R2, whose files are handed out as presigned links."""
    # Lazy on purpose: this loads boto3, which only a deployment storing files in S3 needs.
    from storages.backends.s3 import S3Storage  # noqa: PLC0415

    return isinstance(backend, S3Storage)


def stored_file_response(name: str, *, content_type: str, disposition: str) -> HttpResponse:
    """Hand over a stored file, after the caller checked who may have it and audited it.

    On S3/R2: a redirect to a presigned link valid DOCUMENT_LINK_SECONDS, which makes the bucket
    answer with these headers. On local storage: the (decrypted) bytes. Neither may be cached.
    """
    backend = storage()
    content_type = content_type or "application/octet-stream"
    if is_object_storage(backend):
        url = backend.url(
            name,
            parameters={
                "ResponseContentDisposition": disposition,
                "ResponseContentType": content_type,
                "ResponseCacheControl": "private, no-store",
            },
            expire=settings.DOCUMENT_LINK_SECONDS,
        )
        response: HttpResponse = HttpResponseRedirect(url)
    else:
        with backend.open(name, "rb") as fh:
            response = HttpResponse(fh.read(), content_type=content_type)
        response["Content-Disposition"] = disposition
        response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@crypto.register_rotation("files in local storage")
def _rotate_local_files() -> tuple[int, int]:
    backend = storages["default"]
    if isinstance(backend, EncryptedFileSystemStorage):
        return backend.rotate_all()
    return 0, 0
