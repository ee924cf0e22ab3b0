"""The Razorpay simulator's HTTP side and its Python API.

REST (HTTP Basic with an account's key id and secret; Razorpay's error shape otherwise):
    GET  /v1/payment_links                 {"payment_links": [...]} (count)
    POST /v1/payment_links                 create (status "created", short_url = our pay page)
    GET  /v1/payment_links/{id}            fetch
    POST /v1/payment_links/{id}/cancel     cancel while unpaid
    POST /v1/plans, GET /v1/plans/{id}
    POST /v1/subscriptions, GET /v1/subscriptions/{id}, POST /v1/subscriptions/{id}/cancel
Pages: GET/POST /pay/{plink_id} (the patient pays; then the signed callback redirect),
       GET/POST /subscribe/{sub_id} (the owner authorises; first charge at once).
Control (JSON bodies with Content-Type application/json):
    GET  /_control/state
    POST /_control/webhooks          {duplicate?, hold?, drop_next?, tamper_next?}
    POST /_control/webhooks/release  {reverse?}
    POST /_control/links/{id}/pay    {amount?}      POST /_control/links/{id}/expire
    POST /_control/subscriptions/{id}/{step}        (authenticate, activate, charge, fail,
                                                     halt, pause, resume, complete, cancel,
                                                     expire)
    POST /_control/fail_next         {statuses: [500, ...]}: the next API calls fail so
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from devtools.razorpay_simulator import subscriptions as subs
from devtools.razorpay_simulator.state import Account, ApiError, Event, State
from devtools.razorpay_simulator.webhooks import Delivery, WebhookSender

MAX_BODY = 1024 * 1024
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:26rem;margin:2rem auto;padding:0 1rem}}
button{{font-size:1.1rem;padding:.6rem 1.2rem;margin:.3rem 0}}.muted{{color:#666}}</style>
</head><body><p class="muted">Razorpay simulator (development only)</p>{body}</body></html>"""


