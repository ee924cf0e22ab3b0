"""Reconciliation: the links still open are fetched from Razorpay and moved forward to match.

Razorpay retries a webhook for 24 hours and then gives up; a link paid while our webhook
endpoint was down would stay "sent" for ever. The `vaidya.payment_links_reconcile` schedule
repairs that, clinic by clinic (`for_each_clinic`). A link is fetched at most once per
`RECONCILE_EVERY` and only while open and not long past its expiry.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from billing.razorpay.accounts import account_for_clinic, client_for
from billing.razorpay.client import RazorpayFailed
from billing.razorpay.links import payment_link_sync
from billing.razorpay.models import OPEN_LINK_STATUSES, PaymentLink

logger = logging.getLogger(__name__)

RECONCILE_EVERY = timedelta(minutes=10)
AFTER_EXPIRY = timedelta(days=2)
BATCH = 200


def payment_links_reconcile(*, clinic_id: int, force: bool = False) -> int:
    """Fetch this clinic's open links from Razorpay and move ours forward (inside its scope);
    returns how many changed. A Razorpay failure stops this clinic's run, logged by id."""
    account = account_for_clinic(clinic_id)
    if account is None:
        return 0
    now = timezone.now()
    links = PaymentLink.objects.filter(clinic_id=clinic_id, status__in=OPEN_LINK_STATUSES).filter(
        Q(expire_by__isnull=True) | Q(expire_by__gt=now - AFTER_EXPIRY)
    )
    if not force:
        links = links.filter(
            Q(last_synced_at__isnull=True) | Q(last_synced_at__lt=now - RECONCILE_EVERY)
        )
    client = client_for(account)
    changed = 0
    for link in links.order_by("last_synced_at", "pk")[:BATCH]:
        try:
            answer = client.payment_link_fetch(link.razorpay_link_id)
        except RazorpayFailed as exc:
            logger.warning("reconciling link %s stopped: %s", link.pk, exc.message)
            break
        changed += payment_link_sync(link=link, answer=answer)
    return changed
