"""See and replay stored WhatsApp webhook deliveries that were not processed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from clinics.context import actor_context
from clinics.formatting import format_datetime
from clinics.management.commands._util import clinic_by_slug
from messaging.services.webhook_backlog import (
    webhook_backlog,
    webhook_deliveries_replay,
    webhook_failures,
)


class Command(BaseCommand):
    help = (
        "status: stored WhatsApp webhook deliveries per clinic (waiting for a worker, or failed "
        "and kept) and the latest failures. replay: process stored deliveries now, in this "
        "process (after fixing what made them fail). Processing twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["status", "replay"])
        parser.add_argument("--clinic", help="Only this clinic (its short name, the slug).")
        parser.add_argument(
            "--id",
            type=int,
            action="append",
            dest="ids",
            metavar="DELIVERY_ID",
            help="Only this delivery (repeat for several); ids are shown by `status`.",
        )

    def handle(self, *args, **options):
        clinic = clinic_by_slug(options["clinic"]) if options["clinic"] else None
        clinic_id = clinic.pk if clinic else None
        if options["action"] == "status":
            if options["ids"]:
                raise CommandError("--id is for replay; status lists every stored delivery.")
            self._status(clinic_id)
            return
        ids = options["ids"]
        if ids and any(i <= 0 for i in ids):
            raise CommandError("A delivery id is a positive number.")
        # The deliveries are processed clinic by clinic, each in its own scope.
        with actor_context(via="command"):
            report = webhook_deliveries_replay(clinic_id=clinic_id, ids=ids)
        if ids:
            missing = sorted(set(ids) - set(report.processed) - set(report.gone))
            missing = [i for i in missing if i not in {pk for pk, _ in report.failed}]
            if missing:
                self.stderr.write(
                    "Not stored (already processed, or another clinic's): "
                    + ", ".join(str(i) for i in missing)
                )
        if not report.ok:
            raise CommandError(report.summary(), returncode=1)
        self.stdout.write(self.style.SUCCESS(report.summary()))

    def _status(self, clinic_id: int | None) -> None:
        rows = webhook_backlog(clinic_id=clinic_id)
        tz = timezone.get_current_timezone()
        if not rows:
            self.stdout.write(self.style.SUCCESS("No stored webhook deliveries: all processed."))
            return
        for row in rows:
            self.stdout.write(
                f"{row.clinic_name} (clinic {row.clinic_id}): {row.waiting} waiting, "
                f"{row.failed} failed; oldest {format_datetime(row.oldest, tz)}, "
                f"newest {format_datetime(row.newest, tz)}"
            )
        failures = webhook_failures(clinic_id=clinic_id)
        if failures:
            self.stdout.write("Latest failures:")
            for failure in failures:
                self.stdout.write(
                    f"  delivery {failure['id']} (clinic {failure['clinic_id']}), received "
                    f"{format_datetime(failure['received_at'], tz)}, {failure['attempts']} "
                    f"attempt(s): {failure['error'] or 'failed'}"
                )
