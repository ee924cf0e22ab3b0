"""Clinic subscriptions through the installation's Razorpay account: start (a checkout link
for the owner), cancel, apply Razorpay's events, and issue the installation's tax invoice for
each charge."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.razorpay.client import RazorpayClient, RazorpayFailed
from billing.subscriptions.invoices import platform_invoice_issue
from billing.subscriptions.models import ClinicSubscription, Plan, SubStatus
from clinics.actors import Actor, require
from clinics.audit import Actions, audit_record
from clinics.errors import Conflict, DomainError
from clinics.models import Clinic
from clinics.roles import Perm

logger = logging.getLogger(__name__)

NOT_SET_UP = "Subscriptions are not set up on this installation."
FINAL = {SubStatus.CANCELLED, SubStatus.COMPLETED, SubStatus.EXPIRED}
LIVE = {s for s in SubStatus.values if s not in FINAL}

EVENT_STATUS = {
    "subscription.authenticated": SubStatus.AUTHENTICATED,
    "subscription.activated": SubStatus.ACTIVE,
    "subscription.charged": SubStatus.ACTIVE,
    "subscription.pending": SubStatus.PENDING,
    "subscription.halted": SubStatus.HALTED,
    "subscription.cancelled": SubStatus.CANCELLED,
    "subscription.paused": SubStatus.PAUSED,
    "subscription.resumed": SubStatus.ACTIVE,
    "subscription.completed": SubStatus.COMPLETED,
}
PAID_EVENTS = {"subscription.charged", "subscription.activated"}


def platform_client() -> RazorpayClient:
    if not (settings.RAZORPAY_PLATFORM_KEY_ID and settings.RAZORPAY_PLATFORM_KEY_SECRET):
        raise DomainError(NOT_SET_UP, code="subscriptions_not_set_up")
    return RazorpayClient(settings.RAZORPAY_PLATFORM_KEY_ID, settings.RAZORPAY_PLATFORM_KEY_SECRET)


def _failed(exc: RazorpayFailed) -> DomainError:
    return DomainError(exc.message, code="razorpay_failed")


def _razorpay_plan_id(client: RazorpayClient, plan: Plan) -> str:
    """The plan's id on Razorpay, created there the first time a clinic chooses it."""
    if plan.razorpay_plan_id:
        return plan.razorpay_plan_id
    answer = client.plan_create(
        {
            "period": plan.period,
            "interval": 1,
            "item": {"name": plan.name, "amount": plan.amount_paise, "currency": "INR"},
            "notes": {"vaidya_plan": str(plan.pk)},
        }
    )
    plan_id = str(answer.get("id") or "")[:40]
    if not plan_id.startswith("plan_"):
        raise RazorpayFailed("Razorpay's answer had no plan in it.")
    Plan.objects.filter(pk=plan.pk, razorpay_plan_id="").update(razorpay_plan_id=plan_id)
    plan.refresh_from_db()
    return plan.razorpay_plan_id


def subscription_start(*, clinic: Clinic, actor: Actor, plan: Plan) -> ClinicSubscription:
    """Subscribe the clinic to `plan`: Razorpay makes the subscription and its checkout link,
    which the owner opens to authorise the payments. Owners only."""
    require(actor, Perm.SETTINGS_EDIT, clinic_id=clinic.pk)
    if not plan.is_active:
        raise DomainError("This plan is no longer offered.", field="plan")
    live = ClinicSubscription.objects.filter(clinic_id=clinic.pk, status__in=LIVE).first()
    if live is not None:
        raise Conflict(
            "The clinic already has a subscription. Cancel it before choosing another plan.",
            code="subscription_exists",
        )
    client = platform_client()
    try:
        answer = client.subscription_create(
            {
                "plan_id": _razorpay_plan_id(client, plan),
                "total_count": plan.total_count,
                "quantity": 1,
                "customer_notify": 1,
                "notes": {"clinic": str(clinic.pk)},
            }
        )
    except RazorpayFailed as exc:
        raise _failed(exc) from None
    sub_id, short_url = str(answer.get("id") or ""), str(answer.get("short_url") or "")
    if not sub_id.startswith("sub_") or not short_url:
        raise DomainError("Razorpay's answer had no subscription in it.", code="razorpay_failed")
    with transaction.atomic():
        subscription = ClinicSubscription.objects.create(
            clinic=clinic, plan=plan, razorpay_subscription_id=sub_id[:40], short_url=short_url
        )
        audit_record(
            clinic=clinic,
            actor=actor,
            action=Actions.SUBSCRIPTION_STARTED,
            target=subscription,
            data={"plan": plan.name, "amount_paise": plan.amount_paise},
        )
    return subscription


