"""Check every clinic's audit chain (or one) link by link, without changing anything."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from clinics import audit_keys
from clinics.audit import ChainReport, audit_verify
from clinics.management.commands._util import clinic_by_slug
from clinics.models import Clinic


def _age(report: ChainReport) -> str:
    if report.oldest_unsealed_at is None:
        return ""
    minutes = int((timezone.now() - report.oldest_unsealed_at).total_seconds() // 60)
    return f" (oldest {minutes} min old)"


def _details(report: ChainReport) -> str:
    details = f"{report.checked} events checked"
    if report.pruned_to:
        details += f" (from #{report.pruned_to + 1}: older ones removed by the retention purge)"
    if report.unkeyed:
        details += f" ({report.unkeyed} sealed before keyed sealing, anchored)"
    details += f", {report.published} published heads compared"
    if report.unsealed:
        details += f", {report.unsealed} not sealed yet, so not verified{_age(report)}"
    return details


class Command(BaseCommand):
    help = (
        "Verify the audit trail's keyed chain of every clinic (or one) against the audit keys "
        "and the heads published outside the database. Reads only: events not sealed yet are "
        "counted, not verified. Exits with status 1 when a chain is broken, 2 when AUDIT_KEYS is "
        "not usable."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clinic", default="", help="Only this clinic (short name).")

    def handle(self, *args, **options):
        if options["clinic"]:
            clinics = [clinic_by_slug(options["clinic"])]
        else:
            clinics = list(Clinic.objects.order_by("slug"))
        if not clinics:
            self.stdout.write("No clinics yet: nothing to verify.")
            return

        try:
            audit_keys.current_key()
        except ImproperlyConfigured as exc:  # AUDIT_KEYS missing or malformed
            raise CommandError(str(exc), returncode=2) from exc
        broken: list[str] = []
        for clinic in clinics:
            report = audit_verify(clinic_id=clinic.pk)
            if report.ok:
                self.stdout.write(f"OK      {clinic.slug}: {_details(report)}")
            else:
                self.stdout.write(
                    self.style.ERROR(
                        f"BROKEN  {clinic.slug}: {report.problem} ({_details(report)})"
                    )
                )
                broken.append(f"{clinic.slug}: {report.problem}")
        if broken:
            raise CommandError(
                f"The audit trail of {len(broken)} clinic(s) is broken. First broken link: "
                + "; ".join(broken),
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(f"All {len(clinics)} audit chain(s) verified."))
