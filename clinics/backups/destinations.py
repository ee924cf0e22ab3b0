"""Where archives go: a local folder, or an S3/R2 bucket (`s3://bucket/prefix`).

An archive is written under a temporary name and becomes visible under its final name only once
it is complete and verified: in a folder it is renamed into place, in a bucket it is uploaded
after verification (an S3 upload, multipart included, appears whole or not at all). Archive
names carry their time in UTC (`vaidya-20270112T023000Z.vbak`), which retention reads.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from clinics.backups.errors import BackupFailed

SUFFIX = ".vbak"
NAME_RE = re.compile(r"^vaidya-(\d{8}T\d{6}Z)\.vbak$")


def archive_name(at: datetime) -> str:
    return f"vaidya-{at.astimezone(UTC):%Y%m%dT%H%M%SZ}{SUFFIX}"


def archive_time(name: str) -> datetime | None:
    match = NAME_RE.match(name)
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def disk_error(exc: OSError, where: str) -> BackupFailed:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return BackupFailed(f"The disk holding {where} is full: free space there and run again.")
    return BackupFailed(f"Could not write to {where}: {exc.strerror or exc}.")


@dataclass
class LocalFolder:
    folder: Path

    def __str__(self) -> str:
        return str(self.folder)

    def check(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise disk_error(exc, f"the backup folder {self.folder}") from exc

    @contextlib.contextmanager
    def partial(self, name: str) -> Iterator[Path]:
        """A temporary file in the folder; removed unless `publish` moved it into place."""
        path = self.folder / f".{name}.partial"
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    def publish(self, partial: Path, name: str) -> str:
        os.replace(partial, self.folder / name)
        return str(self.folder / name)

    def names(self) -> list[str]:
        if not self.folder.exists():
            return []
        return sorted(p.name for p in self.folder.iterdir() if NAME_RE.match(p.name))

    def delete(self, name: str) -> None:
        (self.folder / name).unlink(missing_ok=True)


@dataclass
class Bucket:
    bucket: str
    prefix: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def client(self):
        import boto3  # noqa: PLC0415 (only an installation backing up to a bucket needs it)
        from botocore.config import Config  # noqa: PLC0415

        return boto3.client(
            "s3",
            endpoint_url=settings.BACKUP_S3_ENDPOINT_URL or None,
            region_name=settings.BACKUP_S3_REGION,
            aws_access_key_id=settings.BACKUP_S3_ACCESS_KEY_ID or None,
            aws_secret_access_key=settings.BACKUP_S3_SECRET_ACCESS_KEY or None,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                connect_timeout=10,
                read_timeout=60,
                retries={"max_attempts": 2, "mode": "standard"},
            ),
        )

    def _call(self, what: str, fn, *args, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            return fn(*args, **kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise BackupFailed(f"The backup bucket {self} refused to {what} ({code}).") from exc
        except BotoCoreError as exc:
            raise BackupFailed(
                f"Could not reach the backup bucket {self} to {what}: {exc}."
            ) from exc

    def check(self) -> None:
        self._call("answer", self.client().head_bucket, Bucket=self.bucket)

    @contextlib.contextmanager
    def partial(self, name: str) -> Iterator[Path]:
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=settings.DATA_DIR, prefix=".backup-", suffix=".partial")
        os.close(fd)
        try:
            yield Path(tmp)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def publish(self, partial: Path, name: str) -> str:
        client = self.client()
        key = self.prefix + name
        self._call("store the archive", client.upload_file, str(partial), self.bucket, key)
        head = self._call("confirm the archive", client.head_object, Bucket=self.bucket, Key=key)
        if head["ContentLength"] != partial.stat().st_size:
            self._call("remove a short archive", client.delete_object, Bucket=self.bucket, Key=key)
            raise BackupFailed(f"The backup bucket {self} stored a short copy; removed it.")
        return f"s3://{self.bucket}/{key}"

    def names(self) -> list[str]:
        client = self.client()
        names = []
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in self._call("list archives", list, pages):
            for item in page.get("Contents", []):
                name = item["Key"][len(self.prefix) :]
                if NAME_RE.match(name):
                    names.append(name)
        return sorted(names)

    def delete(self, name: str) -> None:
        self._call(
            "delete an old archive",
            self.client().delete_object,
            Bucket=self.bucket,
            Key=self.prefix + name,
        )

    def download(self, key: str, target: Path) -> None:
        self._call("send the archive", self.client().download_file, self.bucket, key, str(target))


def parse_s3(url: str) -> tuple[str, str]:
    rest = url[len("s3://") :]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise BackupFailed(f"{url!r} names no bucket (s3://bucket/prefix).")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return bucket, prefix


def destination(where: str = "") -> LocalFolder | Bucket:
    """The destination named by `where`, else BACKUP_DESTINATION."""
    where = (where or settings.BACKUP_DESTINATION).strip()
    if where.startswith("s3://"):
        return Bucket(*parse_s3(where))
    return LocalFolder(Path(where))
