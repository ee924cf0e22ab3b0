"""The reports page over a year of a busy clinic, on PostgreSQL (and SQLite).

    .venv/bin/python bench/reports_bench.py [--requests 30] [--sqlite] [--per-day 100]

Seeds (once) the database `vaidya_bench_reports` (with --sqlite, data/bench/reports.sqlite3)
with a clinic of 5 doctors and a year of 100 patients a day: about 36,500 appointments (80
booked and 20 walk-ins a day; booked ones done, cancelled or missed, with check-in and call-in
times), a visit for each one seen, a few visits a day without an appointment, two WhatsApp
reminders per booked appointment (two thirds of the day-before ones confirmed) and about
10,000 patients (a quarter of each day's patients are new). Then serves the reports page in
this process (django.test.Client, DEBUG off, signed in as the owner) for a day, a month and
the whole year, and prints the wall and CPU time per request (p50, p95, after 3 warm-up
requests) and the queries per request. The target: the year in under 300 ms. Numbers, not
pass/fail: see bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_bench import bench_env, ensure_database  # noqa: E402
from clinic_day_bench import _signed_in_session  # noqa: E402

IST = ZoneInfo("Asia/Kolkata")
DOCTORS = 5
DAYS = 365
SQLITE_PATH = ROOT / "data" / "bench" / "reports.sqlite3"


def seed(per_day: int) -> dict:
    """The bench clinic and its year (each only once); returns the session and the slug."""
    import django

    django.setup()
    from django.db import connection

    from clinics.models import Clinic, Membership, User
    from clinics.roles import Role
    from clinics.services import clinic_create, membership_add
    from clinics.tenancy import clinic_scope

    clinic = Clinic.objects.filter(slug="reports").first()  # clinics are the tenants: unscoped
    if clinic is None:
        owner = User.objects.create_user(
            "reports-owner@example.in", "bench-password-2026", full_name="Reports Owner"
        )
        clinic = clinic_create(name="Reports Clinic", slug="reports", state_code="29", owner=owner)
        with clinic_scope(clinic):
            for i in range(DOCTORS):
                user = User.objects.create_user(
                    f"reports-doctor{i}@example.in", "bench-password-2026", full_name=f"Doctor {i}"
                )
                membership_add(clinic=clinic, actor=owner, user=user, role=Role.DOCTOR)
    owner = User.objects.get(email="reports-owner@example.in")
    with clinic_scope(clinic):
        doctors = list(Membership.objects.filter(role=Role.DOCTOR).order_by("pk"))
        _seed_year(clinic, doctors, per_day)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
    return {"session": _signed_in_session(owner), "slug": clinic.slug}


def _seed_year(clinic, doctors, per_day: int) -> None:
    from django.db import transaction

    from patients.models import Appointment

    if Appointment.objects.exists():
        return
    started = time.perf_counter()
    rng = random.Random(17)
    today = datetime.now(IST).date()
    pool = _PatientPool(clinic, rng)
    with transaction.atomic():
        for offset in range(DAYS, 0, -1):
            _seed_day(clinic, doctors, today - timedelta(days=offset), per_day, pool, rng)
    print(
        f"seeded {Appointment.objects.count():,} appointments, {pool.count:,} patients in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )


class _PatientPool:
    """A quarter of each day's patients are new; the others came before."""

    def __init__(self, clinic, rng: random.Random) -> None:
        self.clinic, self.rng, self.ids, self.count = clinic, rng, [], 0

    def pick(self, n: int) -> list[int]:
        from patients.models import Patient, normalise_name

        new = [self.rng.random() < 0.25 or not self.ids for _ in range(n)]
        fresh = Patient.objects.bulk_create(
            Patient(
                clinic=self.clinic,
                number=self.count + k + 1,
                full_name=f"Patient {self.count + k + 1}",
                search_name=normalise_name(f"Patient {self.count + k + 1}"),
                date_of_birth=date(1960 + k % 50, 1 + k % 12, 1 + k % 28),
                sex="FM"[k % 2],
                phone=f"+9196{self.count + k + 1:08d}",
            )
            for k in range(sum(new))
        )
        self.count += len(fresh)
        fresh_ids = [p.pk for p in fresh]
        picked = [fresh_ids.pop() if is_new else self.rng.choice(self.ids) for is_new in new]
        self.ids.extend(p.pk for p in fresh)
        return picked


