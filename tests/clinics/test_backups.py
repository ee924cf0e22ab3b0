"""Backups in one process: the encrypted container, retention, failures that must leave no
archive behind, the bucket destination, the schedule and what owners see.

The end-to-end drill (a live writer, restore into a fresh data folder, SQLite and PostgreSQL)
and the refused restores are in tests/ops/test_backup_drill.py.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import socket
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from clinics.backups import archive, keys, runs
from clinics.backups.archive import CHUNK_SIZE, DecryptingReader, EncryptingWriter
from clinics.backups.errors import ArchiveDamaged, BackupKeyMissing
from clinics.backups.models import BackupRun, BackupStatus
from clinics.backups.runs import archives_to_keep, backup_create, backup_health
from clinics.backups.tasks import backup_check, backup_daily
from clinics.roles import Role
from clinics.schedules import declared_schedules

KEY = keys.generate_backup_key()
OTHER_KEY = keys.generate_backup_key()


@pytest.fixture(autouse=True)
def _backup_settings(settings, tmp_path):
    settings.BACKUP_KEYS = [KEY]
    settings.BACKUP_DESTINATION = str(tmp_path / "backups")
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()


def _seal(data: bytes) -> bytes:
    sink = io.BytesIO()
    writer = EncryptingWriter(sink)
    for start in range(0, len(data), 70_000):
        writer.write(data[start : start + 70_000])
    writer.close()
    return sink.getvalue()


def _open(blob: bytes) -> bytes:
    reader = DecryptingReader(io.BytesIO(blob))
    return reader.read()


# --- the encrypted container ------------------------------------------------------------------


def test_the_container_round_trips_across_chunks_and_hides_the_content():
    data = os.urandom(CHUNK_SIZE * 2 + 12345) + b"P-000123 Kavya Reddy"
    blob = _seal(data)
    assert b"Kavya" not in blob
    assert _open(blob) == data
    assert _open(_seal(b"")) == b""


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda b: b[:-50], "incomplete"),
        (lambda b: b[: len(b) // 2], "incomplete"),
        (lambda b: b[:2000] + bytes([b[2000] ^ 1]) + b[2001:], "changed or damaged"),
        (lambda b: b + b"x", "after its last part"),
        (lambda b: b"not an archive" + b, "not a Vaidya backup"),
    ],
    ids=["cut-end", "cut-half", "flipped-byte", "extra-bytes", "not-an-archive"],
)
def test_a_damaged_container_is_refused(damage, message):
    blob = _seal(os.urandom(CHUNK_SIZE + 5000))
    with pytest.raises(ArchiveDamaged, match=message):
        _open(damage(blob))


def test_dropping_a_whole_chunk_is_refused():
    blob = _seal(os.urandom(CHUNK_SIZE * 3))
    header_end = len(archive.MAGIC) + 4 + int.from_bytes(blob[len(archive.MAGIC) :][:4], "big")
    first_len = int.from_bytes(blob[header_end : header_end + 4], "big")
    without_first = blob[:header_end] + blob[header_end + 4 + first_len :]
    with pytest.raises(ArchiveDamaged, match="changed or damaged"):
        _open(without_first)


def test_an_archive_needs_its_own_backup_key(settings):
    blob = _seal(b"records")
    settings.BACKUP_KEYS = [OTHER_KEY]
    with pytest.raises(BackupKeyMissing, match="not in BACKUP_KEYS"):
        _open(blob)
    settings.BACKUP_KEYS = [OTHER_KEY, KEY]  # rotated: the old key still opens old archives
    assert _open(blob) == b"records"


# --- a backup of this database ------------------------------------------------------------------


def test_backup_writes_a_checked_archive_and_records_the_run(owner, tmp_path, settings):
    out = StringIO()
    call_command("backup", stdout=out)
    (archive_path,) = Path(settings.BACKUP_DESTINATION).iterdir()
    assert archive_path.name.startswith("vaidya-") and archive_path.suffix == ".vbak"
    assert f"backup key {keys.backup_key_ids()[0]}" in out.getvalue()
    run = BackupRun.objects.get()
    assert run.status == BackupStatus.SUCCEEDED and run.size == archive_path.stat().st_size
    assert run.archive == str(archive_path)

    verified = StringIO()
    call_command("backup", "--verify", str(archive_path), stdout=verified)
    assert "Archive OK" in verified.getvalue()
    assert not [p for p in settings.DATA_DIR.iterdir() if p.name.startswith(".backup")]


class _FullDisk:
    def __init__(self, sink, room: int) -> None:
        self.sink, self.room = sink, room

    def write(self, data) -> int:
        self.room -= len(data)
        if self.room < 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.sink.write(data)

    def __getattr__(self, name):
        return getattr(self.sink, name)


def test_a_full_disk_fails_clearly_and_leaves_no_archive(owner, settings, monkeypatch):
    real = runs.write_archive
    monkeypatch.setattr(
        runs, "write_archive", lambda sink, *a, **k: real(_FullDisk(sink, 50_000), *a, **k)
    )
    with pytest.raises(
        CommandError, match=r"disk holding the backup destination .* is full"
    ) as exc:
        call_command("backup", stdout=StringIO())
    assert exc.value.returncode == 1
    assert list(Path(settings.BACKUP_DESTINATION).iterdir()) == []
    run = BackupRun.objects.get()
    assert run.status == BackupStatus.FAILED and "full" in run.problem


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_bucket_fails_clearly_before_any_work(owner, settings):
    settings.BACKUP_S3_ENDPOINT_URL = f"http://127.0.0.1:{_closed_port()}"
    settings.BACKUP_S3_ACCESS_KEY_ID, settings.BACKUP_S3_SECRET_ACCESS_KEY = "k", "s"
    with pytest.raises(CommandError, match="Could not reach the backup bucket") as exc:
        call_command("backup", "--to", "s3://vaidya-backups/daily", stdout=StringIO())
    assert exc.value.returncode == 1
    assert BackupRun.objects.get().status == BackupStatus.FAILED


def test_a_backup_goes_to_a_bucket_and_is_verified_from_there(owner, settings):
    from tests.s3server import ServerMissing, running_s3_server

    try:
        server_cm = running_s3_server()
        server = server_cm.__enter__()
    except ServerMissing as exc:
        pytest.skip(str(exc))
    try:
        from tests.s3server import ACCESS_KEY, SECRET_KEY

        bucket = server.create_bucket("vaidya-backups")
        settings.BACKUP_S3_ENDPOINT_URL = server.endpoint_url
        settings.BACKUP_S3_ACCESS_KEY_ID, settings.BACKUP_S3_SECRET_ACCESS_KEY = (
            ACCESS_KEY,
            SECRET_KEY,
        )
        result = backup_create(where=f"s3://{bucket}/nightly")
        (key,) = server.keys(bucket)
        assert key.startswith("nightly/vaidya-") and result.location == f"s3://{bucket}/{key}"
        assert not [p for p in settings.DATA_DIR.iterdir() if p.name.startswith(".backup")]
        out = StringIO()
        call_command("backup", "--verify", result.location, stdout=out)
        assert "Archive OK" in out.getvalue()
    finally:
        server_cm.__exit__(None, None, None)


# --- retention ----------------------------------------------------------------------------------


def test_retention_keeps_seven_daily_four_weekly_twelve_monthly():
    now = datetime(2027, 6, 30, 2, 30, tzinfo=UTC)
    # Two archives a day for 500 days.
    times = [now - timedelta(hours=12 * i) for i in range(1000)]
    keep = archives_to_keep(times)
    days = sorted({t.date() for t in keep}, reverse=True)
    assert days[:7] == [(now - timedelta(days=i)).date() for i in range(7)]
    assert all(t.hour == 14 for t in keep if t.date() == now.date() - timedelta(days=1))
    months = {(t.year, t.month) for t in keep}
    assert len(months) == 12 and (2026, 7) in months and (2026, 6) not in months
    weeks = {t.isocalendar()[:2] for t in keep}
    assert len(weeks) >= 4
    assert len(keep) <= 7 + 4 + 12
    assert max(times) in keep


def test_retention_deletes_only_what_it_no_longer_keeps(owner, settings):
    folder = Path(settings.BACKUP_DESTINATION)
    folder.mkdir()
    start = datetime(2027, 1, 1, 2, 30, tzinfo=UTC)
    for i in range(40):
        (folder / f"vaidya-{start + timedelta(days=i):%Y%m%dT%H%M%SZ}.vbak").write_bytes(b"x")
    (folder / "notes.txt").write_text("the operator's own file")
    result = backup_create()
    left = sorted(p.name for p in folder.iterdir())
    assert "notes.txt" in left
    assert Path(result.location).name in left
    assert len(result.deleted) == 41 - (len(left) - 1)
    assert "vaidya-20270109T023000Z.vbak" not in left  # neither recent, nor a week's, nor a month's
    assert "vaidya-20270131T023000Z.vbak" in left  # January's newest


# --- the schedule, the alert and the dashboard --------------------------------------------------


def test_the_daily_backup_is_scheduled_with_its_own_timeout(db, settings):
    specs = {s["name"]: s for s in declared_schedules()}
    daily = specs["vaidya.backup_daily"]
    assert daily["func"] == "clinics.backups.tasks.backup_daily"
    assert daily["cron"] == settings.BACKUP_CRON
    assert str(settings.BACKUP_TIMEOUT_SECONDS) in daily["kwargs"]
    assert specs["vaidya.backup_check"]["func"] == "clinics.backups.tasks.backup_check"
    call_command("sync_schedules", stdout=StringIO())


def test_the_check_logs_an_error_when_the_last_good_backup_is_older_than_two_days(db, caplog):
    caplog.set_level(logging.ERROR, logger="vaidya.backups")
    assert backup_check() is False  # never backed up
    BackupRun.objects.create(
        status=BackupStatus.SUCCEEDED, started_at=timezone.now() - timedelta(hours=49)
    )
    BackupRun.objects.create(status=BackupStatus.FAILED, problem="The disk is full")
    assert backup_check() is False
    assert "No good backup in the last 48 hours" in caplog.text
    caplog.clear()
    BackupRun.objects.create(
        status=BackupStatus.SUCCEEDED, started_at=timezone.now() - timedelta(hours=47)
    )
    assert backup_check() is True and not backup_health().stale
    assert caplog.text == ""


def _dashboard(client_for, member) -> str:
    return client_for(member).get(reverse("dashboard", args=[member.clinic.slug])).content.decode()


def test_owners_see_the_last_good_backup_and_a_warning_when_it_is_old(
    client_for, owner, member_factory
):
    html = _dashboard(client_for, owner)
    assert 'id="backup-status"' in html and "No backup has been made yet." in html

    BackupRun.objects.create(
        status=BackupStatus.SUCCEEDED,
        started_at=timezone.now() - timedelta(days=3),
        archive="/srv/backups/vaidya-20270101T023000Z.vbak",
        size=5_400_000,
    )
    BackupRun.objects.create(status=BackupStatus.FAILED, problem="The disk holding x is full.")
    html = _dashboard(client_for, owner)
    assert "No good backup for more than 48 hours." in html
    assert "vaidya-20270101T023000Z.vbak" in html and "5.1\xa0MB" in html
    assert "The latest attempt failed" in html and "The disk holding x is full." in html

    BackupRun.objects.create(status=BackupStatus.SUCCEEDED, archive="/srv/b/new.vbak", size=1)
    html = _dashboard(client_for, owner)
    assert "No good backup" not in html and "new.vbak" in html

    assert 'id="backup-status"' not in _dashboard(
        client_for, member_factory(owner.clinic, Role.DOCTOR)
    )


# --- runs that overlap or never finish ------------------------------------------------------


def test_the_schedule_does_not_start_a_second_backup_while_one_runs(owner, settings, caplog):
    # The ORM broker hands the daily task out again after Q_RETRY seconds, long before a large
    # installation's backup ends: the second delivery must not start another backup.
    running = BackupRun.objects.create(started_at=timezone.now() - timedelta(minutes=5))
    caplog.set_level(logging.INFO, logger="vaidya.backups")
    assert "is still running; this one was not started" in backup_daily()
    assert list(BackupRun.objects.values_list("pk", flat=True)) == [running.pk]
    assert not Path(settings.BACKUP_DESTINATION).exists()
    # An operator's own `manage.py backup` still runs.
    assert backup_create(trigger="command").location
    assert BackupRun.objects.filter(status=BackupStatus.SUCCEEDED).count() == 1


def test_a_run_left_running_past_its_timeout_is_recorded_as_interrupted(owner, settings):
    settings.BACKUP_TIMEOUT_SECONDS = 3600
    stuck = BackupRun.objects.create(started_at=timezone.now() - timedelta(hours=2))
    assert backup_health().running is False
    location = backup_daily()
    assert location.endswith(".vbak")
    stuck.refresh_from_db()
    assert stuck.status == BackupStatus.FAILED and stuck.problem == runs.INTERRUPTED
    assert BackupRun.objects.get(archive=location).status == BackupStatus.SUCCEEDED


def test_restoring_settles_the_runs_the_archive_recorded_as_running(db):
    made_at = timezone.now() - timedelta(minutes=1)
    done = BackupRun.objects.create(status=BackupStatus.SUCCEEDED, archive="/b/old.vbak", size=9)
    older = BackupRun.objects.create(started_at=made_at - timedelta(minutes=30))
    maker = BackupRun.objects.create(started_at=made_at - timedelta(minutes=2))
    runs.runs_settle_after_restore(
        manifest={"created_at": made_at.isoformat()}, location="/b/new.vbak", size=1234
    )
    maker.refresh_from_db(), older.refresh_from_db(), done.refresh_from_db()
    assert (maker.status, maker.archive, maker.size) == ("succeeded", "/b/new.vbak", 1234)
    assert maker.finished_at == made_at
    assert older.status == "failed" and older.problem == runs.IN_ARCHIVE
    assert (done.status, done.archive) == ("succeeded", "/b/old.vbak")
    assert not BackupRun.objects.filter(status=BackupStatus.RUNNING).exists()


# --- the alert ------------------------------------------------------------------------------


def test_the_alert_is_mailed_once_a_day_to_the_owners(owner, member_factory, settings, mailoutbox):
    settings.BACKUP_ALERT_EMAILS = []
    member_factory(owner.clinic, Role.DOCTOR)  # not an owner: not told
    cache.clear()
    assert backup_check() is False
    assert backup_check() is False  # the next hour's check
    (mail,) = mailoutbox
    assert mail.to == [owner.user.email]
    assert "no good backup in the last 48 hours" in mail.subject
    assert "manage.py backup" in mail.body and "there is none" in mail.body

    settings.BACKUP_ALERT_EMAILS = ["ops@example.in"]
    cache.clear()  # another day
    BackupRun.objects.create(
        status=BackupStatus.SUCCEEDED, started_at=timezone.now() - timedelta(days=3)
    )
    assert backup_check() is False
    assert mailoutbox[-1].to == ["ops@example.in"] and "the last one started" in mailoutbox[-1].body

    BackupRun.objects.create(status=BackupStatus.SUCCEEDED)
    cache.clear()
    assert backup_check() is True and len(mailoutbox) == 2


def test_owners_see_a_backup_that_is_running(client_for, owner, settings):
    settings.BACKUP_TIMEOUT_SECONDS = 3600
    run = BackupRun.objects.create()
    assert "A backup is running" in _dashboard(client_for, owner)
    BackupRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(hours=2))
    assert "A backup is running" not in _dashboard(client_for, owner)
