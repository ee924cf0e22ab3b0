"""CPU time per API request in-process, for comparing two checkouts of Vaidya on a busy machine.

    .venv/bin/python bench/api_cpu.py [--vaidya-root PATH] [--requests 300] [--rounds 3]

Uses the database `bench/api_ratio_bench.py` seeded (`vaidya_actor_bench`, 100,000 patients) and
Django's test client in this process (no HTTP server, no load generator), and reports the
process's CPU time (`time.process_time`) per request for the patient list, a name search, a
record and registering a patient: the best of --rounds rounds. Wall-clock rates move with
whatever else the machine runs; CPU per request much less. Run it once per checkout, alternating.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vaidya-root", type=Path, default=HERE.parent)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", default="vaidya_actor_bench")
    return parser.parse_args()


# A script, set up at import: the checkout being measured must be on sys.path, and its settings
# in place, before Django and Vaidya's modules are imported below.
ARGS = _arguments()
ROOT = ARGS.vaidya_root.resolve()
sys.path[:0] = [str(ROOT), str(HERE)]
os.chdir(ROOT)
import api_bench  # noqa: E402

ENV = api_bench.bench_env(ARGS.db)
ENV["QUERY_COUNT_HEADER"] = "false"
os.environ.update(ENV)
(Path(ENV["VAIDYA_DATA_DIR"]) / "staticfiles").mkdir(parents=True, exist_ok=True)
import django  # noqa: E402

django.setup()
from django.test import Client  # noqa: E402

from clinics.models import Clinic, User  # noqa: E402
from clinics.services import api_key_create  # noqa: E402
from clinics.tenancy import clinic_scope  # noqa: E402
from patients.models import Patient  # noqa: E402


def main() -> None:
    print(f"Vaidya from {ROOT}: CPU ms per request, best of {ARGS.rounds} x {ARGS.requests}")
    for name, make in _scenarios(_client_and_data()).items():
        make()  # warm: first-use costs (URL patterns, prepared SQL) are not per request
        best = min(_cpu_ms(make, ARGS.requests) for _ in range(ARGS.rounds))
        print(f"| {name} | {best:.2f} |", flush=True)


def _client_and_data():
    clinic = Clinic.objects.get(slug="bench")  # clinics are the tenants: unscoped
    owner = User.objects.get(email="bench-owner@example.in")
    with clinic_scope(clinic):
        _, token = api_key_create(
            clinic=clinic, actor=owner, name="cpu", role="owner", read_only=False
        )
        ids = list(Patient.objects.values_list("id", flat=True)[:5000])
        full_names = Patient.objects.values_list("full_name", flat=True)[:500]
        names = [n.split()[-1][:6] for n in full_names]
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    return client, ids, names


def _scenarios(setup) -> dict:
    client, ids, names = setup
    rng = random.Random(7)
    run = f"{os.getpid() % 1000:03d}"
    counter = iter(range(10**9))

    def create():
        n = next(counter)
        body = {
            "full_name": f"Cpu Patient {run} {n}",
            "sex": "F",
            "date_of_birth": "1990-04-01",
            "phone": f"+9171{run}{n % 100000:05d}",
            "confirm_duplicate": True,
        }
        return client.post("/api/v1/patients/", json.dumps(body), content_type="application/json")

    return {
        "list": lambda: client.get("/api/v1/patients/?page_size=20"),
        "search": lambda: client.get(f"/api/v1/patients/?q={rng.choice(names)}"),
        "detail": lambda: client.get(f"/api/v1/patients/{rng.choice(ids)}/"),
        "create": create,
    }


def _cpu_ms(make, requests: int) -> float:
    started = time.process_time()
    for _ in range(requests):
        response = make()
        if response.status_code >= 300:
            raise SystemExit(f"answered {response.status_code}: {response.content[:200]!r}")
    return (time.process_time() - started) / requests * 1000


if __name__ == "__main__":
    main()
