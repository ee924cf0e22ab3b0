"""What must never be committed: a local environment or the data folder."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout"
)
def test_no_virtual_environment_or_data_folder_is_tracked():
    tracked = subprocess.run(
        ["git", "ls-files", "--", ".venv", "data"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    # A tracked .venv link replaces the checkout's environment with a link when merged.
    assert tracked == []
