"""The data folder holds patients' records and the keys: no other account on the machine may
read it. Checked from an empty folder, in a fresh process started from a shell's usual umask."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

# Runs in the child: migrate, keep the database open (so its -wal and -shm files exist), store
# an upload in local storage and open a run_local log, then report every mode in the folder.
CHILD = """
import json, stat, sys
from pathlib import Path

import django

django.setup()
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection

from clinics.management.commands.run_local import _log_file

call_command("migrate", verbosity=0)
connection.ensure_connection()
default_storage.save("1/documents/probe.pdf", ContentFile(b"%PDF-1.4 probe"))
with _log_file(Path(settings.DATA_DIR) / "logs" / "worker.log"):
    pass
data = Path(settings.DATA_DIR)
modes = {str(p.relative_to(data)): stat.S_IMODE(p.stat().st_mode) for p in data.rglob("*")}
modes["."] = stat.S_IMODE(data.stat().st_mode)
json.dump(modes, sys.stdout)
"""


def _modes_after_first_start(data_dir: Path) -> dict[str, int]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SECRET_KEY", "ENCRYPTION_KEYS", "AUDIT_KEYS", "S3_BUCKET", "REDIS_URL")
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VAIDYA_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'vaidya.sqlite3'}",
    }
    done = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", CHILD],
        cwd=settings.BASE_DIR,
        env=env,
        umask=0o022,  # what a login shell usually has: files 0644 unless Vaidya says otherwise
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize("existing", [False, True], ids=["no folder yet", "folder left 0755"])
def test_the_data_folder_and_everything_vaidya_creates_in_it_are_private(tmp_path, existing):
    data_dir = tmp_path / "data"
    if existing:  # made by an older version, or by hand
        data_dir.mkdir()
        data_dir.chmod(0o755)
    modes = _modes_after_first_start(data_dir)

    shown = {name: oct(mode) for name, mode in sorted(modes.items())}
    for name in (
        "vaidya.sqlite3",
        "vaidya.sqlite3-wal",
        "vaidya.sqlite3-shm",
        "secret_key",
        "encryption_key",
        "audit_key",
        "media/1/documents/probe.pdf",
        "logs/worker.log",
    ):
        assert modes.get(name) == 0o600, (name, shown)
    for name in (".", "media", "media/1", "media/1/documents", "logs"):
        assert modes.get(name) == 0o700, (name, shown)
    # Nothing else in the folder is readable by another account either.
    assert not [name for name, mode in modes.items() if mode & 0o077], shown
