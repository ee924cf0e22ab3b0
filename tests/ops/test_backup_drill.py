"""The backup drill, as an operator would run it: real processes, a real data folder.

Seed the demo, upload documents, back up while a writer keeps booking appointments, restore into
a fresh data folder (its keys copied from the key safe), and find every row committed before the
backup began, no row of a half-done transaction, every file and a valid audit chain (cut once
by the retention purge); on SQLite and on the local PostgreSQL. Then the refusals: a truncated
or tampered archive, a wrong backup key, an archive from a newer Vaidya, a database that holds
data: each with a clear message, exit status 1 and nothing changed.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import uuid
from pathlib import Path

import pytest

from clinics.backups.archive import DecryptingReader, EncryptingWriter

ROOT = Path(__file__).resolve().parents[2]
PG = "postgres://postgres@127.0.0.1:5432"
KEY_FILES = ("secret_key", "encryption_key", "audit_key", "backup_key")

SETUP = """
import io
from PIL import Image
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("seed_demo", "--patients", "12", verbosity=0)
from clinics.models import Clinic, Membership
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.models import Patient
from patients.services.documents import document_upload
clinic = Clinic.objects.get(slug="demo")
# The retention purge has cut the chain once: the restored chain verifies from its anchor.
from datetime import timedelta
from django.utils import timezone
from clinics.audit import audit_seal
from clinics.audit_prune import audit_prune
audit_seal(clinic_id=clinic.pk)
assert audit_prune(clinic_id=clinic.pk, before=timezone.now() + timedelta(seconds=1)) > 0
with clinic_scope(clinic):
    owner = Membership.objects.select_related("user").get(role=Role.OWNER)
    for i, patient in enumerate(Patient.objects.filter(archived_at=None).order_by("id")[:4]):
        buffer = io.BytesIO()
        Image.new("RGB", (40 + i, 30), (200, 30 * i, 30)).save(buffer, format="PNG")
        document_upload(patient=patient, kind="photo", title=f"Photo {i}",
                        data=buffer.getvalue(), original_name=f"p{i}.png", actor=owner.user,
                        actor_membership=owner)
"""

WRITER = """
import sys, time
from datetime import timedelta
from pathlib import Path
from django.utils import timezone
from clinics.errors import DomainError
from clinics.models import Clinic, Membership
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.models import Patient
from patients.services.appointments import appointment_book
stop = Path(STOP_PATH)
clinic = Clinic.objects.get(slug="demo")
# The retention purge has cut the chain once: the restored chain verifies from its anchor.
from datetime import timedelta
from django.utils import timezone
from clinics.audit import audit_seal
from clinics.audit_prune import audit_prune
audit_seal(clinic_id=clinic.pk)
assert audit_prune(clinic_id=clinic.pk, before=timezone.now() + timedelta(seconds=1)) > 0
with clinic_scope(clinic):
    owner = Membership.objects.select_related("user").get(role=Role.OWNER)
    patients = list(Patient.objects.filter(archived_at__isnull=True).order_by("id"))
    base = timezone.now().replace(second=0, microsecond=0) + timedelta(days=30)
    i = 0
    while not stop.exists():
        i += 1
        try:
            a = appointment_book(patient=patients[i % len(patients)], doctor=owner,
                                 actor=owner.user, starts_at=base + timedelta(minutes=20 * i),
                                 override_reason="backup drill")
        except DomainError as exc:
            print("refused", exc, flush=True)
            continue
        print("committed", a.pk, flush=True)
"""

REPORT = """
import hashlib, json
from clinics.audit import audit_verify
from clinics.backups.models import BackupRun
from clinics.models import Clinic
from clinics.tenancy import clinic_scope
from patients.models import Appointment, Document
clinic = Clinic.objects.get(slug="demo")
runs = [[r.status, r.archive, r.size] for r in BackupRun.objects.order_by("started_at")]
with clinic_scope(clinic):
    files = {}
    for d in Document.objects.exclude(file=""):
        with d.file.open("rb") as fh:
            files[d.pk] = [d.sha256, hashlib.sha256(fh.read()).hexdigest()]
    print(json.dumps({
        "appointments": sorted(Appointment.objects.values_list("id", flat=True)),
        "files": files,
        "chain_ok": audit_verify(clinic_id=clinic.pk).ok,
        "runs": runs,
    }))
