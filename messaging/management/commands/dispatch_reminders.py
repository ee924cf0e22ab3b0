"""Send due WhatsApp reminders from this process (run several for parallel workers)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from clinics.context import actor_context
from messaging.services.dispatch import DEFAULT_BATCH, reminders_dispatch


class Command(BaseCommand):
    help = (
        "Claim due reminders in batches and send them. Safe to run in several processes at "
        "once: no reminder is sent twice. Without --loop it stops when nothing is due."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="Reminders per claim.")
        parser.add_argument(
            "--loop", action="store_true", help="Keep running; look for due reminders again."
        )
        parser.add_argument(
            "--until-empty",
            action="store_true",
            help="Stop as soon as no reminder is due (the default without --loop).",
        )
        parser.add_argument(
            "--interval", type=float, default=5.0, help="Seconds to wait when none is due (--loop)."
        )

    def handle(self, *args, **options):
        batch, interval = options["batch"], options["interval"]
        if not 1 <= batch <= 5000:
            raise CommandError("--batch must be between 1 and 5000.")
        if interval <= 0:
            raise CommandError("--interval must be more than 0 seconds.")
        if options["loop"] and options["until_empty"]:
            raise CommandError("Choose --loop or --until-empty, not both.")
        totals: dict[str, int] = {}
        claimed = 0
        try:
            while True:
                with actor_context(via="command"):
                    result = reminders_dispatch(batch=batch)
                claimed += result.claimed
                for status, count in result.statuses.items():
                    totals[status] = totals.get(status, 0) + count
                if result.claimed:
                    continue
                if not options["loop"]:
                    break
                time.sleep(interval)
        except KeyboardInterrupt:
            pass
        summary = ", ".join(f"{k} {v}" for k, v in sorted(totals.items())) or "nothing due"
        self.stdout.write(f"Claimed {claimed} reminders: {summary}.")
