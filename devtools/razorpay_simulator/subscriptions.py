"""Plans and subscriptions in the simulator: the REST calls and the lifecycle a test (or the
owner on the subscribe page) drives: authorise, charge, fail, halt, pause, resume, complete,
cancel, expire. Each step returns the events Razorpay would send."""

from __future__ import annotations

import time
from typing import Any

from devtools.razorpay_simulator.state import SUB_FINAL, Account, ApiError, Event, State, new_id

PERIOD_SECONDS = {"daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400, "yearly": 365 * 86400}


def plan_create(state: State, account: Account, data: dict[str, Any]) -> dict[str, Any]:
    item = data.get("item") or {}
    if data.get("period") not in PERIOD_SECONDS:
        raise ApiError(400, "period is invalid.", "period")
    if type(item.get("amount")) is not int or item["amount"] < 100:
        raise ApiError(400, "The amount must be at least INR 1.00.", "item.amount")
    plan = {
        "id": new_id("plan_"),
        "entity": "plan",
        "interval": int(data.get("interval") or 1),
        "period": data["period"],
        "item": {
            "id": new_id("item_"),
            "name": str(item.get("name") or ""),
            "amount": item["amount"],
            "currency": item.get("currency", "INR"),
        },
        "notes": data.get("notes") or {},
        "created_at": int(time.time()),
    }
    with state.lock:
        state.plans[plan["id"]] = plan
        state.owner[plan["id"]] = account.key_id
    return dict(plan)


def subscription_create(state: State, account: Account, data: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        plan = state.plans.get(str(data.get("plan_id") or ""))
        if plan is None or state.owner[plan["id"]] != account.key_id:
            raise ApiError(400, "The id provided does not exist", "plan_id")
        total = data.get("total_count")
        if type(total) is not int or not 1 <= total <= 1000:
            raise ApiError(400, "total_count is required and must be 1 to 1000.", "total_count")
        now = int(time.time())
        sub_id = new_id("sub_")
        sub = {
            "id": sub_id,
            "entity": "subscription",
            "plan_id": plan["id"],
            "customer_id": None,
            "status": "created",
            "current_start": None,
            "current_end": None,
            "ended_at": None,
            "quantity": int(data.get("quantity") or 1),
            "notes": data.get("notes") or {},
            "charge_at": data.get("start_at") or now,
            "start_at": data.get("start_at") or now,
            "end_at": None,
            "auth_attempts": 0,
            "total_count": total,
            "paid_count": 0,
            "customer_notify": bool(data.get("customer_notify", 1)),
            "created_at": now,
            "expire_by": data.get("expire_by"),
            "short_url": f"{state.base_url}/subscribe/{sub_id}",
            "has_scheduled_changes": False,
            "change_scheduled_at": None,
            "source": "api",
            "remaining_count": total,
        }
        state.subscriptions[sub_id] = sub
        state.owner[sub_id] = account.key_id
        return dict(sub)


def subscription_get(state: State, account: Account, sub_id: str) -> dict[str, Any]:
    with state.lock:
        sub = state.subscriptions.get(sub_id)
        if sub is None or state.owner[sub_id] != account.key_id:
            raise ApiError(400, "The id provided does not exist", "id")
        return dict(sub)


def _event(state: State, sub: dict[str, Any], name: str, payment: dict | None = None) -> Event:
    parts: dict[str, dict[str, Any]] = {"subscription": dict(sub)}
    if payment is not None:
        parts["payment"] = payment
    return Event(state.account_of(sub["id"]), name, parts)


def _payment(state: State, sub: dict[str, Any], status: str) -> dict[str, Any]:
    amount = state.plans[sub["plan_id"]]["item"]["amount"] * sub["quantity"]
    return {
        "id": new_id("pay_"),
        "entity": "payment",
        "amount": amount,
        "currency": "INR",
        "status": status,
        "method": "upi",
        "captured": status == "captured",
        "created_at": int(time.time()),
    }


# Which statuses each step may start from, and the status it leaves.
STEPS = {
    "authenticate": ({"created"}, "authenticated", "subscription.authenticated"),
    "activate": ({"authenticated"}, "active", "subscription.activated"),
    "charge": ({"authenticated", "active", "pending", "halted"}, "active", "subscription.charged"),
    "fail": ({"active", "authenticated", "pending"}, "pending", "subscription.pending"),
    "halt": ({"pending", "active"}, "halted", "subscription.halted"),
    "pause": ({"active"}, "paused", "subscription.paused"),
    "resume": ({"paused"}, "active", "subscription.resumed"),
    "complete": ({"active"}, "completed", "subscription.completed"),
    "cancel": (None, "cancelled", "subscription.cancelled"),
    "expire": ({"created"}, "expired", "subscription.updated"),
}


def subscription_step(state: State, sub_id: str, step: str) -> list[Event]:
    """Move a subscription one step; the events Razorpay sends for it."""
    if step not in STEPS:
        raise ApiError(400, f"Unknown step {step!r}.")
    allowed, status, event = STEPS[step]
    with state.lock:
        sub = state.subscriptions.get(sub_id)
        if sub is None:
            raise ApiError(400, "The id provided does not exist", "id")
        if sub["status"] in SUB_FINAL or (allowed is not None and sub["status"] not in allowed):
            raise ApiError(400, f"Subscription cannot {step} from {sub['status']}.")
        now = int(time.time())
        events = []
        payment = None
        if step == "authenticate":
            sub["auth_attempts"] += 1
        if step == "charge":
            period = PERIOD_SECONDS[state.plans[sub["plan_id"]]["period"]]
            sub["current_start"] = now
            sub["current_end"] = now + period
            sub["paid_count"] += 1
            sub["remaining_count"] = max(sub["total_count"] - sub["paid_count"], 0)
            payment = _payment(state, sub, "captured")
            if sub["status"] == "authenticated":
                sub["status"] = "active"
                events.append(_event(state, sub, "subscription.activated"))
        if step == "fail":
            payment = _payment(state, sub, "failed")
            events.append(Event(state.account_of(sub_id), "payment.failed", {"payment": payment}))
            payment = None
        if step in ("cancel", "complete", "expire"):
            sub["ended_at"] = now
        sub["status"] = status
        events.append(_event(state, sub, event, payment))
        return events


def subscription_cancel(
    state: State, account: Account, sub_id: str, data: dict
) -> tuple[dict, list[Event]]:
    subscription_get(state, account, sub_id)  # ownership
    if data.get("cancel_at_cycle_end") in (1, True, "1"):
        with state.lock:
            sub = state.subscriptions[sub_id]
            sub["has_scheduled_changes"] = True
            return dict(sub), []
    events = subscription_step(state, sub_id, "cancel")
    with state.lock:
        return dict(state.subscriptions[sub_id]), events