"""


def _env(data_dir: Path, database_url: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        VAIDYA_DATA_DIR=str(data_dir),
        LOG_LEVEL="WARNING",
        DEVTOOLS="false",
        DEBUG="true",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


class Installation:
    def __init__(self, data_dir: Path, database_url: str = "") -> None:
        self.data_dir, self.database_url = data_dir, database_url
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=_env(self.data_dir, self.database_url),
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result

    def shell(self, code: str) -> str:
        return self.manage("shell", "-c", code).stdout

    def report(self) -> dict:
        return json.loads(self.shell(REPORT).strip().splitlines()[-1])

    def copy_keys_to(self, other: Installation) -> None:
        for name in KEY_FILES:
            shutil.copy(self.data_dir / name, other.data_dir / name)


def _drill(source: Installation, target: Installation, archives: Path) -> None:
    stop = archives.parent / f"stop-{uuid.uuid4().hex}"
    writer = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "shell", "-c", WRITER.replace("STOP_PATH", repr(str(stop)))],
        cwd=ROOT,
        env=_env(source.data_dir, source.database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    committed: list[int] = []
    try:
        while len(committed) < 5:  # the writer is under way
            line = writer.stdout.readline()
            assert line, writer.stderr.read()[-3000:]
            assert not line.startswith("refused"), line
            if line.startswith("committed"):
                committed.append(int(line.split()[1]))
        before_backup = list(committed)
        backup = source.manage("backup", "--to", str(archives))
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=120)
    committed += [int(line.split()[1]) for line in out.splitlines() if line.startswith("committed")]
    assert writer.returncode == 0, err[-3000:]
    assert "Backup written and checked" in backup.stdout
    (archive,) = archives.iterdir()

    source.copy_keys_to(target)
    restore = target.manage("restore", str(archive))
    assert "Restored and checked" in restore.stdout, restore.stdout

    before, after = source.report(), target.report()
    restored = after["appointments"]
    written = [a for a in restored if a in committed]
    # Every appointment committed before the backup began, and a clean cut: the writer's
    # appointments in the archive are exactly its first N, none from a half-done transaction.
    assert set(before_backup) <= set(restored)
    assert written == sorted(committed)[: len(written)]
    assert set(restored) - set(committed) == set(before["appointments"]) - set(committed)
    assert len(committed) > len(before_backup)  # the writer really ran during the backup
    # Every file, opened with the copied keys, matches its row's checksum.
    assert len(after["files"]) == 4
    assert after["files"] == {k: v for k, v in before["files"].items() if k in after["files"]}
    assert all(expected == actual for expected, actual in after["files"].values())
    assert after["chain_ok"]
    assert target.manage("verify_audit_chain").returncode == 0
    # The archive holds its own run as "running"; restored, that run shows the archive it made.
    assert before["runs"] == [["succeeded", str(archive), archive.stat().st_size]]
    assert after["runs"] == [["succeeded", str(archive), archive.stat().st_size]]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    """A data folder with the demo clinic and four documents, made once; copy it to use it."""
    folder = tmp_path_factory.mktemp("seeded") / "data"
    Installation(folder).shell(SETUP)
    return folder


def _copy_of(seeded: Path, where: Path) -> Installation:
    shutil.copytree(seeded, where)
    return Installation(where)


def test_backup_drill_on_sqlite(seeded, tmp_path):
    source = _copy_of(seeded, tmp_path / "source")
    _drill(source, Installation(tmp_path / "fresh"), tmp_path / "out")


def _postgres_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(f"{PG}/postgres", connect_timeout=3):
            return True
    except Exception:  # any failure means: not here
        return False


@pytest.fixture
def pg_databases():
    if not _postgres_reachable() or not shutil.which("pg_dump"):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("The PostgreSQL backup drill needs the local PostgreSQL and pg_dump.")
        pytest.skip("needs PostgreSQL on 127.0.0.1:5432 and pg_dump")
    import psycopg

    names = [f"vaidya_drill_{uuid.uuid4().hex[:10]}_{side}" for side in ("src", "dst")]
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    yield [f"{PG}/{name}" for name in names]
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_drill_on_postgresql(tmp_path, pg_databases):
    source_url, target_url = pg_databases
    source = Installation(tmp_path / "source", source_url)
    source.shell(SETUP)
    _drill(
        source,
        Installation(tmp_path / "fresh", target_url),
        tmp_path / "out",
    )


# --- refusals -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def made(seeded, tmp_path_factory):
    """A seeded SQLite installation and one good archive of it."""
    base = tmp_path_factory.mktemp("made")
    source = _copy_of(seeded, base / "source")
    source.manage("backup", "--to", str(base / "out"))
    (archive,) = (base / "out").iterdir()
    return source, archive


def _fresh(tmp_path: Path, source: Installation) -> Installation:
    target = Installation(tmp_path / f"fresh-{uuid.uuid4().hex[:6]}")
    source.copy_keys_to(target)
    return target


def _refused(target: Installation, archive: Path, message: str) -> None:
    result = target.manage("restore", str(archive), check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Restore refused" in result.stderr and message in result.stderr, result.stderr
    # Nothing changed: no database with tables, no stored file.
    db = target.data_dir / "vaidya.sqlite3"
    if db.exists():
        import sqlite3

        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    assert not (target.data_dir / "media").exists()


def test_a_truncated_archive_is_refused(made, tmp_path):
    source, archive = made
    cut = tmp_path / archive.name
    cut.write_bytes(archive.read_bytes()[:-1000])
    _refused(_fresh(tmp_path, source), cut, "incomplete")
    verify = source.manage("backup", "--verify", str(cut), check=False)
    assert verify.returncode == 1 and "incomplete" in verify.stderr


def test_a_tampered_archive_is_refused(made, tmp_path):
    source, archive = made
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered = tmp_path / archive.name
    tampered.write_bytes(bytes(data))
    _refused(_fresh(tmp_path, source), tampered, "changed or damaged")


def test_a_wrong_backup_key_is_refused(made, tmp_path):
    source, archive = made
    target = _fresh(tmp_path, source)
    (target.data_dir / "backup_key").unlink()  # settings make a new (wrong) one
    _refused(target, archive, "not in BACKUP_KEYS")


def test_missing_data_keys_are_refused(made, tmp_path):
    source, archive = made
    target = _fresh(tmp_path, source)
    (target.data_dir / "encryption_key").unlink()
    _refused(target, archive, "lacks the keys")


def _rewrite_manifest(archive: Path, target: Path, key: str, change) -> None:
    """A copy of `archive` whose manifest `change` edited, sealed again with the same key."""
    from django.test import override_settings

    with (
        override_settings(BACKUP_KEYS=[key]),
        archive.open("rb") as raw,
        target.open("wb") as sink,
    ):
        writer = EncryptingWriter(sink)
        with (
            tarfile.open(fileobj=DecryptingReader(raw), mode="r|") as old,
            tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as new,
        ):
            for info in old:
                data = old.extractfile(info).read()
                if info.name == "manifest.json":
                    manifest = json.loads(data)
                    change(manifest)
                    data = json.dumps(manifest).encode()
                info.size = len(data)
                new.addfile(info, io.BytesIO(data))
        writer.close()


def test_an_archive_from_a_newer_vaidya_is_refused(made, tmp_path):
    source, archive = made
    newer = tmp_path / archive.name
    _rewrite_manifest(
        archive,
        newer,
        (source.data_dir / "backup_key").read_text().strip(),
        lambda m: m["migrations"].append(["patients", "9999_from_the_future"]),
    )
    assert source.manage("backup", "--verify", str(newer)).returncode == 0  # the archive is sound
    _refused(_fresh(tmp_path, source), newer, "newer Vaidya")


def test_a_database_that_holds_data_is_not_overwritten(made):
    source, archive = made
    before = source.report()
    started = time.time()
    result = source.manage("restore", str(archive), check=False)
    assert result.returncode == 1 and "database is not empty" in result.stderr
    assert "--force" in result.stderr
    assert source.report() == before
    assert os.path.getmtime(source.data_dir / "vaidya.sqlite3") < started
