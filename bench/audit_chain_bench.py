"""Sealing and verifying the audit chain: events per second.

    .venv/bin/python bench/audit_chain_bench.py [--events 20000] [--repeat 3]

Uses PostgreSQL (database `vaidya_bench_audit`, created and migrated on first use). Each round
writes --events unsealed audit events for one clinic (bulk, as many requests would), then times
`audit_seal` (the schedule's work: numbering, linking and hashing every event, in batches of
2,000) and `audit_verify` (reading and re-hashing the whole chain), and prints a Markdown table.
The chain grows by --events every round. Sealing is off the request path, so this says how many
events a minute one worker can seal, not what a request costs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = "postgres://postgres@127.0.0.1:5432"
DB = "vaidya_bench_audit"


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"{PG}/{DB}",
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
    )
    return env


def ensure_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB]).fetchone():
            conn.execute(f'CREATE DATABASE "{DB}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=bench_env(), check=True
    )


def write_events(clinic_id: int, count: int) -> None:
    from clinics.audit import Actions
    from clinics.models import AuditEvent
    from clinics.tenancy import clinic_scope

    with clinic_scope(clinic_id):
        AuditEvent.objects.bulk_create(
            AuditEvent(
                clinic_id=clinic_id,
                action=Actions.PATIENT_VIEWED,
                actor_label="Bench Doctor",
                target_type="patients.patient",
                target_id=str(i),
                patient_id=i,
                ip="10.0.0.1",
                user_agent="bench",
                data={"fields": ["name", "phone"]},
            )
            for i in range(count)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    ensure_database()
    os.environ.update(bench_env())
    import django

    django.setup()
    from clinics.audit import audit_seal, audit_verify
    from clinics.models import Clinic
    from tests.factories import ClinicFactory

    clinic = Clinic.objects.filter(slug="audit-bench").first() or ClinicFactory(
        name="Audit Bench Clinic", slug="audit-bench"
    )
    print("| round | chain length | seal events/s | verify events/s |")
    print("|---|---|---|---|")
    for round_no in range(1, args.repeat + 1):
        write_events(clinic.pk, args.events)
        started = time.perf_counter()
        sealed = audit_seal(clinic_id=clinic.pk)
        seal_seconds = time.perf_counter() - started
        started = time.perf_counter()
        report = audit_verify(clinic_id=clinic.pk)
        verify_seconds = time.perf_counter() - started
        if not report.ok:
            sys.exit(f"The bench chain is broken: {report.problem}")
        print(
            f"| {round_no} | {report.checked:,} | {sealed / seal_seconds:,.0f} "
            f"| {report.checked / verify_seconds:,.0f} |"
        )


if __name__ == "__main__":
    main()