def _seed_day(clinic, doctors, day: date, per_day: int, pool: _PatientPool, rng) -> None:
    from messaging.models import Reminder, ReminderKind, ReminderStatus
    from messaging.services.care_replies import CONFIRMED
    from patients.models import Appointment, AppointmentKind, AppointmentStatus, Visit

    s = AppointmentStatus
    patients = pool.pick(per_day)
    walk_ins = per_day // 5
    appointments = []
    for i, patient_id in enumerate(patients):
        doctor = doctors[i % len(doctors)]
        starts = datetime(day.year, day.month, day.day, 10, tzinfo=IST) + timedelta(
            minutes=15 * (i // len(doctors))
        )
        walk_in = i < walk_ins
        status = (
            s.COMPLETED
            if walk_in
            else rng.choices([s.COMPLETED, s.CANCELLED, s.NO_SHOW], [85, 9, 6])[0]
        )
        checked_in = starts - timedelta(minutes=rng.randint(0, 15))
        called = checked_in + timedelta(minutes=rng.randint(0, 45), seconds=rng.randint(0, 59))
        seen = status == s.COMPLETED
        appointments.append(
            Appointment(
                clinic=clinic,
                patient_id=patient_id,
                doctor=doctor,
                kind=AppointmentKind.WALK_IN if walk_in else AppointmentKind.BOOKED,
                status=status,
                starts_at=checked_in if walk_in else starts,
                ends_at=checked_in if walk_in else starts + timedelta(minutes=15),
                checked_in_at=checked_in if seen else None,
                started_at=called if seen else None,
                completed_at=called + timedelta(minutes=10) if seen else None,
            )
        )
    Appointment.objects.bulk_create(appointments)
    Visit.objects.bulk_create(
        [
            Visit(
                clinic=clinic,
                patient_id=a.patient_id,
                doctor=a.doctor,
                appointment=a,
                status="signed",
                created_at=a.started_at,
            )
            for a in appointments
            if a.status == s.COMPLETED
        ]
        + [
            Visit(
                clinic=clinic,
                patient_id=rng.choice(pool.ids),
                doctor=rng.choice(doctors),
                created_at=datetime(day.year, day.month, day.day, 19, k, tzinfo=IST),
            )
            for k in range(3)
        ]
    )
    Reminder.objects.bulk_create(
        Reminder(
            clinic=clinic,
            patient_id=a.patient_id,
            kind=kind,
            source=f"appointment:{a.pk}",
            due_at=a.starts_at - ahead,
            status=ReminderStatus.SENT,
            outcome=CONFIRMED if kind == ReminderKind.APPOINTMENT_REMINDER and a.pk % 3 else "",
        )
        for a in appointments
        if a.kind == AppointmentKind.BOOKED
        for kind, ahead in (
            (ReminderKind.APPOINTMENT_CONFIRMATION, timedelta(days=3)),
            (ReminderKind.APPOINTMENT_REMINDER, timedelta(hours=24)),
        )
    )


def time_pages(pages: dict[str, str], session_key: str, requests: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies["sessionid"] = session_key
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n{connection.vendor}, {requests} requests a page after 3 to warm up, load {load}\n")
    print("| page | wall p50 ms | wall p95 ms | CPU p50 ms | queries/request |")
    print("|---|---|---|---|---|")
    for name, path in pages.items():
        for _ in range(3):
            client.get(path)
        walls, cpus = [], []
        for _ in range(requests):
            wall, cpu = time.perf_counter(), time.process_time()
            response = client.get(path)
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{name}: HTTP {response.status_code}")
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        walls.sort()
        p95 = walls[min(len(walls) - 1, round(len(walls) * 0.95) - 1)]
        print(
            f"| {name} | {statistics.median(walls):.0f} | {p95:.0f} | "
            f"{statistics.median(cpus):.0f} | {len(queries)} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=100)
    parser.add_argument("--db", default="vaidya_bench_reports")
    parser.add_argument("--sqlite", action="store_true", help=f"use {SQLITE_PATH}")
    args = parser.parse_args()

    env = bench_env(args.db)
    if args.sqlite:
        SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{SQLITE_PATH}"
    else:
        ensure_database(args.db)
    os.environ.update(env)
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    data = seed(args.per_day)
    from django.urls import reverse

    base = reverse("reports", args=[data["slug"]])
    today = datetime.now(IST).date()
    year = f"period=custom&date_from={today - timedelta(days=DAYS)}&date_to={today}"
    pages = {
        "Reports, yesterday": f"{base}?period=custom&date_from={today - timedelta(days=1)}"
        f"&date_to={today - timedelta(days=1)}",
        "Reports, last month": f"{base}?period=last_month",
        "Reports, the whole year": f"{base}?{year}",
        "Reports, the year, one doctor": f"{base}?{year}&doctor={_a_doctor()}",
        "CSV, patients seen, the year": reverse("report-csv", args=[data["slug"]])
        + f"?{year}&section=patients-seen",
    }
    time_pages(pages, data["session"], args.requests)


def _a_doctor() -> int:
    from clinics.models import Clinic, Membership
    from clinics.roles import Role
    from clinics.tenancy import clinic_scope

    with clinic_scope(Clinic.objects.get(slug="reports")):
        return Membership.objects.filter(role=Role.DOCTOR).order_by("pk").first().pk


if __name__ == "__main__":
    main()
