"""The lost-task sweep's bound: longer than a task may run, or the settings refuse to load."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings

from clinics.recovery import stale_after, task_lost_after, waiting_row_requeue
from clinics.registry import WaitingWork


def load_settings(tmp_path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "VAIDYA_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_bound_not_above_the_task_timeout_is_refused(tmp_path):
    refused = load_settings(tmp_path, Q_TIMEOUT="120", TASK_LOST_AFTER_SECONDS="120")
    assert refused.returncode != 0
    assert "TASK_LOST_AFTER_SECONDS must be longer than Q_TIMEOUT" in refused.stderr
    assert load_settings(tmp_path, Q_TIMEOUT="30").returncode == 0  # default: timeout + 60 s


def test_the_default_bound_is_the_task_timeout_and_a_minute():
    assert task_lost_after() == timedelta(seconds=settings.Q_CLUSTER["timeout"] + 60)
    quick = WaitingWork(name="t.quick", order=1, model=None, task="t", stale=lambda c: None)
    slow = WaitingWork(
        name="t.slow",
        order=1,
        model=None,
        task="t",
        stale=lambda c: None,
        stale_after=lambda: timedelta(hours=1),
    )
    shorter = WaitingWork(
        name="t.shorter",
        order=1,
        model=None,
        task="t",
        stale=lambda c: None,
        stale_after=lambda: timedelta(seconds=1),
    )
    assert stale_after(quick) == task_lost_after()
    assert stale_after(slow) == timedelta(hours=1)
    assert stale_after(shorter) == task_lost_after()  # never below a task's run time


@pytest.mark.django_db
def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(LookupError, match="No waiting work is registered"):
        waiting_row_requeue(kind="nowhere.nothing", row_id=1)
