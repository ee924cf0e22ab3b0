"""Print a new key for BACKUP_KEYS."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from clinics.backups.keys import generate_backup_key


class Command(BaseCommand):
    help = (
        "Print a new random key for the BACKUP_KEYS setting (the key that encrypts backup "
        "archives). Keep a copy away from this machine and from the archives."
    )
    requires_system_checks = []

    def handle(self, *args, **options):
        self.stdout.write(generate_backup_key())
