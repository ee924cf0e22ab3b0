"""Signed webhook deliveries from the simulator, as Meta sends them.

A background thread posts each payload to the configured URL with `X-Hub-Signature-256`
(HMAC-SHA256 of the exact body bytes with the app secret), in due-time order, retrying a failed
delivery a few times as Meta does (but within seconds, not hours). Every attempt is recorded in
`deliveries` so tests can read exactly what was sent.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

RETRY_DELAYS = (0.5, 1.0, 2.0)
STATUS_ORDERS = {"in_order", "reversed", "shuffled"}


@dataclass
class Delivery:
    """One attempt to deliver one webhook."""

    body: bytes
    signature: str
    kind: str  # "statuses", "messages" or "message_template_status_update"
    attempt: int = 1
    status: int | None = None  # the receiver's HTTP status; None when it could not be reached
    error: str = ""

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def value(self) -> dict[str, Any]:
        return self.payload["entry"][0]["changes"][0]["value"]


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    body: bytes = field(compare=False)
    kind: str = field(compare=False)
    attempt: int = field(compare=False, default=1)
    on_send: Callable[[], None] | None = field(compare=False, default=None)


class WebhookSender:
    def __init__(self, *, url: str | None, app_secret: str, status_delay: float = 0.05):
        self.url = url
        self.app_secret = app_secret
        self.status_delay = status_delay
        self.statuses: tuple[str, ...] = ("sent", "delivered", "read")
        self.order = "in_order"
        self.duplicate = False
        self.random = random.Random()
        self.deliveries: list[Delivery] = []
        self.on_status: Callable[[str, str, str], None] | None = None
        self._heap: list[_Job] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    # --- configuration --------------------------------------------------------------------------
    def configure(
        self,
        *,
        statuses: tuple[str, ...] | list[str] | None = None,
        order: str | None = None,
        duplicate: bool | None = None,
        delay: float | None = None,
        seed: int | None = None,
        url: str | None = None,
    ) -> None:
        """Change how status webhooks follow a send (for the next sends)."""
        if statuses is not None:
            unknown = set(statuses) - {"sent", "delivered", "read"}
            if unknown:
                raise ValueError(f"Unknown statuses: {sorted(unknown)}")
            self.statuses = tuple(statuses)
        if order is not None:
            if order not in STATUS_ORDERS:
                raise ValueError(f"order must be one of {sorted(STATUS_ORDERS)}")
            self.order = order
        if duplicate is not None:
            self.duplicate = bool(duplicate)
        if delay is not None:
            self.status_delay = max(0.0, float(delay))
        if seed is not None:
            self.random.seed(seed)
        if url is not None:
            self.url = url or None

    def settings(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "statuses": list(self.statuses),
            "order": self.order,
            "duplicate": self.duplicate,
            "delay": self.status_delay,
        }

    # --- payloads -------------------------------------------------------------------------------
    @staticmethod
    def envelope(waba_id: str, field_name: str, value: dict[str, Any]) -> dict[str, Any]:
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": waba_id, "changes": [{"field": field_name, "value": value}]}],
        }

    @staticmethod
    def _metadata(number) -> dict[str, Any]:
        return {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": number.display_phone_number,
                "phone_number_id": number.phone_number_id,
            },
        }

    def message_statuses(
        self, number, *, wamid: str, recipient: str, category: str, callback_data: str | None
    ) -> None:
        """sent -> delivered -> read for one accepted message (order/duplicates as configured)."""
        sequence = list(self.statuses)
        if self.order == "reversed":
            sequence.reverse()
        elif self.order == "shuffled":
            self.random.shuffle(sequence)
        if self.duplicate:
            sequence = [s for status in sequence for s in (status, status)]
        start = time.monotonic()
        for position, status in enumerate(sequence, start=1):
            item: dict[str, Any] = {
                "id": wamid,
                "status": status,
                "timestamp": str(int(time.time())),
                "recipient_id": recipient,
            }
            if status in {"sent", "delivered"}:
                item["pricing"] = {
                    "billable": category != "service",
                    "pricing_model": "PMP",
                    "category": category,
                    "type": "free_customer_service" if category == "service" else "regular",
                }
            if callback_data is not None:
                item["biz_opaque_callback_data"] = callback_data
            value = self._metadata(number) | {"statuses": [item]}

            def on_send(status=status):
                if self.on_status:
                    self.on_status(recipient, wamid, status)

            self._enqueue(
                self.envelope(number.waba_id, "messages", value),
                "statuses",
                due=start + position * self.status_delay,
                on_send=on_send,
            )

    def message_failed(
        self, number, *, wamid: str, recipient: str, error: dict, callback_data: str | None
    ) -> None:
        item: dict[str, Any] = {
            "id": wamid,
            "status": "failed",
            "timestamp": str(int(time.time())),
            "recipient_id": recipient,
            "errors": [error],
        }
        if callback_data is not None:
            item["biz_opaque_callback_data"] = callback_data
        value = self._metadata(number) | {"statuses": [item]}
        self._enqueue(
            self.envelope(number.waba_id, "messages", value),
            "statuses",
            due=time.monotonic() + self.status_delay,
        )

    def inbound_message(self, number, *, contact: dict[str, Any], message: dict[str, Any]) -> None:
        value = self._metadata(number) | {"contacts": [contact], "messages": [message]}
        self._enqueue(self.envelope(number.waba_id, "messages", value), "messages")

    def template_status(self, template) -> None:
        value = {
            "event": template.status,
            "message_template_id": int(template.id),
            "message_template_name": template.name,
            "message_template_language": template.language,
            "reason": "NONE",
        }
        payload = self.envelope(template.waba_id, "message_template_status_update", value)
        payload["entry"][0]["time"] = int(time.time())
        self._enqueue(payload, "message_template_status_update")

    # --- delivery -------------------------------------------------------------------------------
    def sign(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()

    def _enqueue(self, payload: dict, kind: str, *, due: float | None = None, on_send=None) -> None:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        job = _Job(due or time.monotonic(), next(self._seq), body, kind, on_send=on_send)
        with self._cond:
            heapq.heappush(self._heap, job)
            self._cond.notify()

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="whatsapp-sim-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    now = time.monotonic()
                    if self._heap and self._heap[0].due <= now:
                        break
                    self._cond.wait(timeout=(self._heap[0].due - now) if self._heap else None)
                if self._stopping:
                    return
                job = heapq.heappop(self._heap)
            if job.on_send is not None and job.attempt == 1:
                job.on_send()
            self._deliver(job)

    def _deliver(self, job: _Job) -> None:
        signature = self.sign(job.body)
        delivery = Delivery(job.body, signature, job.kind, attempt=job.attempt)
        if not self.url:
            delivery.error = "no webhook URL configured"
            self.deliveries.append(delivery)
            return
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's own setting
            self.url,
            data=job.body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": signature,
                "User-Agent": "facebookexternalua",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                delivery.status = response.status
        except urllib.error.HTTPError as exc:
            delivery.status = exc.code
            delivery.error = f"HTTP {exc.code}"
            exc.close()
        except (OSError, ValueError) as exc:
            delivery.error = type(exc).__name__
        self.deliveries.append(delivery)
        ok = delivery.status is not None and 200 <= delivery.status < 300
        if not ok and job.attempt <= len(RETRY_DELAYS) and not self._stopping:
            retry = _Job(
                time.monotonic() + RETRY_DELAYS[job.attempt - 1],
                next(self._seq),
                job.body,
                job.kind,
                attempt=job.attempt + 1,
            )
            with self._cond:
                heapq.heappush(self._heap, retry)
                self._cond.notify()
