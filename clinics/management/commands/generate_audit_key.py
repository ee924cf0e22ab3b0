"""Print a new key for AUDIT_KEYS."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from clinics.audit_keys import generate_audit_key


class Command(BaseCommand):
    help = "Print a new random key for the AUDIT_KEYS setting (the key that seals the audit trail)."

    def handle(self, *args, **options):
        self.stdout.write(generate_audit_key())
