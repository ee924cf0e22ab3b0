"""Helpers for tests that run real django-q2 workers (`manage.py qcluster` subprocesses) on the
Redis broker against the test's PostgreSQL database."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def require_redis() -> None:
    """Skip the test when Redis is not running at 127.0.0.1:6379; under CI=true, fail."""
    if not redis_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail("Redis is not reachable at 127.0.0.1:6379 (CI needs it).")
        pytest.skip("Redis is not running at 127.0.0.1:6379.")


def database_url() -> str:
    """The test database's URL, for the worker processes."""
    db = connection.settings_dict
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"


def cluster_env(redis_url: str, **extra: str) -> dict[str, str]:
    """Production settings on the test database and the given Redis queue."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "Q_SYNC": "false",
        **extra,
    }


def run_django(env: dict, code: str, *, timeout: float = 120) -> str:
    """Run `code` in a fresh Python with Django set up under `env` (the cluster's settings)."""
    script = "import django; django.setup()\n" + code
    done = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def start_django(env: dict, code: str, log: IO[str]) -> subprocess.Popen:
    """Like `run_django`, in the background (in its own process group)."""
    script = "import django; django.setup()\n" + code
    return subprocess.Popen(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def start_cluster(env: dict, log: IO[str]) -> subprocess.Popen:
    """`manage.py qcluster` in its own process group (so it can be killed whole)."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen, *, timeout: float = 60) -> None:
    """Stop a process started here gracefully (SIGTERM), or kill its group when it lingers."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_hard(process)


def kill_hard(process: subprocess.Popen) -> None:
    """SIGKILL the process and every child it started, as when its machine is lost."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
