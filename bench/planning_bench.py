"""Planning 100,000 medicine reminders: seconds.

    .venv/bin/python bench/planning_bench.py [--prescriptions 1000] [--days 34]

Uses PostgreSQL (database `hB_dispatch_bench`, shared with bench/dispatch_bench.py; created
and migrated on first use). Seeds a clinic with --prescriptions signed prescriptions of one
patient each, each with one medicine taken 1-1-1 (three doses a day) for --days days, so about
prescriptions x days x 3 reminders (1,000 x 34 x 3 = 102,000). Then times
`plan_for_prescription` for every prescription, one transaction each (as signing a visit
does), and prints the seconds, reminders per second and queries per prescription.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prescriptions", type=int, default=1000)
    parser.add_argument("--days", type=int, default=34)
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

        started = time.monotonic()
        with connection.execute_wrapper(count):
            for prescription in Prescription.objects.filter(pk__in=ids).select_related(
                "clinic", "visit"
            ):
                with transaction.atomic():
                    plan_for_prescription(prescription=prescription)
        elapsed = time.monotonic() - started
        planned = Reminder.objects.count()
    print()
    print("| prescriptions | reminders planned | seconds | reminders/s | queries/prescription |")
    print("|---|---|---|---|---|")
    print(
        f"| {len(ids)} | {planned} | {elapsed:.1f} | {planned / elapsed:.0f} | "
        f"{len(queries) / len(ids):.1f} |"
    )


if __name__ == "__main__":
    main()
