"""What billing's services share: who may act, the clinic's GST standing, input errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

from django.utils import timezone

from billing.gst import GstInputError
from billing.models import BillingProfile
from clinics.actors import Access, Actor, require
from clinics.errors import ValidationFailed
from clinics.formatting import format_inr
from clinics.models import Clinic
from clinics.roles import Perm

CANNOT_BILL = "Your role at this clinic cannot create bills or record payments."


def require_billing(actor: Actor, clinic_id: int) -> Access:
    return require(actor, Perm.BILLING_EDIT, clinic_id=clinic_id, message=CANNOT_BILL)


def profile_of(clinic_id: int) -> BillingProfile | None:
    return BillingProfile.objects.filter(clinic_id=clinic_id).first()


def local_today(clinic: Clinic) -> date:
    return timezone.now().astimezone(clinic.tzinfo).date()


@contextmanager
def gst_errors() -> Iterator[None]:
    """billing.gst's refusals as the field errors forms and the API show."""
    try:
        yield
    except GstInputError as exc:
        raise ValidationFailed({exc.field or "__all__": [exc.message]}) from None


def rs(paise: int) -> str:
    """Paise as the clinic shows money: 123456 -> "Rs 1,234.56"."""
    return format_inr(Decimal(paise) / 100)
