"""Planning 100,000 medicine reminders: seconds.

    .venv/bin/python bench/planning_bench.py [--prescriptions 1000] [--days 34] [--profile N]

Uses PostgreSQL (database `vaidya_bench_dispatch`, shared with bench/dispatch_bench.py; created
and migrated on first use). Seeds a clinic with --prescriptions signed prescriptions of one
patient each, each with one medicine taken 1-1-1 (three doses a day) for --days days, so about
prescriptions x days x 3 reminders (1,000 x 34 x 3 = 102,000). Then times
`plan_for_prescription` for every prescription, one transaction each (as signing a visit
does), and prints the seconds, reminders per second, queries per prescription and the CPU
seconds of the planning loop: this process's own (Python: computing the doses, building the rows,
Django and psycopg), and the PostgreSQL backend's serving it (read from /proc, so only when the
server runs on this machine). The machine is shared, so compare CPU rather than wall seconds.
`--profile N` prints the cProfile of the planning loop (sorted by own time, top N functions).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dispatch_bench import ensure_database, setup_django  # noqa: E402


def seed(count: int, days: int):
    from django.utils import timezone

    from clinics.models import Clinic
    from clinics.roles import Role
    from clinics.tenancy import clinic_scope
    from messaging.models import Reminder
    from patients.dosing import parse_frequency, to_json
    from patients.models import Prescription, PrescriptionItem, Visit
    from tests.factories import ClinicFactory, MembershipFactory, PatientFactory

    clinic = Clinic.objects.filter(slug="planning-bench").first() or ClinicFactory(
        name="Planning Bench Clinic", slug="planning-bench"
    )
    with clinic_scope(clinic):
        Reminder.objects.all().delete()
        prescriptions = list(Prescription.objects.all())
        if len(prescriptions) >= count:
            return clinic, prescriptions[:count]
        doctor = MembershipFactory(
            clinic=clinic, role=Role.DOCTOR, user__email="planning-doctor@bench.example"
        )
        patient = PatientFactory(clinic=clinic)
        now = timezone.now()
        visits = Visit.objects.bulk_create(
            Visit(
                clinic=clinic,
                patient=patient,
                doctor=doctor,
                status="signed",
                signed_at=now,
                chief_complaints="Bench",
            )
            for _ in range(count)
        )
        prescriptions = Prescription.objects.bulk_create(
            Prescription(
                clinic=clinic,
                visit=v,
                patient=patient,
                doctor=doctor,
                status="signed",
                signed_at=now,
            )
            for v in visits
        )
        schedule = to_json(parse_frequency("1-1-1"))
        PrescriptionItem.objects.bulk_create(
            PrescriptionItem(
                clinic=clinic,
                prescription=p,
                generic_name="PARACETAMOL",
                strength="500 mg",
                form="tablet",
                frequency="1-1-1",
                schedule=schedule,
                duration_days=days,
                timing="after_food",
                starts_on=timezone.localdate() + timezone.timedelta(days=1),
            )
            for p in prescriptions
        )
    return clinic, prescriptions


def backend_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a PostgreSQL backend process (None when it is not on this machine)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prescriptions", type=int, default=1000)
    parser.add_argument("--days", type=int, default=34)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()
    ensure_database()
    setup_django()
    from django.db import connection, transaction

    from clinics.tenancy import clinic_scope
    from messaging.models import Reminder
    from messaging.services.reminders import plan_for_prescription
    from patients.models import Prescription

    clinic, prescriptions = seed(args.prescriptions, args.days)
    with clinic_scope(clinic):
        ids = [p.pk for p in prescriptions]
        queries = []

        def count(execute, sql, params, many, context):
            # Counts statements without keeping their SQL (a debug cursor would, and slow
            # the inserts being measured).
            queries.append(1)
            return execute(sql, params, many, context)

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        profile = cProfile.Profile() if args.profile else None
        db_cpu_before = backend_cpu_seconds(backend)
        cpu_started = time.process_time()
        started = time.monotonic()
        if profile:
            profile.enable()
        with connection.execute_wrapper(count):
            for prescription in Prescription.objects.filter(pk__in=ids).select_related(
                "clinic", "visit"
            ):
                with transaction.atomic():
                    plan_for_prescription(prescription=prescription)
        if profile:
            profile.disable()
        elapsed = time.monotonic() - started
        cpu = time.process_time() - cpu_started
        db_cpu_after = backend_cpu_seconds(backend)
        planned = Reminder.objects.count()
    db_cpu = (
        f"{db_cpu_after - db_cpu_before:.1f}"
        if db_cpu_before is not None and db_cpu_after is not None
        else ""
    )
    if profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)
    print()
    print(
        "| prescriptions | reminders planned | seconds | reminders/s | queries/prescription "
        "| CPU s (Python) | CPU s (PostgreSQL backend) |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {len(ids)} | {planned} | {elapsed:.1f} | {planned / elapsed:.0f} | "
        f"{len(queries) / len(ids):.1f} | {cpu:.1f} | {db_cpu} |"
    )


if __name__ == "__main__":
    main()
