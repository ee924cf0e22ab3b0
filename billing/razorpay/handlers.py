"""`payment_link_handlers`: how whoever made a payment link is told it was paid.

A payment link knows its owner only by `on_paid_key` (and `owner_label`, in words). When the
link is first seen paid (a webhook, the callback page or reconciliation, whichever comes
first), the entry registered under that key is called once, inside the transaction that marks
the link paid: `on_paid(link, amount_paise, payment_id)`. Bills register theirs to record the
payment against the bill.

Checklist for a new owner:
- pick a `name` ("billing.bill") and pass it as `on_paid_key` to `payment_link_create`;
- `on_paid(link, amount_paise, payment_id)` runs in the link's clinic scope and transaction;
  it must be idempotent on `payment_id` (a test may call it twice) and raise only for a bug
  (the webhook task is then retried);
- optionally `language(link)`: the preferred language of whoever pays (a code of
  settings.LANGUAGES, or "" when unknown); the page Razorpay sends the payer back to is written
  in it, as the patient's other public pages are;
- register it from the app's `AppConfig.ready()`: `payment_link_handlers.register(ENTRY)`.
A link whose key has no entry is still marked paid; the missing owner is logged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clinics.registry import Registry


@dataclass(frozen=True)
class PaymentLinkHandler:
    name: str
    order: int
    on_paid: Callable[[Any, int, str], None]
    language: Callable[[Any], str] | None = None


payment_link_handlers: Registry[PaymentLinkHandler] = Registry("payment link owners")


def handler_for(key: str) -> PaymentLinkHandler | None:
    for entry in payment_link_handlers:
        if entry.name == key:
            return entry
    return None
