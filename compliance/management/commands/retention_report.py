"""What the retention purge would erase today, per clinic and class (changes nothing)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from clinics.management.commands._util import clinic_by_slug
from clinics.models import Clinic
from clinics.tenancy import in_clinic
from compliance.personal_data import RETENTION_CLASSES
from compliance.purge import purge_clinic


class Command(BaseCommand):
    help = (
        "Dry run of the retention purge: for every clinic (or one), how many rows of each class "
        "of records are past the clinic's period and would be erased, and how many patients' "
        "whole records would be noticed or erased. Changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clinic", default="", help="Only this clinic (short name).")

    def handle(self, *args, **options):
        if options["clinic"]:
            clinics = [clinic_by_slug(options["clinic"])]
        else:
            clinics = list(Clinic.objects.filter(is_active=True).order_by("slug"))
        if not clinics:
            self.stdout.write("No clinics yet: nothing would be purged.")
            return
        for clinic in clinics:
            with in_clinic(clinic.pk, via="command"):
                counts = purge_clinic(clinic_id=clinic.pk, dry_run=True)
            self.stdout.write(f"{clinic.slug}:")
            for key, n in sorted(counts["classes"].items()):
                label = RETENTION_CLASSES[key].label
                self.stdout.write(f"  {label:<52} {n:>9} rows would go")
            for name, n in counts["kinds"].items():
                if n:
                    self.stdout.write(f"    {name:<50} {n:>9}")
            records = counts["records"]
            self.stdout.write(
                f"  Whole records past their period: {records['due']} "
                f"({records['noticed']} would be told, {records['erased']} erased)"
            )
            for problem in counts["problems"]:
                self.stdout.write(self.style.ERROR(f"  Problem: {problem}"))
