"""Sending webhooks the way Razorpay does: POST the event to the account's webhook address,
signed (X-Razorpay-Signature: HMAC-SHA256 of the raw body with the webhook secret) and named
(X-Razorpay-Event-Id). On request: each event twice (`duplicate`), held back and released
later in reverse order (`hold`, `release(reverse=True)`), or lost (`drop_next`)."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from dataclasses import dataclass

from devtools.razorpay_simulator.state import Event, sign


@dataclass
class Delivery:
    event: str
    event_id: str
    url: str
    status: int  # the HTTP status the app answered; 0 when unreachable; -1 when dropped
    answer: bytes = b""


class WebhookSender:
    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.lock = threading.Lock()
        self.deliveries: list[Delivery] = []
        self.duplicate = False
        self.hold = False
        self.drop_next = 0
        self.tamper_next = 0
        self.held: list[Event] = []

    def configure(
        self,
        *,
        duplicate: bool | None = None,
        hold: bool | None = None,
        drop_next: int | None = None,
        tamper_next: int | None = None,
    ) -> None:
        with self.lock:
            if duplicate is not None:
                self.duplicate = duplicate
            if hold is not None:
                self.hold = hold
            if drop_next is not None:
                self.drop_next = max(0, drop_next)
            if tamper_next is not None:
                self.tamper_next = max(0, tamper_next)

    def send_all(self, events: list[Event]) -> list[Delivery]:
        with self.lock:
            if self.hold:
                self.held.extend(events)
                return []
        return [d for event in events for d in self._send_with_options(event)]

    def release(self, *, reverse: bool = False) -> list[Delivery]:
        """Send the held events (newest first with `reverse`: out of order)."""
        with self.lock:
            events, self.held = self.held, []
            self.hold = False
        if reverse:
            events.reverse()
        return self.send_all(events)

    def _send_with_options(self, event: Event) -> list[Delivery]:
        with self.lock:
            drop = self.drop_next > 0
            self.drop_next -= 1 if drop else 0
            tamper = not drop and self.tamper_next > 0
            self.tamper_next -= 1 if tamper else 0
            times = 2 if self.duplicate else 1
        if drop:
            return [self._record(Delivery(event.name, event.event_id, "", -1))]
        return [self.send(event, tamper=tamper) for _ in range(times)]

    def send(self, event: Event, *, tamper: bool = False) -> Delivery:
        account = event.account
        url = account.webhook_url
        if not url:
            return self._record(Delivery(event.name, event.event_id, "", 0))
        body = event.body()
        signature = sign(account.webhook_secret, body)
        if tamper:
            body = body.replace(b'"amount":', b'"amount":1', 1)
        request = urllib.request.Request(  # noqa: S310 - the app's own local address
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Razorpay-Signature": signature,
                "X-Razorpay-Event-Id": event.event_id,
                "User-Agent": "Razorpay-Webhook/v1",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return self._record(
                    Delivery(event.name, event.event_id, url, response.status, response.read())
                )
        except urllib.error.HTTPError as exc:
            return self._record(Delivery(event.name, event.event_id, url, exc.code, exc.read()))
        except (urllib.error.URLError, OSError):
            return self._record(Delivery(event.name, event.event_id, url, 0))

    def _record(self, delivery: Delivery) -> Delivery:
        with self.lock:
            self.deliveries.append(delivery)
        return delivery
