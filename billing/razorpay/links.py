"""Payment links: created through the SDK, moved forward by webhooks, the callback page and
reconciliation, and handed to their owner once paid (`handlers.payment_link_handlers`)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from billing.razorpay.accounts import client_for, require_account
from billing.razorpay.client import RazorpayFailed, signature_valid
from billing.razorpay.handlers import handler_for
from billing.razorpay.models import LINK_RANK, LinkStatus, PaymentLink, RazorpayAccount
from clinics.actors import Actor
from clinics.audit import Actions, audit_record
from clinics.errors import DomainError, ValidationFailed
from clinics.models import Clinic

logger = logging.getLogger(__name__)

MIN_PAISE = 100  # Razorpay's minimum: Rs 1.00
MAX_PAISE = 5_00_00_000_00  # Rs 5 crore: far above any clinic bill, below Razorpay's limits
REFERENCE_MAX = 40


class BadCallback(DomainError):
    code = "bad_signature"


def _validate(amount_paise: Any, reference_id: str, description: str) -> None:
    errors: dict[str, list[str]] = {}
    if type(amount_paise) is not int or not MIN_PAISE <= amount_paise <= MAX_PAISE:
        errors["amount_paise"] = [
            "The amount must be a whole number of paise from 100 (Rs 1.00) to Rs 5 crore."
        ]
    if not reference_id or len(reference_id) > REFERENCE_MAX:
        errors["reference_id"] = [f"A reference of 1 to {REFERENCE_MAX} characters is needed."]
    if not description or len(description) > 255:
        errors["description"] = ["A description of 1 to 255 characters is needed."]
    if errors:
        raise ValidationFailed(errors)


def payment_link_create(
    *,
    clinic: Clinic,
    amount_paise: int,
    reference_id: str,
    description: str,
    customer_name: str = "",
    customer_phone: str = "",
    owner_label: str = "",
    on_paid_key: str = "",
    actor: Actor = None,
) -> PaymentLink:
    """Ask Razorpay for a payment link for `amount_paise` with our `reference_id` (the bill
    number), and record it. Call inside the clinic's scope; the Razorpay call runs before its
    own transaction, so it holds no lock while Razorpay answers, unless its caller chose to
    (`bill_links.bill_payment_link_create` locks the bill so that two clicks make one link)."""
    _validate(amount_paise, reference_id, description)
    account = require_account(clinic.pk)
    expire_by = timezone.now() + timedelta(days=settings.RAZORPAY_LINK_DAYS)
    data: dict[str, Any] = {
        "amount": amount_paise,
        "currency": "INR",
        "reference_id": reference_id,
        "description": description,
        "notify": {"sms": False, "email": False},
        "expire_by": int(expire_by.timestamp()),
        "callback_url": settings.SITE_URL.rstrip("/")
        + reverse("razorpay-callback", kwargs={"webhook_key": account.webhook_key}),
        "callback_method": "get",
        "notes": {"clinic": str(clinic.pk)},  # no personal data in notes
    }
    customer = {k: v for k, v in (("name", customer_name), ("contact", customer_phone)) if v}
    if customer:
        data["customer"] = customer
    try:
        answer = client_for(account).payment_link_create(data)
    except RazorpayFailed as exc:
        raise DomainError(exc.message, code="razorpay_failed") from None
    link_id, short_url = str(answer.get("id") or ""), str(answer.get("short_url") or "")
    if not link_id.startswith("plink_") or not short_url:
        raise DomainError("Razorpay's answer had no payment link in it.", code="razorpay_failed")
    with transaction.atomic():
        link = PaymentLink.objects.create(
            clinic=clinic,
            amount_paise=amount_paise,
            reference_id=reference_id,
            description=description,
            customer_name=customer_name[:100],
            customer_phone=customer_phone[:20],
            owner_label=owner_label[:100],
            on_paid_key=on_paid_key[:60],
            razorpay_link_id=link_id[:40],
            short_url=short_url[:300],
            expire_by=expire_by,
        )
        audit_record(
            clinic=clinic,
            actor=actor,
            action=Actions.PAYMENT_LINK_CREATED,
            target=link,
            data={"amount_paise": amount_paise, "reference_id": reference_id},
        )
    return link


def payment_link_advance(
    *,
    link_id: int,
    status: str,
    amount_paid_paise: int | None = None,
    payment_id: str = "",
    via: str,
) -> bool:
    """Move a link's status forward (never back: a late event changes nothing); the first
    time it is paid, tell its owner. Returns whether anything changed. Idempotent."""
    if status not in LINK_RANK:
        return False
    with transaction.atomic():
        link = PaymentLink.objects.select_for_update().get(pk=link_id)
        before = link.status
        moved = LINK_RANK[status] > LINK_RANK[before]
        paid_more = (
            amount_paid_paise is not None
            and amount_paid_paise > link.amount_paid_paise
            and not (LINK_RANK[before] == 2 and before != LinkStatus.PAID)
        )
        if not moved and not paid_more:
            return False
        if moved:
            link.status = status
        if paid_more:
            link.amount_paid_paise = min(amount_paid_paise, link.amount_paise)
        if status == LinkStatus.PAID and moved:
            link.amount_paid_paise = max(link.amount_paid_paise, link.amount_paise)
            link.paid_at = timezone.now()
        if payment_id and not link.razorpay_payment_id:
            link.razorpay_payment_id = payment_id[:40]
        link.last_synced_at = timezone.now()
        told = _tell_owner(link) if link.status == LinkStatus.PAID else False
        link.save()
        audit_record(
            clinic=link.clinic_id,
            actor=None,
            action=Actions.PAYMENT_LINK_CHANGED,
            target=link,
            data={
                "from": before,
                "to": link.status,
                "amount_paid_paise": link.amount_paid_paise,
                "via": via,
                "owner_told": told,
            },
        )
    return True


def _tell_owner(link: PaymentLink) -> bool:
    if link.owner_told_at is not None:
        return False
    link.owner_told_at = timezone.now()
    handler = handler_for(link.on_paid_key) if link.on_paid_key else None
    if handler is None:
        if link.on_paid_key:
            logger.warning("payment link %s paid; no owner registered for it", link.pk)
        return False
    handler.on_paid(link, link.amount_paid_paise, link.razorpay_payment_id)
    return True


# --- the callback page ------------------------------------------------------------------------
CALLBACK_FIELDS = (
    "razorpay_payment_id",
    "razorpay_payment_link_id",
    "razorpay_payment_link_reference_id",
    "razorpay_payment_link_status",
    "razorpay_signature",
)


def payment_link_callback(*, account: RazorpayAccount, params: dict[str, str]) -> PaymentLink:
    """The patient's browser comes back from Razorpay: check the signature
    (HMAC-SHA256(key secret, "link|reference|status|payment")) and, when it holds, move the
    link forward. A bad or missing signature raises `BadCallback` and records nothing."""
    values = {name: str(params.get(name) or "")[:100] for name in CALLBACK_FIELDS}
    message = "|".join(
        values[name]
        for name in (
            "razorpay_payment_link_id",
            "razorpay_payment_link_reference_id",
            "razorpay_payment_link_status",
            "razorpay_payment_id",
        )
    )
    if not all(values.values()) or not signature_valid(
        message, values["razorpay_signature"], account.key_secret
    ):
        raise BadCallback("This payment confirmation could not be verified.")
    link = PaymentLink.objects.filter(
        clinic_id=account.clinic_id, razorpay_link_id=values["razorpay_payment_link_id"]
    ).first()
    if link is None or link.reference_id != values["razorpay_payment_link_reference_id"]:
        raise BadCallback("This payment confirmation is not for a payment link of this clinic.")
    status = values["razorpay_payment_link_status"]
    payment_advance = {"paid": LinkStatus.PAID, "partially_paid": LinkStatus.PARTIALLY_PAID}
    if status in payment_advance:
        payment_link_advance(
            link_id=link.pk,
            status=payment_advance[status],
            payment_id=values["razorpay_payment_id"],
            via="callback",
        )
        link.refresh_from_db()
    return link


# --- from Razorpay's own record -----------------------------------------------------------------
def payment_link_sync(*, link: PaymentLink, answer: dict[str, Any] | None = None) -> bool:
    """Fetch the link from Razorpay (unless given its entity) and move ours forward to match."""
    if answer is None:
        account = require_account(link.clinic_id)
        answer = client_for(account).payment_link_fetch(link.razorpay_link_id)
    status = str(answer.get("status") or "")
    if status == "issued":
        status = LinkStatus.CREATED
    amount_paid = answer.get("amount_paid")
    payments = answer.get("payments") or []
    payment_id = ""
    if isinstance(payments, list) and payments and isinstance(payments[-1], dict):
        payment_id = str(payments[-1].get("payment_id") or "")
    changed = payment_link_advance(
        link_id=link.pk,
        status=status,
        amount_paid_paise=amount_paid if type(amount_paid) is int else None,
        payment_id=payment_id,
        via="reconciliation",
    )
    PaymentLink.objects.filter(pk=link.pk).update(last_synced_at=timezone.now())
    return changed


def unix_time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if type(value) is int and value > 0 else None
