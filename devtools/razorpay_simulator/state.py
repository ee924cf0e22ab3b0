"""The simulator's memory: accounts (key pairs), payment links, plans and subscriptions, in
Razorpay's entity shapes, and the events each change sends."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

LINK_FINAL = {"paid", "cancelled", "expired"}
SUB_FINAL = {"cancelled", "completed", "expired"}


def new_id(prefix: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(14))


def sign(secret: str, message: str | bytes) -> str:
    if isinstance(message, str):
        message = message.encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


class ApiError(Exception):
    """An answer in Razorpay's error shape."""

    def __init__(self, status: int, description: str, field_name: str | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.body = {
            "error": {
                "code": "BAD_REQUEST_ERROR" if status < 500 else "SERVER_ERROR",
                "description": description,
                "source": "business" if status < 500 else "internal",
                "step": "payment_initiation",
                "reason": "input_validation_failed" if status < 500 else "server_error",
                "metadata": {},
                "field": field_name,
            }
        }


@dataclass
class Account:
    """A Razorpay account: its API keys, webhook secret and webhook address."""

    key_id: str
    key_secret: str
    webhook_secret: str = ""
    webhook_url: str = ""
    account_id: str = field(default_factory=lambda: new_id("acc_"))


_clock_lock = threading.Lock()
_last_event_time = 0


def event_time() -> int:
    """Now in whole seconds, but always after the previous event: Razorpay's `created_at` has
    second precision, and tests that reorder events need each one later than the last."""
    global _last_event_time
    with _clock_lock:
        _last_event_time = max(int(time.time()), _last_event_time + 1)
        return _last_event_time


@dataclass
class Event:
    """A webhook to send: the account it belongs to, its name and its payload parts."""

    account: Account
    name: str
    parts: dict[str, dict[str, Any]]
    event_id: str = field(default_factory=lambda: new_id("evt_"))
    created_at: int = field(default_factory=event_time)

    def body(self) -> bytes:
        import json  # noqa: PLC0415 - small module, kept local to the one use

        envelope = {
            "entity": "event",
            "account_id": self.account.account_id,
            "event": self.name,
            "contains": list(self.parts),
            "payload": {name: {"entity": entity} for name, entity in self.parts.items()},
            "created_at": self.created_at,
        }
        return json.dumps(envelope, separators=(",", ":")).encode("utf-8")


class State:
    """Everything the simulator holds, behind one lock."""

    def __init__(self, base_url: str = "") -> None:
        self.lock = threading.RLock()
        self.base_url = base_url
        self.accounts: dict[str, Account] = {}
        self.links: dict[str, dict[str, Any]] = {}
        self.plans: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.owner: dict[str, str] = {}  # entity id -> key id of the account that made it
        self.fail_next: list[int] = []  # HTTP statuses the next API calls answer with

    # --- accounts and auth ----------------------------------------------------------------------
    def add_account(self, account: Account) -> Account:
        with self.lock:
            self.accounts[account.key_id] = account
        return account

    def authenticate(self, key_id: str, key_secret: str) -> Account:
        with self.lock:
            account = self.accounts.get(key_id)
        if account is None or not hmac.compare_digest(account.key_secret, key_secret):
            raise ApiError(401, "Authentication failed")
        return account

    def account_of(self, entity_id: str) -> Account:
        return self.accounts[self.owner[entity_id]]

    # --- payment links --------------------------------------------------------------------------
    def link_create(self, account: Account, data: dict[str, Any]) -> dict[str, Any]:
        amount = data.get("amount")
        if type(amount) is not int or amount < 100:
            raise ApiError(400, "The amount must be at least INR 1.00.", "amount")
        if data.get("currency", "INR") != "INR":
            raise ApiError(400, "Currency is not supported.", "currency")
        reference = data.get("reference_id") or ""
        if not isinstance(reference, str) or len(reference) > 40:
            raise ApiError(400, "reference_id: at most 40 characters.", "reference_id")
        notes = data.get("notes") or {}
        if not isinstance(notes, dict) or len(notes) > 15:
            raise ApiError(400, "notes: at most 15 keys.", "notes")
        now = int(time.time())
        link_id = new_id("plink_")
        with self.lock:
            if reference and any(
                link["reference_id"] == reference and self.owner[lid] == account.key_id
                for lid, link in self.links.items()
            ):
                raise ApiError(400, "Payment Link with this reference_id already exists.")
            link = {
                "accept_partial": bool(data.get("accept_partial", False)),
                "amount": amount,
                "amount_paid": 0,
                "callback_method": data.get("callback_method", "get"),
                "callback_url": data.get("callback_url", ""),
                "cancelled_at": 0,
                "created_at": now,
                "currency": "INR",
                "customer": data.get("customer") or {},
                "description": data.get("description", ""),
                "expire_by": data.get("expire_by", 0),
                "expired_at": 0,
                "first_min_partial_amount": 0,
                "id": link_id,
                "notes": notes,
                "notify": data.get("notify") or {"sms": False, "email": False},
                "payments": None,
                "reference_id": reference,
                "reminder_enable": False,
                "reminders": [],
                "short_url": f"{self.base_url}/pay/{link_id}",
                "status": "created",
                "updated_at": now,
                "upi_link": bool(data.get("upi_link", False)),
                "user_id": "",
            }
            self.links[link_id] = link
            self.owner[link_id] = account.key_id
            return dict(link)

    def link_get(self, account: Account, link_id: str) -> dict[str, Any]:
        with self.lock:
            link = self.links.get(link_id)
            if link is None or self.owner[link_id] != account.key_id:
                raise ApiError(400, "The id provided does not exist", "id")
            return dict(link)

    def link_pay(self, link_id: str, amount: int | None = None) -> tuple[dict, dict, list[Event]]:
        """A patient pays (all, or `amount`): (link, payment, events to send)."""
        with self.lock:
            link = self.links[link_id]
            if link["status"] in LINK_FINAL:
                raise ApiError(400, f"This payment link is {link['status']}.")
            due = link["amount"] - link["amount_paid"]
            paying = due if amount is None else min(amount, due)
            now = int(time.time())
            payment = {
                "id": new_id("pay_"),
                "entity": "payment",
                "amount": paying,
                "currency": "INR",
                "status": "captured",
                "method": "upi",
                "captured": True,
                "description": link["description"],
                "created_at": now,
                "notes": link["notes"],
            }
            link["amount_paid"] += paying
            link["status"] = "paid" if link["amount_paid"] >= link["amount"] else "partially_paid"
            link["payments"] = [
                *(link["payments"] or []),
                {
                    "amount": paying,
                    "created_at": now,
                    "method": "upi",
                    "payment_id": payment["id"],
                    "status": "captured",
                },
            ]
            link["updated_at"] = now
            account = self.account_of(link_id)
            snapshot = dict(link)
            events = [
                Event(account, "payment.captured", {"payment": payment}),
                Event(
                    account,
                    f"payment_link.{link['status']}",
                    {"payment_link": snapshot, "payment": payment},
                ),
            ]
            return snapshot, payment, events

    def link_end(self, account: Account | None, link_id: str, status: str) -> tuple[dict, Event]:
        """Cancel (through the API) or expire a link that is not paid."""
        with self.lock:
            link = self.links.get(link_id)
            if link is None or (account and self.owner[link_id] != account.key_id):
                raise ApiError(400, "The id provided does not exist", "id")
            if link["status"] in LINK_FINAL:
                raise ApiError(400, f"Payment link cannot be {status}: it is {link['status']}.")
            link["status"] = status
            link[f"{status}_at"] = link["updated_at"] = int(time.time())
            snapshot = dict(link)
            return snapshot, Event(
                self.account_of(link_id), f"payment_link.{status}", {"payment_link": snapshot}
            )

    def callback_query(self, link: dict[str, Any], payment_id: str) -> dict[str, str]:
        """What Razorpay adds to the callback URL, signed with the key secret."""
        secret = self.account_of(link["id"]).key_secret
        status = link["status"]
        message = f"{link['id']}|{link['reference_id']}|{status}|{payment_id}"
        return {
            "razorpay_payment_id": payment_id,
            "razorpay_payment_link_id": link["id"],
            "razorpay_payment_link_reference_id": link["reference_id"],
            "razorpay_payment_link_status": status,
            "razorpay_signature": sign(secret, message),
        }
