"""Run the local WhatsApp Cloud API simulator (development only: fake numbers, no Meta)."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from devtools.whatsapp_simulator import SimNumber, Simulator


class Command(BaseCommand):
    help = (
        "Start a local WhatsApp Cloud API simulator with a patient's-phone page. Point "
        "WHATSAPP_API_BASE_URL at it; it sends signed webhooks to --webhook-url. Give "
        "--phone-number-id and --token once per business number (paired in order)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8025)
        parser.add_argument("--webhook-url", default="", help="Where to POST webhooks.")
        parser.add_argument("--app-secret", default="simulator-app-secret")
        parser.add_argument("--phone-number-id", action="append", dest="phone_number_ids")
        parser.add_argument("--token", action="append", dest="tokens")
        parser.add_argument("--waba-id", default="200000000000001")
        parser.add_argument("--display-phone-number", default="919800000001")
        parser.add_argument("--verified-name", default="Vaidya Demo Clinic")
        parser.add_argument(
            "--status-delay",
            type=float,
            default=1.0,
            help="Seconds between the sent, delivered and read webhooks.",
        )
        parser.add_argument(
            "--auto-approve-templates",
            action="store_true",
            help="Approve new templates at once instead of leaving them PENDING.",
        )

    def handle(self, *args, **options):
        ids = options["phone_number_ids"] or ["100000000000001"]
        tokens = options["tokens"] or ["simulator-token"]
        if len(ids) != len(tokens):
            raise CommandError("Give one --token for each --phone-number-id, in the same order.")
        if not 0 <= options["port"] <= 65535:
            raise CommandError("The port must be a number from 0 to 65535.")
        numbers = [
            SimNumber(
                phone_number_id=pnid.strip(),
                token=token,
                waba_id=options["waba_id"],
                display_phone_number=(
                    options["display_phone_number"]
                    if position == 0
                    else str(int(options["display_phone_number"]) + position)
                ),
                verified_name=options["verified_name"],
            )
            for position, (pnid, token) in enumerate(zip(ids, tokens, strict=True))
        ]
        simulator = Simulator(
            numbers,
            app_secret=options["app_secret"],
            webhook_url=options["webhook_url"] or None,
            host=options["host"],
            port=options["port"],
            status_delay=options["status_delay"],
            auto_approve_templates=options["auto_approve_templates"],
        )
        try:
            simulator.start()
        except OSError as exc:
            raise CommandError(
                f"Could not listen on {options['host']}:{options['port']}: {exc}"
            ) from None
        stop = threading.Event()
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            self.stdout.write(self.style.SUCCESS(f"WhatsApp simulator: {simulator.base_url}/"))
            self.stdout.write(f"  Graph API base URL: {simulator.base_url}")
            for number in numbers:
                self.stdout.write(
                    f"  phone_number_id {number.phone_number_id} "
                    f"(WABA {number.waba_id}, +{number.display_phone_number})"
                )
            self.stdout.write(f"  webhooks to: {options['webhook_url'] or '(none: only recorded)'}")
            self.stdout.write("Press Ctrl-C to stop.")
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            simulator.stop()
            self.stdout.write("Simulator stopped.")
