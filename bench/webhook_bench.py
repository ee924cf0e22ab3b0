"""WhatsApp webhook intake benchmark: signed deliveries per second and their latency.

    .venv/bin/python bench/webhook_bench.py [--seconds 10] [--connections 1,4,8] [--workers 2]
                                            [--postgres]

Creates a fresh SQLite database under data/bench-webhook/ (the default embedded setup, with
django-q2's ORM broker: each accepted delivery is one WebhookDelivery row plus the queued
task), or with --postgres a fresh PostgreSQL database and the Redis broker; connects a
clinic's WhatsApp number, serves Vaidya with gunicorn (sync workers, `DEBUG=false`) and
drives /webhooks/whatsapp/<key>/ over loopback with `bench/loadgen.py`:
each request is a distinct, correctly signed delivery as Meta sends it (7 in 10 status
updates, 3 in 10 inbound text messages). No task worker runs during the load, so the numbers
are the intake alone; afterwards `--process N` runs the processing task on N of the stored
deliveries in this process and reports that rate too. Numbers, not pass/fail: bench/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import itertools
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
from api_bench import wait_for_port  # noqa: E402

DATA = ROOT / "data" / "bench-webhook"
PHONE_NUMBER_ID = "109000000000001"
WABA_ID = "209000000000001"
PG = "postgres://postgres@127.0.0.1:5432"
PG_DB = "vaidya_bench_webhook"
REDIS_URL = "redis://127.0.0.1:6379/13"
APP_SECRET = "bench-app-secret"  # noqa: S105 - a local benchmark's own secret


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="false",
        SECRET_KEY="bench-secret-key-not-for-production-" + "x" * 20,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        QUERY_COUNT_HEADER="true",
        LOG_LEVEL="WARNING",
        Q_SYNC="false",
        VAIDYA_DATA_DIR=str(DATA),
    )
    return env


def seed() -> str:
    """A clinic with a connected WhatsApp number; returns its webhook key."""
    import django

    django.setup()
    from clinics.models import User
    from clinics.services import clinic_create
    from clinics.tenancy import clinic_scope
    from messaging.models import WhatsAppAccount

    owner = User.objects.create_user(
        "bench-owner@example.in", "bench-password-2026", full_name="Bench Owner"
    )
    clinic = clinic_create(name="Bench Clinic", slug="bench", state_code="29", owner=owner)
    with clinic_scope(clinic):
        account = WhatsAppAccount.objects.create(
            clinic=clinic,
            phone_number_id=PHONE_NUMBER_ID,
            business_account_id=WABA_ID,
            display_number="+91 80 4000 1234",
            access_token="bench-token",  # noqa: S106
            app_secret=APP_SECRET,
            verify_token="bench-verify",  # noqa: S106
        )
    return account.webhook_key


def payloads(seed_value: int = 7):
    """An endless stream of distinct webhook bodies (bytes), as the Cloud API sends them."""
    rng = random.Random(seed_value)
    numbers = [f"9198{rng.randrange(10**8):08d}" for _ in range(200)]
    metadata = {"display_phone_number": "918040001234", "phone_number_id": PHONE_NUMBER_ID}
    for n in itertools.count():
        now = str(int(time.time()))
        wa_id = rng.choice(numbers)
        if rng.random() < 0.7:
            value = {
                "messaging_product": "whatsapp",
                "metadata": metadata,
                "statuses": [
                    {
                        "id": f"wamid.bench.out.{n // 3}",
                        "status": ("sent", "delivered", "read")[n % 3],
                        "timestamp": now,
                        "recipient_id": wa_id,
                        "biz_opaque_callback_data": "00000000-0000-0000-0000-000000000000",
                    }
                ],
            }
        else:
            value = {
                "messaging_product": "whatsapp",
                "metadata": metadata,
                "contacts": [{"profile": {"name": "Bench Patient"}, "wa_id": wa_id}],
                "messages": [
                    {
                        "from": wa_id,
                        "id": f"wamid.bench.in.{n}",
                        "timestamp": now,
                        "type": "text",
                        "text": {"body": "Thank you, I took the tablets."},
                    }
                ],
            }
        envelope = {
            "object": "whatsapp_business_account",
            "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": value}]}],
        }
        yield json.dumps(envelope, separators=(",", ":")).encode()


def signed_requests(path: str):
    stream = payloads()

    def make() -> loadgen.Request:
        body = next(stream)
        digest = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        return (
            "POST",
            path,
            body,
            {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + digest},
        )

    return make


def process(limit: int) -> tuple[int, float]:
    """Run the processing task on up to `limit` stored deliveries; (count, seconds)."""
    from clinics.tenancy import clinic_ids_with, clinic_scope
    from messaging.models import WebhookDelivery
    from messaging.tasks import process_webhook

    ids: list[int] = []
    for clinic_id in clinic_ids_with(WebhookDelivery):  # the bench's one clinic
        with clinic_scope(clinic_id):
            ids += WebhookDelivery.objects.order_by("id").values_list("id", flat=True)[:limit]
    ids = sorted(ids)[:limit]
    start = time.perf_counter()
    for delivery_id in ids:
        process_webhook(delivery_id)
    return len(ids), time.perf_counter() - start


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--connections", default="1,4,8")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--process", type=int, default=2000, help="deliveries to process after")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="PostgreSQL (database vaidya_bench_webhook, recreated) and the Redis broker (db 13) "
        "instead of the embedded SQLite and ORM broker",
    )
    return parser.parse_args()


def use_postgres(env: dict[str, str]) -> None:
    """Recreate the PostgreSQL database, empty the Redis broker's database, point `env` at both."""
    import psycopg
    import redis

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_DB}"')
    env.update(DATABASE_URL=f"{PG}/{PG_DB}", REDIS_URL=REDIS_URL)
    redis.Redis.from_url(REDIS_URL).flushdb()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "-c",
            str(ROOT / "config" / "gunicorn.conf.py"),
            "config.wsgi",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )


