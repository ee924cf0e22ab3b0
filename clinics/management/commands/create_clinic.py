"""Create a clinic and its owner's account from the command line."""

from __future__ import annotations

import getpass
import sys

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email, validate_slug
from django.db import transaction

from clinics.context import actor_context
from clinics.errors import DomainError
from clinics.management.commands._util import domain_error_message
from clinics.models import User
from clinics.services import clinic_create
from clinics.states import STATE_NAMES


class Command(BaseCommand):
    help = "Create a clinic with an owner (the owner's account is created when it is new)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="The clinic's name.")
        parser.add_argument(
            "--state-code", required=True, help="Two-digit GST state code, e.g. 29 (Karnataka)."
        )
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-name", default="", help="Needed when the account is new.")
        parser.add_argument("--slug", default="", help="Short name in the address (/c/<slug>/).")
        parser.add_argument(
            "--password",
            default="",
            help="Password for a new owner account (asked for when left out).",
        )

    def handle(self, *args, **options):
        name = " ".join(options["name"].split())
        if not name:
            raise CommandError("Give the clinic a name with --name.")
        state_code = options["state_code"].strip().zfill(2)
        if state_code not in STATE_NAMES:
            raise CommandError(
                f"Unknown state code {options['state_code']!r}. Use the two-digit GST state "
                "code, for example 29 for Karnataka or 27 for Maharashtra."
            )
        email = options["owner_email"].strip().lower()
        try:
            validate_email(email)
        except ValidationError as exc:
            raise CommandError(f"{options['owner_email']!r} is not a valid email address.") from exc
        slug = options["slug"].strip().lower()
        if slug:
            try:
                validate_slug(slug)
            except ValidationError as exc:
                raise CommandError(
                    "The short name may use only letters, digits, hyphens and underscores."
                ) from exc

        owner = User.objects.filter(email__iexact=email).first()
        password = ""
        if owner is None:
            full_name = " ".join(options["owner_name"].split())
            if not full_name:
                raise CommandError(f"There is no account for {email}: give --owner-name.")
            try:
                User._meta.get_field("full_name").run_validators(full_name)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            password = options["password"] or self._ask_password(email)
            try:
                validate_password(password, User(email=email, full_name=full_name))
            except ValidationError as exc:
                raise CommandError("Password refused: " + " ".join(exc.messages)) from exc

        with transaction.atomic(), actor_context(via="command"):
            created_owner = owner is None
            if owner is None:
                owner = User.objects.create_user(email, password, full_name=full_name)
            try:
                clinic = clinic_create(name=name, state_code=state_code, owner=owner, slug=slug)
            except DomainError as exc:
                raise CommandError(domain_error_message(exc)) from exc

        account = "new account" if created_owner else "existing account"
        self.stdout.write(
            self.style.SUCCESS(
                f"Created clinic {clinic.name!r} (short name {clinic.slug}, "
                f"{clinic.state_name}) with owner {owner.email} ({account})."
            )
        )
        self.stdout.write(f"Sign in at {settings.SITE_URL}/c/{clinic.slug}/")

    def _ask_password(self, email: str) -> str:
        if not sys.stdin.isatty():
            raise CommandError(f"Give --password for the new account {email} (no terminal).")
        first = getpass.getpass(f"Password for {email}: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ.")
        return first
