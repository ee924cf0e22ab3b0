"""API and patient-page benchmark on PostgreSQL with 100,000 patients.

    .venv/bin/python bench/api_bench.py [--patients 100000] [--seconds 10] [--port 8765]

Seeds (once) a clinic with --patients patients in the database `vaidya_bench` on the local
PostgreSQL, serves Vaidya with gunicorn (2 sync workers, DEBUG off), and drives it over loopback
at 1 and 4 connections: patient list (page of 20), detail, create, search by name and by phone,
and the web patients list and search pages. Prints requests/s, p50 and p95 latency and the
server's queries per request (X-Query-Count). Numbers, not pass/fail: see bench/README.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
import wrkgen  # noqa: E402

PG = "postgres://postgres@127.0.0.1:5432"


def bench_env(db: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"{PG}/{db}",
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="false",
        SECRET_KEY="bench-secret-key-not-for-production-" + "x" * 20,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        QUERY_COUNT_HEADER="true",
        LOG_LEVEL="WARNING",
        VAIDYA_DATA_DIR=str(ROOT / "data" / "bench"),
    )
    return env


def ensure_database(db: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{db}"')


def seed(n_patients: int) -> dict:
    """Create the bench clinic and patients (once); return what the load needs."""
    import django

    django.setup()
    from datetime import date

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from faker import Faker

    from clinics.models import Clinic, ClinicCounter, User
    from clinics.services import api_key_create, clinic_create
    from clinics.tenancy import clinic_scope
    from patients.models import Patient, normalise_name

    clinic = Clinic.objects.filter(slug="bench").first()  # clinics are the tenants: unscoped
    if clinic is None:
        owner = User.objects.create_user(
            "bench-owner@example.in", "bench-password-2026", full_name="Bench Owner"
        )
        clinic = clinic_create(name="Bench Clinic", slug="bench", state_code="29", owner=owner)
    owner = User.objects.get(email="bench-owner@example.in")
    with clinic_scope(clinic):
        have = Patient.objects.count()
        if have < n_patients:
            fake = Faker("en_IN")
            fake.seed_instance(2026)
            rng = random.Random(2026)
            start = time.perf_counter()
            batch = []
            for i in range(have, n_patients):
                name = fake.name()
                batch.append(
                    Patient(
                        clinic=clinic,
                        number=i + 1,
                        full_name=name,
                        search_name=normalise_name(name),
                        date_of_birth=date(rng.randint(1940, 2007), rng.randint(1, 12), 15),
                        sex=rng.choice("FM"),
                        phone=f"+9198{i:08d}",
                        city=rng.choice(["Bengaluru", "Mysuru", "Hubballi", "Mangaluru"]),
                    )
                )
                if len(batch) == 5000:
                    Patient.objects.bulk_create(batch)
                    batch = []
            if batch:
                Patient.objects.bulk_create(batch)
            ClinicCounter.objects.update_or_create(
                clinic=clinic, name="patient", defaults={"value": n_patients}
            )
            print(f"seeded {n_patients - have} patients in {time.perf_counter() - start:.1f} s")
        # Fresh planner statistics, as autovacuum would have them on a clinic's database.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        _, token = api_key_create(
            clinic=clinic, actor=owner, name="bench", role="owner", read_only=False
        )
        ids = list(Patient.objects.values_list("id", flat=True))
        # Searches look for the seeded people, not for the "Bench Patient <run> <n>" rows that
        # earlier runs' create scenario added: their last word is a number, and a short number
        # is searched as a patient number or a part of a phone number, not as a name.
        sample = list(
            Patient.objects.filter(number__lte=n_patients)
            .order_by("?")
            .values_list("full_name", "phone")[:500]
        )
    session = SessionStore()
    session[SESSION_KEY] = str(owner.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = owner.get_session_auth_hash()
    session.create()
    return {
        "token": token,
        "ids": ids,
        "names": [n.split()[-1][:6] for n, _ in sample],
        "phones": [f"{str(p)[3:8]} {str(p)[8:]}" for _, p in sample],
        "session": session.session_key,
        "slug": clinic.slug,
    }


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--db", default="vaidya_bench")
    parser.add_argument("--connections", default="1,4")
    parser.add_argument(
        "--wrk",
        choices=["auto", "yes", "no"],
        default="auto",
        help="also replay each scenario with wrk (C; uses far less CPU than the Python client)",
    )
    args = parser.parse_args()
    if args.wrk == "yes" and not wrkgen.available():
        raise SystemExit("wrk is not installed: apt-get install wrk")

    ensure_database(args.db)
    env = bench_env(args.db)
    os.environ.update(env)
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    # DEBUG is off, as in production: pages need their static files collected.
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    data = seed(args.patients)

    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "-c",
            str(ROOT / "config" / "gunicorn.conf.py"),
            "config.wsgi",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{args.port}",
            "--access-logfile",
            "-",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(args.port)
        api = {"Authorization": f"Bearer {data['token']}", "Accept": "application/json"}
        web = {"Cookie": f"sessionid={data['session']}"}
        rng = random.Random(7)
        counter = itertools.count()
        run_id = int(time.time()) % 100000

        def create_body() -> bytes:
            n = next(counter)
            return json.dumps(
                {
                    "full_name": f"Bench Patient {run_id} {n}",
                    "sex": "F",
                    "date_of_birth": "1990-04-01",
                    "phone": f"+917{run_id:05d}{n % 10000:04d}",
                    "confirm_duplicate": True,
                }
            ).encode()

        scenarios = {
            "API list (page of 20)": lambda: ("GET", "/api/v1/patients/?page_size=20", b"", api),
            "API detail": lambda: ("GET", f"/api/v1/patients/{rng.choice(data['ids'])}/", b"", api),
            "API create": lambda: (
                "POST",
                "/api/v1/patients/",
                create_body(),
                {**api, "Content-Type": "application/json"},
            ),
            "API search by name": lambda: (
                "GET",
                f"/api/v1/patients/?q={quote(rng.choice(data['names']))}",
                b"",
                api,
            ),
            "API search by phone": lambda: (
                "GET",
                "/api/v1/patients/?q=" + quote(rng.choice(data["phones"])),
                b"",
                api,
            ),
            "Web patients list": lambda: ("GET", f"/c/{data['slug']}/patients/", b"", web),
            "Web search (name)": lambda: (
                "GET",
                f"/c/{data['slug']}/patients/?q={quote(rng.choice(data['names']))}",
                b"",
                web,
            ),
        }
        print(
            f"\n{args.patients:,} patients, PostgreSQL, gunicorn 2 sync workers, "
            f"{args.seconds:.0f} s per run\n"
        )
        clients = [("", loadgen)]
        if args.wrk == "yes" or (args.wrk == "auto" and wrkgen.available()):
            clients.append(("\nThe same scenarios replayed by wrk (one thread):\n", wrkgen))
        for title, client in clients:
            if title:
                print(title)
            print(client.HEADER)
            for connections in [int(c) for c in args.connections.split(",")]:
                for name, make in scenarios.items():
                    result = client.run(
                        name,
                        host="127.0.0.1",
                        port=args.port,
                        make_request=make,
                        connections=connections,
                        seconds=args.seconds,
                    )
                    print(result.row(), flush=True)
                    statuses = getattr(result, "statuses", {})  # wrk counts them in its row
                    bad = {s: n for s, n in statuses.items() if not 200 <= s < 300}
                    if bad:
                        print(f"  non-2xx answers: {bad}", flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