class Simulator:
    """A local Razorpay. See the module docstring and the package's."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        timeout: float = 10.0,
        hold_api_webhooks: bool = False,
    ):
        self.host, self.port = host, port
        # Webhooks that follow an API call (a cancellation) go out from a thread once the call
        # is answered, as Razorpay's do; tests hold them and send them with
        # `send_api_webhooks()`, so they never race the request that made the call.
        self.hold_api_webhooks = hold_api_webhooks
        self.api_events: list[Event] = []
        self.state = State()
        self.webhooks = WebhookSender(timeout=timeout)
        self.requests: list[tuple[str, str]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> Simulator:
        self._server = ThreadingHTTPServer((self.host, self.port), _Handler)
        self._server.daemon_threads = True
        self._server.simulator = self  # type: ignore[attr-defined]
        self.port = self._server.server_address[1]
        self.state.base_url = self.base_url
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="razorpay-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # --- set-up ---------------------------------------------------------------------------------
    def add_account(
        self, key_id: str, key_secret: str, *, webhook_secret: str = "", webhook_url: str = ""
    ) -> Account:
        return self.state.add_account(Account(key_id, key_secret, webhook_secret, webhook_url))

    def configure_webhooks(self, **options: Any) -> None:
        self.webhooks.configure(**options)

    def fail_next_api_calls(self, *statuses: int) -> None:
        with self.state.lock:
            self.state.fail_next.extend(statuses)

    # --- what a patient or an owner does --------------------------------------------------------
    def pay_link(self, link_id: str, amount: int | None = None) -> dict[str, str]:
        """The patient pays; webhooks are sent. Returns the signed callback query."""
        link, payment, events = self.state.link_pay(link_id, amount)
        self.webhooks.send_all(events)
        return self.state.callback_query(link, payment["id"])

    def expire_link(self, link_id: str) -> list[Delivery]:
        _link, event = self.state.link_end(None, link_id, "expired")
        return self.webhooks.send_all([event])

    def subscription_step(self, sub_id: str, step: str) -> list[Delivery]:
        return self.webhooks.send_all(subs.subscription_step(self.state, sub_id, step))

    def send_api_webhooks(self) -> list[Delivery]:
        """Send the webhooks held back after API calls (with `hold_api_webhooks`)."""
        with self.state.lock:
            events, self.api_events = self.api_events, []
        return self.webhooks.send_all(events)

    def release_webhooks(self, *, reverse: bool = False) -> list[Delivery]:
        return self.webhooks.release(reverse=reverse)

    @property
    def deliveries(self) -> list[Delivery]:
        with self.webhooks.lock:
            return list(self.webhooks.deliveries)

    def link(self, link_id: str) -> dict[str, Any]:
        with self.state.lock:
            return dict(self.state.links[link_id])

    def subscription(self, sub_id: str) -> dict[str, Any]:
        with self.state.lock:
            return dict(self.state.subscriptions[sub_id])

    def snapshot(self) -> dict[str, Any]:
        with self.state.lock:
            return {
                "links": list(self.state.links.values()),
                "plans": list(self.state.plans.values()),
                "subscriptions": list(self.state.subscriptions.values()),
                "held_webhooks": len(self.webhooks.held),
                "deliveries": [d.__dict__ | {"answer": ""} for d in self.deliveries[-50:]],
            }


def _send_later(simulator: Simulator, events: list[Event]) -> None:
    # Razorpay answers the API call first and sends its webhooks afterwards.
    if events and simulator.hold_api_webhooks:
        with simulator.state.lock:
            simulator.api_events.extend(events)
    elif events:
        threading.Thread(target=simulator.webhooks.send_all, args=(events,), daemon=True).start()


class _Handler(BaseHTTPRequestHandler):
    server_version = "RazorpaySimulator/1"
    protocol_version = "HTTP/1.1"

    @property
    def sim(self) -> Simulator:
        return self.server.simulator  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        return

    # --- plumbing -------------------------------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ApiError(413, "The request body is too large.")
        return self.rfile.read(length) if length else b""

    def _json_body(self) -> dict[str, Any]:
        raw = self._body()
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            raise ApiError(400, "The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise ApiError(400, "The request body must be a JSON object.")
        return data

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data).encode(), "application/json; charset=utf-8")

    def _page(self, title: str, body: str, status: int = 200) -> None:
        page = PAGE.format(title=html.escape(title), body=body).encode()
        self._send(status, page, "text/html; charset=utf-8")

    def _account(self) -> Account:
        header = self.headers.get("Authorization") or ""
        if not header.startswith("Basic "):
            raise ApiError(401, "Authentication failed")
        try:
            key_id, _, key_secret = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise ApiError(401, "Authentication failed") from None
        return self.sim.state.authenticate(key_id, key_secret)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path.rstrip("/") or "/", dict(parse_qsl(parts.query))
        self.sim.requests.append((method, path))
        try:
            if path.startswith("/v1/"):
                with self.sim.state.lock:
                    failing = self.sim.state.fail_next.pop(0) if self.sim.state.fail_next else 0
                if failing:
                    raise ApiError(failing, "The simulator was told to fail this call.")
                status, data = self._api(method, path[3:], query)
                self._json(status, data)
            elif path.startswith("/_control/"):
                if method == "POST" and "application/json" not in (
                    self.headers.get("Content-Type") or ""
                ):
                    raise ApiError(415, "Control calls take application/json.")
                self._json(200, self._control(method, path[len("/_control") :]))
            elif path.startswith(("/pay/", "/subscribe/")):
                self._pages(method, path)
            else:
                raise ApiError(404, "The requested URL was not found on the server.")
        except ApiError as exc:
            self._json(exc.status, exc.body)
        except (KeyError, ValueError) as exc:
            self._json(400, ApiError(400, f"Bad request: {exc}").body)

    # --- the REST API ---------------------------------------------------------------------------
    def _api(self, method: str, path: str, query: dict[str, str]) -> tuple[int, Any]:
        account = self._account()
        state, sim = self.sim.state, self.sim
        if path == "/payment_links" and method == "GET":
            count = max(1, min(int(query.get("count") or 10), 100))
            with state.lock:
                mine = [v for k, v in state.links.items() if state.owner[k] == account.key_id]
            return 200, {"payment_links": mine[-count:]}
        if path == "/payment_links" and method == "POST":
            return 200, state.link_create(account, self._json_body())
        if m := re.fullmatch(r"/payment_links/(plink_\w+)", path):
            return 200, state.link_get(account, m[1])
        if (m := re.fullmatch(r"/payment_links/(plink_\w+)/cancel", path)) and method == "POST":
            link, event = state.link_end(account, m[1], "cancelled")
            _send_later(sim, [event])
            return 200, link
        if path == "/plans" and method == "POST":
            return 200, subs.plan_create(state, account, self._json_body())
        if m := re.fullmatch(r"/plans/(plan_\w+)", path):
            with state.lock:
                plan = state.plans.get(m[1])
            if plan is None or state.owner[m[1]] != account.key_id:
                raise ApiError(400, "The id provided does not exist", "id")
            return 200, plan
        if path == "/subscriptions" and method == "POST":
            return 200, subs.subscription_create(state, account, self._json_body())
        if m := re.fullmatch(r"/subscriptions/(sub_\w+)", path):
            return 200, subs.subscription_get(state, account, m[1])
        if (m := re.fullmatch(r"/subscriptions/(sub_\w+)/cancel", path)) and method == "POST":
            sub, events = subs.subscription_cancel(state, account, m[1], self._json_body())
            _send_later(sim, events)
            return 200, sub
        raise ApiError(404, "The requested URL was not found on the server.")

    # --- control --------------------------------------------------------------------------------
    def _control(self, method: str, path: str) -> Any:
        sim = self.sim
        if path == "/state" and method == "GET":
            return sim.snapshot()
        if method != "POST":
            raise ApiError(405, "Use POST.")
        data = self._json_body()
        if path == "/webhooks":
            allowed = {"duplicate", "hold", "drop_next", "tamper_next"}
            sim.configure_webhooks(**{k: v for k, v in data.items() if k in allowed})
            return {"ok": True}
        if path == "/webhooks/release":
            return {"sent": len(sim.release_webhooks(reverse=bool(data.get("reverse"))))}
        if path == "/fail_next":
            sim.fail_next_api_calls(*[int(s) for s in data.get("statuses") or [500]])
            return {"ok": True}
        if m := re.fullmatch(r"/links/(plink_\w+)/pay", path):
            return sim.pay_link(m[1], data.get("amount"))
        if m := re.fullmatch(r"/links/(plink_\w+)/expire", path):
            return {"sent": len(sim.expire_link(m[1]))}
        if m := re.fullmatch(r"/subscriptions/(sub_\w+)/(\w+)", path):
            return {"sent": len(sim.subscription_step(m[1], m[2]))}
        raise ApiError(404, "No such control call.")

    # --- the pages ------------------------------------------------------------------------------
    def _pages(self, method: str, path: str) -> None:
        if m := re.fullmatch(r"/pay/(plink_\w+)", path):
            self._pay_page(method, m[1])
        elif m := re.fullmatch(r"/subscribe/(sub_\w+)", path):
            self._subscribe_page(method, m[1])
        else:
            raise ApiError(404, "No such page.")

    def _pay_page(self, method: str, link_id: str) -> None:
        link = self.sim.link(link_id)
        if method == "POST":
            self._body()
            query = self.sim.pay_link(link_id)
            link = self.sim.link(link_id)
            if link["callback_url"]:
                separator = "&" if "?" in link["callback_url"] else "?"
                target = f"{link['callback_url']}{separator}{urlencode(query)}"
                self._send(303, b"", "text/plain", {"Location": target})
                return
        rupees = f"Rs {link['amount'] // 100:,}.{link['amount'] % 100:02d}"
        if link["status"] in ("created", "partially_paid"):
            body = (
                f"<h1>Pay {rupees}</h1><p>{html.escape(link['description'])}</p>"
                f"<p class='muted'>Reference {html.escape(link['reference_id'])}</p>"
                f"<form method='post'><button type='submit' id='pay'>Pay with UPI</button></form>"
            )
        else:
            body = (
                f"<h1>{html.escape(link['status'].replace('_', ' ').title())}</h1><p>{rupees}</p>"
            )
        self._page("Payment", body)

    def _subscribe_page(self, method: str, sub_id: str) -> None:
        sub = self.sim.subscription(sub_id)
        if method == "POST":
            self._body()
            if sub["status"] == "created":
                self.sim.subscription_step(sub_id, "authenticate")
            self.sim.subscription_step(sub_id, "charge")
            sub = self.sim.subscription(sub_id)
        plan = self.sim.state.plans[sub["plan_id"]]
        amount = plan["item"]["amount"]
        rupees = f"Rs {amount // 100:,}.{amount % 100:02d}"
        body = (
            f"<h1>{html.escape(plan['item']['name'])}</h1><p>{rupees} {plan['period']}</p>"
            f"<p>Status: <strong id='status'>{sub['status']}</strong></p>"
        )
        if sub["status"] in ("created", "pending", "halted"):
            body += (
                "<form method='post'><button type='submit' id='authorise'>"
                "Authorise and pay</button></form>"
            )
        self._page("Subscription", body)


@contextlib.contextmanager
def running_simulator(**options: Any) -> Iterator[Simulator]:
    """A simulator on 127.0.0.1 and a free port for the duration of the block."""
    simulator = Simulator(**options).start()
    try:
        yield simulator
    finally:
        simulator.stop()
