"""Print a new value for SECRET_KEY."""

from __future__ import annotations

import secrets

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print a new random secret key for the SECRET_KEY setting."
    requires_system_checks = []

    def handle(self, *args, **options):
        self.stdout.write(secrets.token_urlsafe(50))
