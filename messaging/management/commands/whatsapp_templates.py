"""Submit Vaidya's default WhatsApp templates for Meta's review, or sync the clinic's templates."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from clinics.context import actor_context
from clinics.errors import DomainError
from clinics.management.commands._util import clinic_by_slug, domain_error_message
from clinics.tenancy import clinic_scope
from messaging.services.templates import templates_submit_defaults, templates_sync


class Command(BaseCommand):
    help = (
        "submit: send Vaidya's default templates (English and Hindi) to Meta for review. "
        "sync: read the clinic's templates and their review status from Meta."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["submit", "sync"])
        parser.add_argument("--clinic", required=True, help="The clinic's short name (slug).")

    def handle(self, *args, **options):
        clinic = clinic_by_slug(options["clinic"])
        with actor_context(via="command"), clinic_scope(clinic):
            try:
                if options["action"] == "sync":
                    report = templates_sync(clinic=clinic, actor=None)
                    self.stdout.write(self.style.SUCCESS(report.summary()))
                    return
                report = templates_submit_defaults(clinic=clinic, actor=None)
            except DomainError as exc:
                raise CommandError(domain_error_message(exc)) from exc
        if not report.ok:
            raise CommandError(report.summary(), returncode=1)
        self.stdout.write(self.style.SUCCESS(report.summary()))
