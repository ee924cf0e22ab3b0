"""The official `razorpay` SDK, pointed at `settings.RAZORPAY_API_BASE_URL`, with its errors
turned into one exception whose message is safe to show.

Every call has a timeout (the SDK has none of its own) and runs outside any transaction, so no
row lock is held while Razorpay answers; the one exception is making a bill's payment link,
which holds that bill's lock so that two clicks at once make one link.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import razorpay
import requests
from django.conf import settings


class RazorpayFailed(Exception):
    """Razorpay could not be reached or refused the call. `message` is safe to show."""

    def __init__(self, message: str, *, auth: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.auth = auth


class RazorpayClient:
    """A thin wrapper over `razorpay.Client` for one pair of keys."""

    def __init__(self, key_id: str, key_secret: str, *, base_url: str | None = None) -> None:
        self.key_secret = key_secret
        self.sdk = razorpay.Client(
            auth=(key_id, key_secret), base_url=base_url or settings.RAZORPAY_API_BASE_URL
        )

    def _call(self, fn, *args: Any) -> dict[str, Any]:
        try:
            answer = fn(*args, timeout=settings.RAZORPAY_TIMEOUT_SECONDS)
        except razorpay.errors.BadRequestError as exc:
            text = str(exc) or "Razorpay refused the request."
            auth = "authentication" in text.lower()
            raise RazorpayFailed(f"Razorpay refused the request: {text[:200]}", auth=auth) from None
        except (razorpay.errors.ServerError, razorpay.errors.GatewayError):
            raise RazorpayFailed("Razorpay had a problem answering; try again shortly.") from None
        except (requests.RequestException, ValueError):
            # ValueError: an answer that was not JSON (a proxy's error page).
            raise RazorpayFailed("Razorpay could not be reached; try again shortly.") from None
        if not isinstance(answer, dict):
            raise RazorpayFailed("Razorpay answered in a form Vaidya does not understand.")
        return answer

    # --- payment links ---------------------------------------------------------------------------
    def payment_link_create(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._call(self.sdk.payment_link.create, data)

    def payment_link_fetch(self, link_id: str) -> dict[str, Any]:
        return self._call(self.sdk.payment_link.fetch, link_id, {})

    def payment_link_cancel(self, link_id: str) -> dict[str, Any]:
        return self._call(self.sdk.payment_link.cancel, link_id)

    def test_connection(self) -> dict[str, Any]:
        """A cheap authenticated read: the latest payment link, if any."""
        return self._call(self.sdk.payment_link.all, {"count": 1})

    # --- plans and subscriptions -----------------------------------------------------------------
    def plan_create(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._call(self.sdk.plan.create, data)

    def subscription_create(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._call(self.sdk.subscription.create, data)

    def subscription_fetch(self, subscription_id: str) -> dict[str, Any]:
        return self._call(self.sdk.subscription.fetch, subscription_id, {})

    def subscription_cancel(self, subscription_id: str, *, at_cycle_end: bool) -> dict[str, Any]:
        data = {"cancel_at_cycle_end": 1 if at_cycle_end else 0}
        return self._call(self.sdk.subscription.cancel, subscription_id, data)


def signature_valid(message: str | bytes, signature: str | None, secret: str) -> bool:
    """HMAC-SHA256 of `message` with `secret`, in hex, compared in constant time."""
    if not signature or not secret:
        return False
    if isinstance(message, str):
        message = message.encode("utf-8")
    expected = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.strip())
