"""Restore an archive made by `manage.py backup` into an empty installation."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from clinics.backups.errors import BackupError
from clinics.backups.restore import backup_restore


class Command(BaseCommand):
    help = (
        "Restore ARCHIVE (a file or s3://bucket/key) into this installation. Checks the backup "
        "key, every checksum, the migration state (refuses an archive from a newer Vaidya) and "
        "the data keys first, and refuses a database that holds data unless --force. Afterwards "
        "verifies every clinic's audit chain and compares the rows per table. Stop Vaidya's web "
        "and worker processes first. Exit status 1 when refused or when a check fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument(
            "--force", action="store_true", help="Replace a database that already holds data."
        )

    def handle(self, *args, **options):
        try:
            report = backup_restore(
                archive=options["archive"], force=options["force"], progress=self._progress
            )
        except BackupError as exc:
            raise CommandError(f"Restore refused: {exc}", returncode=exc.exit_status) from exc
        for line in report.chains:
            self.stdout.write(f"Audit chain OK: {line}")
        self.stdout.write(f"Files restored: {report.files}")
        if report.problems:
            raise CommandError(
                "Restored, but the checks found problems: " + "; ".join(report.problems),
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(
                "Restored and checked: the rows per table match the archive and every audit "
                "chain verifies. Run `manage.py migrate` if this Vaidya is newer than the archive."
            )
        )

    def _progress(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()
