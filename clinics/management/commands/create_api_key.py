"""Create an API key for a clinic and print its token once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clinics.context import actor_context
from clinics.errors import DomainError
from clinics.management.commands._util import clinic_by_slug, domain_error_message
from clinics.roles import Role
from clinics.services import api_key_create
from clinics.tenancy import clinic_scope


class Command(BaseCommand):
    help = "Create an API key for a clinic. The token is printed once and never stored."

    def add_arguments(self, parser):
        parser.add_argument("--clinic", required=True, help="The clinic's short name (slug).")
        parser.add_argument("--name", required=True, help="Which system will use the key.")
        parser.add_argument(
            "--role",
            required=True,
            help=f"The key may do what this role may do: {', '.join(Role.values)}.",
        )
        parser.add_argument(
            "--read-write",
            action="store_true",
            help="Allow changes too (keys are read-only unless this is given).",
        )

    def handle(self, *args, **options):
        role = options["role"].strip().lower().replace("-", "_")
        if role not in Role.values:
            raise CommandError(
                f"Unknown role {options['role']!r}. Choose one of: {', '.join(Role.values)}."
            )
        clinic = clinic_by_slug(options["clinic"])
        read_only = not options["read_write"]
        with transaction.atomic(), actor_context(via="command"), clinic_scope(clinic):
            try:
                key, token = api_key_create(
                    clinic=clinic, actor=None, name=options["name"], role=role, read_only=read_only
                )
            except DomainError as exc:
                raise CommandError(domain_error_message(exc)) from exc
        access = "read-only" if read_only else "read and write"
        self.stdout.write(
            self.style.SUCCESS(
                f"Created API key {key.name!r} for {clinic.name}: role {Role(role).label}, "
                f"{access}."
            )
        )
        self.stdout.write("Token (shown only now; store it safely, it cannot be shown again):")
        self.stdout.write(token)
