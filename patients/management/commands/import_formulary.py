"""Import a formulary CSV (or the starter formulary) into a clinic's drug list."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clinics.errors import DomainError, ValidationFailed
from clinics.management.commands._util import clinic_by_slug, domain_error_message
from clinics.tenancy import in_clinic
from patients.prescribing.formulary import COLUMNS, FORMULARY_PATH
from patients.services.prescriptions import formulary_import


class Command(BaseCommand):
    help = (
        "Import a formulary CSV into a clinic's drug list: new drugs are added, listed ones get "
        "the file's ATC code, doses and brand names. Any bad row refuses the whole file. "
        f"Columns: {', '.join(COLUMNS)}."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clinic", required=True, help="The clinic's short name (slug).")
        parser.add_argument(
            "path",
            nargs="?",
            help="The CSV file (UTF-8). Without it, the starter formulary shipped with Vaidya.",
        )

    def handle(self, *args, **options):
        clinic = clinic_by_slug(options["clinic"])
        path = Path(options["path"]) if options["path"] else FORMULARY_PATH
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Could not read {path} as UTF-8 text: {exc}") from exc
        try:
            with in_clinic(clinic.pk, via="command"):
                added, updated = formulary_import(clinic=clinic, actor=None, text=text)
        except ValidationFailed as exc:
            lines = [m for messages in exc.errors.values() for m in messages]
            raise CommandError("Nothing was imported:\n" + "\n".join(lines)) from exc
        except DomainError as exc:
            raise CommandError(domain_error_message(exc)) from exc
        self.stdout.write(f"Imported into {clinic.slug}: {added} drugs added, {updated} updated.")
