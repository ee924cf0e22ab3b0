"""Print a new key for ENCRYPTION_KEYS."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from clinics.crypto import generate_key


class Command(BaseCommand):
    help = "Print a new random encryption key for the ENCRYPTION_KEYS setting."
    requires_system_checks = []

    def handle(self, *args, **options):
        self.stdout.write(generate_key())
