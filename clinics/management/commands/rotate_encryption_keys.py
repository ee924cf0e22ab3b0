"""Re-encrypt everything Vaidya keeps encrypted with the first key of ENCRYPTION_KEYS."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

import clinics.storage  # noqa: F401 - importing it registers the rotation of local files
from clinics import crypto


class Command(BaseCommand):
    help = (
        "Re-encrypt secrets and local files with the first key of ENCRYPTION_KEYS. Put the new "
        "key first, keep the old ones after it, run this, then remove the old keys."
    )

    def handle(self, *args, **options):
        try:
            crypto.encrypt(b"check")
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        failed = []
        for name, rotate in crypto.rotations():
            try:
                rotated, current = rotate()
            except crypto.DecryptionFailed:
                failed.append(name)
                self.stderr.write(
                    self.style.ERROR(
                        f"FAIL  {name}: a value opens with none of the configured keys. Put back "
                        "the key it was encrypted with (after the new one) and run this again."
                    )
                )
                continue
            self.stdout.write(f"OK    {name}: {rotated} re-encrypted, {current} already current")
        if failed:
            raise CommandError(f"Rotation incomplete for: {', '.join(failed)}.", returncode=1)
        self.stdout.write(
            self.style.SUCCESS("Everything is encrypted with the first key; older keys can go.")
        )
