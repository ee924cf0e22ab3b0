"""Create the demo clinic "Sanjeevani Family Clinic" with staff and patients."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clinics.audit import audit_seal
from clinics.context import actor_context
from clinics.demo import (
    DEMO_CLINIC_NAME,
    DEMO_PASSWORD,
    DEMO_SEED,
    DEMO_SLUG,
    DemoContext,
    demo_clinic,
    demo_logins,
    demo_reset_passwords,
    run_demo_steps,
)
from clinics.errors import DomainError
from clinics.management.commands._util import domain_error_message

MAX_PATIENTS = 100_000


class Command(BaseCommand):
    help = (
        f"Create the demo clinic {DEMO_CLINIC_NAME!r} (short name {DEMO_SLUG}) with six staff "
        "accounts and patients. Every demo account shares one printed password."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Do nothing (but print the logins) when the demo clinic exists.",
        )
        parser.add_argument(
            "--patients", type=int, default=300, help="How many patients (default 300)."
        )
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Give every demo account the demo password again.",
        )

    def handle(self, *args, **options):
        patients = options["patients"]
        if not 0 <= patients <= MAX_PATIENTS:
            raise CommandError(f"--patients must be a number from 0 to {MAX_PATIENTS}.")

        quiet = options["verbosity"] == 0  # `make run`: run_local prints the sign-ins
        if demo_clinic() is not None:
            if options["reset_passwords"]:
                count = demo_reset_passwords(DEMO_PASSWORD)
                self.stdout.write(f"Reset the password of {count} demo account(s).")
            elif not options["if_missing"]:
                raise CommandError(
                    f"The demo clinic ({DEMO_SLUG}) exists already. Use --if-missing to leave it "
                    "as it is, or --reset-passwords to restore the demo password."
                )
            if not quiet:
                self.stdout.write("The demo clinic exists already: nothing created.")
                self.print_logins()
            return

        if quiet:
            self.stdout.write(f"Creating the demo clinic with {patients} patients...")
        started = time.monotonic()
        demo = DemoContext(patients=patients, password=DEMO_PASSWORD, seed=DEMO_SEED)
        try:
            with transaction.atomic(), actor_context(via="command"):
                run_demo_steps(demo)
        except DomainError as exc:
            raise CommandError(f"Seeding the demo failed: {domain_error_message(exc)}") from exc
        # Seal the new trail now, so the demo's audit chain verifies without waiting for the
        # schedule.
        sealed = audit_seal(clinic_id=demo.clinic.pk) if demo.clinic else 0
        if quiet:
            return
        for line in demo.summary:
            self.stdout.write(f"Created {line}.")
        self.stdout.write(f"Sealed {sealed} audit events. Took {time.monotonic() - started:.1f} s.")
        self.print_logins()

    def print_logins(self) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo clinic {DEMO_CLINIC_NAME}: {settings.SITE_URL}/c/{DEMO_SLUG}/ "
                f"(password for every account: {DEMO_PASSWORD})"
            )
        )
        for role, email in demo_logins():
            self.stdout.write(f"  {role:<18} {email}")
