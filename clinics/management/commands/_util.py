"""Shared bits of Vaidya's management commands."""

from __future__ import annotations

from django.core.management.base import CommandError

from clinics.errors import DomainError, ValidationFailed
from clinics.models import Clinic


def domain_error_message(exc: DomainError) -> str:
    """A service's error as one line for the terminal."""
    if isinstance(exc, ValidationFailed):
        return "; ".join(
            f"{field}: {' '.join(messages)}" if field != "__all__" else " ".join(messages)
            for field, messages in exc.errors.items()
        )
    return f"{exc.field}: {exc.message}" if exc.field else exc.message


def clinic_by_slug(slug: str) -> Clinic:
    """The clinic with this short name (`Clinic` is the tenant root: not scoped)."""
    clinic = Clinic.objects.filter(slug=(slug or "").strip()).first()
    if clinic is None:
        raise CommandError(f"No clinic has the short name {slug!r} (the `slug` in its address).")
    return clinic
