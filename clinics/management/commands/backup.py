"""Back up the whole installation, or check an archive (`--verify`)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from clinics.backups.errors import BackupError
from clinics.backups.restore import archive_verify
from clinics.backups.runs import backup_create


class Command(BaseCommand):
    help = (
        "Back up the database (a consistent snapshot while Vaidya runs), the stored files (or, "
        "on S3/R2, the list of their objects) and a manifest into one archive encrypted with "
        "the backup key, written to BACKUP_DESTINATION (a folder or s3://bucket/prefix). "
        "`--verify ARCHIVE` checks an archive without restoring it. Exit status 1 on failure."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--to", default="", help="A folder or s3://bucket/prefix (default: BACKUP_DESTINATION)."
        )
        parser.add_argument(
            "--verify", metavar="ARCHIVE", default="", help="Check this archive; restore nothing."
        )

    def handle(self, *args, **options):
        try:
            if options["verify"]:
                self._verify(options["verify"])
            else:
                self._backup(options["to"])
        except BackupError as exc:
            raise CommandError(str(exc), returncode=exc.exit_status) from exc

    def _progress(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def _backup(self, where: str) -> None:
        result = backup_create(where=where, trigger="command", progress=self._progress)
        manifest = result.manifest
        for name in result.deleted:
            self.stdout.write(f"Removed by retention: {name}")
        self.stdout.write(
            self.style.SUCCESS(f"Backup written and checked: {result.location}")
            + f"\nOpening it needs backup key {manifest['keys']['backup']}; its data needs "
            f"ENCRYPTION_KEYS {', '.join(manifest['keys']['encryption'])} and AUDIT_KEYS "
            f"{', '.join(manifest['keys']['audit'])}. Keep those keys away from this machine "
            "and from the archives."
        )

    def _verify(self, archive: str) -> None:
        manifest = archive_verify(archive=archive)
        counts = manifest["database"]["counts"]
        self.stdout.write(
            self.style.SUCCESS(f"Archive OK: {archive}")
            + f"\nMade {manifest['created_at']} by Vaidya {manifest['vaidya_version']}: "
            f"{manifest['database']['vendor']} database ({sum(counts.values())} rows in "
            f"{len(counts)} tables), {manifest['files']['count']} files "
            f"({manifest['files']['storage']} storage)."
        )
