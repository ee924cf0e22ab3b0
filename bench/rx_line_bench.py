"""Adding a prescription item by one line: server time per add (p50, p95, max).

    .venv/bin/python bench/rx_line_bench.py [--database postgres|sqlite] [--patients 100000]
                                            [--rounds 5]

Creates (once) a bench database (PostgreSQL `vaidya_bench_rxline`, or a SQLite file in the
data folder), migrates it, and seeds one clinic made with `clinic_create` (so it has the full
starter formulary, about 430 drugs and 700 brand names) and --patients patients. A doctor
signs in and opens a draft visit for a patient with two recorded allergies. Then it posts each
of 20 lines doctors type ("Dolo 650 1-0-1 5d after food", "Syp Cetirizine 5 ml HS x 3 days",
...) to the visit editor's one-line add, as htmx does, --rounds times, and times the request in
the process: reading the line, finding the drug, the allergy, class and dose checks, saving
the item with its audit event, and rendering the prescription section. The item is removed
(untimed) after each add so every add meets the same prescription. The machine may be shared:
the CPU time and the load average are printed beside the wall-clock times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = "postgres://postgres@127.0.0.1:5432"
PG_DB = "vaidya_bench_rxline"

LINES = [
    "Dolo 650 1-0-1 5d after food",
    "Tab Paracetamol 650 1-0-1 x 5 days after food",
    "Syp Cetirizine 5 ml HS x 3 days",
    "Tab Azithromycin 500 mg OD x 3 days before food",
    "Cap Amoxicillin 500 1-1-1 for 1 week",
    "Tab Pantoprazole 40 OD BF x 14 days",
    "Tab Montelukast 10 mg HS x 1 month",
    "Tab Metformin 500 1-0-1 after meals x 30 days",
    "Tab Cetirizine 10 0-0-1 x 5d",
    "Tab Paracetamol 500 Q6H x 3 days",
    "Tab Amlodipine 5 mg 1-0-0 x 30 days",
    "Tab Telmisartan 40 OD for 2 weeks",
    "Tab Levocetirizine 5 HS x 7d",
    "Cap Doxycycline 100 BD x 7 days after food",
    "Tab Ondansetron 4 mg SOS",
    "Tab Prednisolone 10 mg 1-0-0 x 5 days after food",
    "Tab Ciprofloxacin 500 twice daily for 5 days",
    "Tab Metronidazole 400 TDS x 5 days",
    "Tab Cefixime 200 BD x 7 days",
    "Tab Albendazole 400 stat",
]


def database_url(kind: str) -> str:
    if kind == "postgres":
        return f"{PG}/{PG_DB}"
    path = ROOT / "data" / "bench_rx_line.sqlite3"
    path.parent.mkdir(exist_ok=True)
    return f"sqlite:///{path}"


def prepare(kind: str) -> None:
    os.environ.update(
        DATABASE_URL=database_url(kind),
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
        ALLOWED_HOSTS="testserver",
    )
    if kind == "postgres":
        import psycopg

        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_DB])
            if found.fetchone() is None:
                conn.execute(f'CREATE DATABASE "{PG_DB}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(n_patients: int) -> dict:
    import random
    from datetime import date

    from django.db import connection

    from clinics.models import Clinic, ClinicCounter, Membership, User
    from clinics.roles import Role
    from clinics.services import clinic_create
    from clinics.tenancy import clinic_scope
    from patients import services
    from patients.models import Patient, normalise_name

    clinic = Clinic.objects.filter(slug="bench-rx").first()  # clinics are the tenants
    if clinic is None:
        owner = User.objects.create_user(
            "bench-rx-doctor@example.in", "bench-password-2026", full_name="Bench Doctor"
        )
        clinic = clinic_create(
            name="Bench Rx Clinic", slug="bench-rx", state_code="29", owner=owner
        )
    doctor_user = User.objects.get(email="bench-rx-doctor@example.in")
    with clinic_scope(clinic):
        doctor = Membership.objects.get(user=doctor_user, role=Role.OWNER)
        have = Patient.objects.count()
        rng = random.Random(2026)
        batch = []
        for i in range(have, n_patients):
            batch.append(
                Patient(
                    clinic=clinic,
                    number=i + 1,
                    full_name=f"Patient {i:06d}",
                    search_name=normalise_name(f"Patient {i:06d}"),
                    date_of_birth=date(rng.randint(1940, 2007), rng.randint(1, 12), 15),
                    sex=rng.choice("FM"),
                    phone=f"+9197{i:08d}",
                )
            )
            if len(batch) == 5000:
                Patient.objects.bulk_create(batch)
                batch = []
        if batch:
            Patient.objects.bulk_create(batch)
        ClinicCounter.objects.update_or_create(
            clinic=clinic, name="patient", defaults={"value": max(have, n_patients)}
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        patient = Patient.objects.order_by("number").first()
        if not patient.allergy_entries.exists():
            services.patient_allergy_add(
                patient=patient, actor=doctor_user, drug_class="sulfonamides"
            )
            services.patient_allergy_add(patient=patient, actor=doctor_user, substance="LATEX")
        visit = services.visit_start(
            clinic=clinic,
            actor=doctor_user,
            actor_membership=doctor,
            patient=patient,
            doctor=doctor,
        )
    return {"clinic": clinic, "user": doctor_user, "visit": visit}


def run(rounds: int, seeded: dict) -> list[float]:
    from django.test import Client
    from django.urls import reverse

    from clinics.tenancy import clinic_scope
    from patients.models import PrescriptionItem

    clinic, visit = seeded["clinic"], seeded["visit"]
    client = Client()
    client.force_login(seeded["user"])
    url = reverse("visit-item-line", args=[clinic.slug, visit.pk])
    times: list[float] = []
    for round_number in range(rounds + 1):
        for line in LINES:
            start = time.perf_counter()
            response = client.post(url, {"line": line}, HTTP_HX_REQUEST="true")
            elapsed = (time.perf_counter() - start) * 1000
            body = response.content.decode()
            if response.status_code != 200 or "Added " not in body:
                raise SystemExit(f"{line!r} was not added: {response.status_code} {body[:300]}")
            if round_number:  # the first round warms the caches
                times.append(elapsed)
            with clinic_scope(clinic):
                PrescriptionItem.objects.filter(prescription__visit=visit).delete()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    prepare(args.database)
    seeded = seed(args.patients)
    cpu = time.process_time()
    times = run(args.rounds, seeded)
    cpu = (time.process_time() - cpu) * 1000 / len(times)
    ordered = sorted(times)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    print(
        f"{args.database}: {len(times)} one-line adds with {args.patients} patients and the "
        f"full formulary: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, "
        f"max {ordered[-1]:.1f} ms; CPU {cpu:.1f} ms an add; load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
