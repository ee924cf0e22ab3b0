"""Subscriptions' schedule: fetch the subscriptions still running from Razorpay, in case a
webhook was lost. The grace period needs no schedule: read-only is worked out from the time of
the first failed charge whenever it is asked."""

from __future__ import annotations

import logging

from django.conf import settings

from billing.subscriptions.models import ClinicSubscription
from billing.subscriptions.services import FINAL, subscription_refresh
from clinics.errors import DomainError
from clinics.tenancy import clinic_ids_with, for_each_clinic

logger = logging.getLogger(__name__)


def _refresh_clinic(clinic_id: int) -> int:
    changed = 0
    for subscription in ClinicSubscription.objects.filter(clinic_id=clinic_id).exclude(
        status__in=FINAL
    ):
        try:
            changed += subscription_refresh(subscription=subscription)
        except DomainError as exc:
            logger.warning("subscription %s not refreshed: %s", subscription.pk, exc.message)
    return changed


def reconcile_subscriptions() -> int:
    """Schedule: every clinic with a running subscription, in its own scope."""
    if not settings.RAZORPAY_PLATFORM_KEY_ID:
        return 0
    clinic_ids = clinic_ids_with(ClinicSubscription)
    results = for_each_clinic(
        _refresh_clinic, name="Reconciling subscriptions", clinic_ids=clinic_ids
    )
    return sum(results.values())