def subscription_cancel(
    *, subscription: ClinicSubscription, actor: Actor, at_cycle_end: bool = False
) -> ClinicSubscription:
    """Cancel on Razorpay (now, or at the end of the paid period) and record it. Owners only."""
    require(actor, Perm.SETTINGS_EDIT, clinic_id=subscription.clinic_id)
    if subscription.status in FINAL:
        raise Conflict("This subscription has already ended.", code="subscription_ended")
    try:
        answer = platform_client().subscription_cancel(
            subscription.razorpay_subscription_id, at_cycle_end=at_cycle_end
        )
    except RazorpayFailed as exc:
        raise _failed(exc) from None
    with transaction.atomic():
        audit_record(
            clinic=subscription.clinic_id,
            actor=actor,
            action=Actions.SUBSCRIPTION_CANCELLED,
            target=subscription,
            data={"at_cycle_end": at_cycle_end},
        )
        if str(answer.get("status")) == SubStatus.CANCELLED:
            _set_status(subscription.pk, SubStatus.CANCELLED, event="cancel", at=timezone.now())
    subscription.refresh_from_db()
    return subscription


def _entity(payload: dict[str, Any], name: str) -> dict[str, Any]:
    part = (payload.get("payload") or {}).get(name) or {}
    entity = part.get("entity") if isinstance(part, dict) else None
    return entity if isinstance(entity, dict) else {}


def _time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if type(value) is int and value > 0 else None


def subscription_event_apply(*, event: str, payload: dict[str, Any]) -> str:
    """Apply one verified `subscription.*` event (inside the clinic's scope); returns what it
    did. A charge always gets its invoice (once per payment); the status only changes for an
    event newer than the last one applied, and never leaves a final state."""
    entity = _entity(payload, "subscription")
    subscription = ClinicSubscription.objects.filter(
        razorpay_subscription_id=str(entity.get("id") or "")[:40]
    ).first()
    if subscription is None:
        return "unknown subscription"
    at = _time(payload.get("created_at")) or timezone.now()
    done = []
    if event == "subscription.charged":
        payment = _entity(payload, "payment")
        amount = payment.get("amount")
        if payment.get("id") and type(amount) is int and amount > 0:
            invoice = platform_invoice_issue(
                subscription=subscription, payment_id=str(payment["id"])[:40], amount_paise=amount
            )
            done.append(f"invoice {invoice.number}")
    status = EVENT_STATUS.get(event)
    if status is None and event == "subscription.updated":
        status = entity.get("status") if entity.get("status") in SubStatus.values else None
    if status is not None:
        changed = _set_status(
            subscription.pk,
            status,
            event=event,
            at=at,
            paid_until=_time(entity.get("current_end")),
        )
        done.append(f"status {status}" if changed else "status unchanged")
    return ", ".join(done) or "nothing to do"


@transaction.atomic
def _set_status(
    subscription_id: int,
    status: str,
    *,
    event: str,
    at: datetime,
    paid_until: datetime | None = None,
) -> bool:
    subscription = ClinicSubscription.objects.select_for_update().get(pk=subscription_id)
    before = subscription.status
    # Razorpay's own answer to our call (a cancellation, a fetch) is the state now, whatever
    # the time on the last event; an event is applied only if newer than the last one.
    late = (
        event not in ("cancel", "fetched")
        and subscription.last_event_at is not None
        and at < subscription.last_event_at
    )
    if (
        before in FINAL
        or late
        or (status == SubStatus.AUTHENTICATED and before != SubStatus.CREATED)
        or (status == before and event not in PAID_EVENTS)
    ):
        return False
    subscription.status = status
    subscription.last_event_at = max(at, subscription.last_event_at or at)
    if status in (SubStatus.PENDING, SubStatus.HALTED) and subscription.payment_failed_at is None:
        subscription.payment_failed_at = at
    if event in PAID_EVENTS:
        subscription.payment_failed_at = None
    if paid_until is not None:
        subscription.paid_until = paid_until
    subscription.save()
    if before != status:  # a charge on an active subscription has its invoice's event
        audit_record(
            clinic=subscription.clinic_id,
            actor=None,
            action=Actions.SUBSCRIPTION_CHANGED,
            target=subscription,
            data={"from": before, "to": status, "event": event},
        )
    return True


def subscription_refresh(*, subscription: ClinicSubscription) -> bool:
    """Fetch the subscription from Razorpay and apply its status (a webhook may be lost)."""
    try:
        answer = platform_client().subscription_fetch(subscription.razorpay_subscription_id)
    except RazorpayFailed as exc:
        raise _failed(exc) from None
    status = answer.get("status")
    if status not in SubStatus.values or status == subscription.status:
        return False
    return _set_status(
        subscription.pk,
        status,
        event="fetched",
        at=timezone.now(),
        paid_until=_time(answer.get("current_end")),
    )