def drive(args: argparse.Namespace, env: dict[str, str], path: str, setup: str) -> list:
    """Serve Vaidya and post signed deliveries at each number of connections; the results."""
    server = start_server(env, args.port, args.workers)
    results = []
    try:
        wait_for_port(args.port)
        if server.poll() is not None:
            raise SystemExit("gunicorn exited; is the port taken?")
        make = signed_requests(path)
        for connections in [int(c) for c in args.connections.split(",")]:
            results.append(
                loadgen.run(
                    f"webhook intake ({setup}, {args.workers} workers)",
                    host="127.0.0.1",
                    port=args.port,
                    make_request=make,
                    connections=connections,
                    seconds=args.seconds,
                )
            )
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    return results


def report(results: list) -> None:
    print()
    print(loadgen.HEADER)
    for result in results:
        print(result.row())
    print()
    for result in results:
        print(
            f"{result.connections} connections: {result.rps:.0f} events/s, "
            f"p95 {result.pct(95):.1f} ms, answers {dict(sorted(result.statuses.items()))}"
        )


def report_stored(results: list) -> None:
    """What the load stored and queued, beside what it was answered."""
    from clinics.queue import broker
    from clinics.tenancy import clinic_ids_with, clinic_scope
    from messaging.models import WebhookDelivery

    stored = 0
    for clinic_id in clinic_ids_with(WebhookDelivery):  # counts what the load stored
        with clinic_scope(clinic_id):
            stored += WebhookDelivery.objects.count()
    queued = broker().queue_size()  # the ORM queue's rows, or the Redis list's length
    accepted = sum(n for r in results for s, n in r.statuses.items() if 200 <= s < 300)
    print(f"stored deliveries: {stored}, queued tasks: {queued} (2xx answered in the measured")
    print(f"windows: {accepted}; warm-up requests are stored too)")


def main() -> None:
    args = parse_args()
    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    env = bench_env()
    setup = "SQLite, ORM broker"
    if args.postgres:
        use_postgres(env)
        setup = "PostgreSQL, Redis broker"
    os.environ.update(env)
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    key = seed()
    if not args.port:
        args.port = free_port()
    results = drive(args, env, f"/webhooks/whatsapp/{key}/", setup)
    report(results)
    report_stored(results)
    if args.process:
        count, seconds = process(args.process)
        if count:
            print(
                f"processing: {count} deliveries in {seconds:.1f} s "
                f"= {count / seconds:.0f} events/s (one process, in-line)"
            )


if __name__ == "__main__":
    main()
