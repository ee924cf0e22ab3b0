"""Run the local Razorpay simulator (development only: fake keys, no Razorpay)."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from devtools.razorpay_simulator import Simulator


class Command(BaseCommand):
    help = (
        "Start a local Razorpay simulator (payment links, plans, subscriptions, signed webhooks, "
        "a page where the patient pays). Point RAZORPAY_API_BASE_URL at it. Give --key-id, "
        "--key-secret, --webhook-secret and --webhook-url once per account, in the same order."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8026)
        for name in ("key-id", "key-secret", "webhook-secret", "webhook-url"):
            parser.add_argument(f"--{name}", action="append", default=[])

    def handle(self, *args, **options):
        accounts = list(
            zip(
                options["key_id"],
                options["key_secret"],
                options["webhook_secret"],
                options["webhook_url"],
                strict=False,
            )
        )
        if len({len(options[k]) for k in ("key_id", "key_secret", "webhook_secret")}) > 1:
            raise CommandError("Give one --key-secret and --webhook-secret per --key-id.")
        if not 0 <= options["port"] <= 65535:
            raise CommandError("The port must be a number from 0 to 65535.")
        simulator = Simulator(host=options["host"], port=options["port"])
        for key_id, key_secret, webhook_secret, webhook_url in accounts:
            simulator.add_account(
                key_id, key_secret, webhook_secret=webhook_secret, webhook_url=webhook_url
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
            self.stdout.write(self.style.SUCCESS(f"Razorpay simulator: {simulator.base_url}"))
            for key_id, _secret, _webhook_secret, webhook_url in accounts:
                self.stdout.write(f"  key {key_id}: webhooks to {webhook_url or '(none)'}")
            self.stdout.write("Press Ctrl-C to stop.")
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            simulator.stop()
            self.stdout.write("Simulator stopped.")
