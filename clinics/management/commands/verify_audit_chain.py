"""Seal pending audit events, then check every clinic's hash chain link by link."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from clinics.audit import audit_seal, audit_verify
from clinics.context import actor_context
from clinics.management.commands._util import clinic_by_slug
from clinics.models import Clinic


class Command(BaseCommand):
    help = (
        "Verify the audit trail's hash chain of every clinic (or one). Seals pending events "
        "first unless --no-seal. Exits with status 1 when a chain is broken."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clinic", default="", help="Only this clinic (short name).")
        parser.add_argument(
            "--no-seal", action="store_true", help="Verify only; leave pending events unsealed."
        )

    def handle(self, *args, **options):
        if options["clinic"]:
            clinics = [clinic_by_slug(options["clinic"])]
        else:
            clinics = list(Clinic.objects.order_by("slug"))
        if not clinics:
            self.stdout.write("No clinics yet: nothing to verify.")
            return

        broken: list[str] = []
        with actor_context(via="command"):
            for clinic in clinics:
                sealed = 0 if options["no_seal"] else audit_seal(clinic_id=clinic.pk)
                report = audit_verify(clinic_id=clinic.pk)
                details = f"{report.checked} events checked"
                if sealed:
                    details += f", {sealed} newly sealed"
                if report.unsealed:
                    details += f", {report.unsealed} not sealed yet"
                if report.ok:
                    self.stdout.write(f"OK      {clinic.slug}: {details}")
                else:
                    self.stdout.write(
                        self.style.ERROR(f"BROKEN  {clinic.slug}: {report.problem} ({details})")
                    )
                    broken.append(f"{clinic.slug}: {report.problem}")
        if broken:
            raise CommandError(
                f"The audit trail of {len(broken)} clinic(s) is broken. First broken link: "
                + "; ".join(broken),
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(f"All {len(clinics)} audit chain(s) verified."))
