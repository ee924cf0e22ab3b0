"""The clinic's day at scale: day view, queue and a long patient record on PostgreSQL.

    .venv/bin/python bench/clinic_day_bench.py [--seconds 10] [--port 8767] [--cpu-requests 50]

Seeds (once) the database `vaidya_bench_day` with a clinic of 5 doctors working two sessions a
day, two years of appointments (about 100,000: every slot booked plus three walk-ins a doctor a
day; past ones done, cancelled or missed, the coming weeks booked), today's queue, and one
patient with 300 signed visits (vitals, diagnoses, a prescription each). Serves Vaidya with
gunicorn (2 sync workers, DEBUG off) and times the clinic day view, the queue and that
patient's page at 1 and 4 connections: requests/s, p50 and p95 latency and server time
(X-Server-Time-Ms), and queries per request. With --cpu-requests it first serves each page that
many times in this process (django.test.Client) and reports the CPU time per request, which
other work on the machine disturbs much less than wall time. Numbers, not pass/fail: see
bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
from api_bench import bench_env, ensure_database, wait_for_port  # noqa: E402

IST = ZoneInfo("Asia/Kolkata")
DOCTORS = 5
DAYS_BACK, DAYS_AHEAD = 700, 30
SLOT_MINUTES = 15
WALK_INS_PER_DAY = 3
SESSIONS = ((10, 13), (17, 20))


def seed() -> dict:
    """The bench clinic, its doctors' hours, patients, appointments and one long record (each
    only once); returns what the load needs: a signed-in session and the pages' ids."""
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from clinics.models import Membership, User
    from clinics.roles import Role
    from clinics.tenancy import clinic_scope
    from patients.models import Patient

    clinic = _bench_clinic()
    owner = User.objects.get(email="day-owner@example.in")
    rng = random.Random(11)
    today = timezone.localdate()
    with clinic_scope(clinic):
        doctors = list(Membership.objects.filter(role=Role.DOCTOR).order_by("pk"))
        _seed_working_hours(clinic, doctors)
        _seed_patients(clinic)
        patient_ids = list(Patient.objects.values_list("id", flat=True))
        _seed_appointments(clinic, doctors, patient_ids, rng, today)
        heavy = Patient.objects.get(number=1)
        _seed_long_record(clinic, heavy, doctors)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {
        "session": _signed_in_session(owner),
        "slug": clinic.slug,
        "heavy_patient": heavy.pk,
        "doctor": doctors[0].pk,
    }


def _bench_clinic():
    """The "day" clinic with its owner and DOCTORS doctors, created on the first run."""
    from clinics.models import Clinic, User
    from clinics.roles import Role
    from clinics.services import clinic_create, membership_add
    from clinics.tenancy import clinic_scope

    clinic = Clinic.objects.filter(slug="day").first()  # clinics are the tenants: unscoped
    if clinic is not None:
        return clinic
    owner = User.objects.create_user(
        "day-owner@example.in", "bench-password-2026", full_name="Day Owner"
    )
    clinic = clinic_create(name="Day Clinic", slug="day", state_code="29", owner=owner)
    with clinic_scope(clinic):
        for i in range(DOCTORS):
            user = User.objects.create_user(
                f"day-doctor{i}@example.in", "bench-password-2026", full_name=f"Doctor {i}"
            )
            membership_add(clinic=clinic, actor=owner, user=user, role=Role.DOCTOR)
    return clinic


def _seed_working_hours(clinic, doctors) -> None:
    """Every doctor works both SESSIONS every day of the week."""
    from patients.models import WorkingHours

    if WorkingHours.objects.exists():
        return
    WorkingHours.objects.bulk_create(
        WorkingHours(
            clinic=clinic,
            doctor=d,
            weekday=w,
            start_time=f"{a}:00",
            end_time=f"{b}:00",
            slot_minutes=SLOT_MINUTES,
        )
        for d in doctors
        for w in range(7)
        for a, b in SESSIONS
    )


def _seed_patients(clinic) -> None:
    from patients.models import Patient, normalise_name

    if Patient.objects.count() >= 5000:
        return
    start = time.perf_counter()
    Patient.objects.bulk_create(
        Patient(
            clinic=clinic,
            number=n,
            full_name=f"Patient {n}",
            search_name=normalise_name(f"Patient {n}"),
            date_of_birth=date(1960 + n % 50, 1 + n % 12, 1 + n % 28),
            sex="FM"[n % 2],
            phone=f"+9197{n:08d}",
        )
        for n in range(1, 5001)
    )
    print(f"seeded 5,000 patients in {time.perf_counter() - start:.1f} s")


def _seed_appointments(clinic, doctors, patient_ids, rng: random.Random, today: date) -> None:
    """DAYS_BACK days back to DAYS_AHEAD ahead: every slot booked, plus the walk-ins."""
    from patients.models import Appointment

    if Appointment.objects.exists():
        return
    start = time.perf_counter()
    batch = []
    for offset in range(-DAYS_BACK, DAYS_AHEAD + 1):
        day = today + timedelta(days=offset)
        for d in doctors:
            batch += _booked_slots(clinic, d, day, offset, patient_ids, rng)
            batch += _walk_ins(clinic, d, day, offset, patient_ids, rng)
        if len(batch) >= 10000:
            Appointment.objects.bulk_create(batch)
            batch = []
    Appointment.objects.bulk_create(batch)
    print(
        f"seeded {Appointment.objects.count():,} appointments in "
        f"{time.perf_counter() - start:.1f} s"
    )


def _slot_status(offset: int, rng: random.Random) -> str:
    """Past slots done, cancelled or missed; today's booked or waiting; the coming ones booked."""
    from patients.models import AppointmentStatus

    if offset < 0:
        return rng.choices(
            [AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW],
            [85, 10, 5],
        )[0]
    if offset == 0:
        return rng.choice([AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN])
    return AppointmentStatus.BOOKED


def _booked_slots(clinic, doctor, day: date, offset: int, patient_ids, rng: random.Random):
    """Every slot of the doctor's sessions that day, booked (walk-ins come on top)."""
    from patients.models import Appointment, AppointmentKind

    per_session = (SESSIONS[0][1] - SESSIONS[0][0]) * 60 // SLOT_MINUTES
    slots = []
    for a, _ in SESSIONS:
        for k in range(per_session):
            starts = datetime(day.year, day.month, day.day, a, tzinfo=IST) + timedelta(
                minutes=k * SLOT_MINUTES
            )
            status = _slot_status(offset, rng)
            slots.append(
                Appointment(
                    clinic=clinic,
                    patient_id=rng.choice(patient_ids),
                    doctor=doctor,
                    kind=AppointmentKind.BOOKED,
                    status=status,
                    starts_at=starts,
                    ends_at=starts + timedelta(minutes=SLOT_MINUTES),
                    checked_in_at=starts if status == "checked_in" else None,
                    token_number=(k + 1) if status == "checked_in" else None,
                )
            )
    return slots


def _walk_ins(clinic, doctor, day: date, offset: int, patient_ids, rng: random.Random):
    """WALK_INS_PER_DAY walk-ins from 11:00, done in the past and waiting from today on."""
    from patients.models import Appointment, AppointmentKind, AppointmentStatus

    walk_ins = []
    for w in range(WALK_INS_PER_DAY):
        arrived = datetime(day.year, day.month, day.day, 11, tzinfo=IST) + timedelta(minutes=37 * w)
        walk_ins.append(
            Appointment(
                clinic=clinic,
                patient_id=rng.choice(patient_ids),
                doctor=doctor,
                kind=AppointmentKind.WALK_IN,
                status=AppointmentStatus.COMPLETED if offset < 0 else AppointmentStatus.CHECKED_IN,
                starts_at=arrived,
                ends_at=arrived,
                checked_in_at=arrived,
                token_number=w + 1,
            )
        )
    return walk_ins


def _seed_long_record(clinic, heavy, doctors) -> None:
    """300 signed visits for one patient, two days apart, each with vitals, a diagnosis and a
    prescription of one medicine."""
    from django.db import transaction
    from django.utils import timezone

    from patients.models import Visit

    if Visit.objects.filter(patient=heavy).count() >= 300:
        return
    start = time.perf_counter()
    with transaction.atomic():
        for i in range(300):
            when = timezone.now() - timedelta(days=2 * (300 - i))
            _signed_visit(clinic, heavy, doctors[i % DOCTORS], i, when)
    print(f"seeded 300 visits in {time.perf_counter() - start:.1f} s")


def _signed_visit(clinic, patient, doctor, i: int, when: datetime) -> None:
    from patients.models import (
        Diagnosis,
        Prescription,
        PrescriptionItem,
        Visit,
        VisitStatus,
        Vitals,
    )

    visit = Visit.objects.create(
        clinic=clinic,
        patient=patient,
        doctor=doctor,
        status=VisitStatus.SIGNED,
        chief_complaints="Follow-up",
        examination="Stable",
        advice="Continue",
        created_at=when,
        signed_at=when,
        signed_by=doctor.user,
    )
    Vitals.objects.create(
        clinic=clinic,
        visit=visit,
        bp_systolic=120 + i % 20,
        bp_diastolic=80 + i % 10,
        pulse=72,
        weight_kg=Decimal("70.5"),
        height_cm=Decimal("170.0"),
        recorded_at=when,
    )
    Diagnosis.objects.create(
        clinic=clinic, visit=visit, text="Essential hypertension", icd10_code="I10"
    )
    rx = Prescription.objects.create(
        clinic=clinic,
        visit=visit,
        patient=patient,
        doctor=visit.doctor,
        status="signed",
        signed_at=when,
    )
    PrescriptionItem.objects.create(
        clinic=clinic,
        prescription=rx,
        generic_name="AMLODIPINE",
        strength="5 mg",
        form="tablet",
        frequency="1-0-0",
        duration_days=30,
        quantity=30,
    )


def _signed_in_session(owner) -> str:
    """A database session signed in as the owner; returns its key for the cookie."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(owner.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = owner.get_session_auth_hash()
    session.create()
    return session.session_key


def cpu_times(pages: dict[str, str], session_key: str, requests: int) -> None:
    """Serve each page `requests` times in this process and print the CPU time per request
    (time.process_time: this process's own work, not waiting for PostgreSQL or for a core)."""
    import statistics

    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies["sessionid"] = session_key
    print(f"\nIn-process CPU time, {requests} requests a page after 3 to warm up\n")
    print("| page | CPU p50 ms | CPU p95 ms | queries/request |")
    print("|---|---|---|---|")
    for name, path in pages.items():
        for _ in range(3):
            client.get(path)
        times = []
        for _ in range(requests):
            started = time.process_time()
            response = client.get(path)
            times.append((time.process_time() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{name}: HTTP {response.status_code}")
        times.sort()
        p95 = times[min(len(times) - 1, round(len(times) * 0.95) - 1)]
        print(
            f"| {name} | {statistics.median(times):.1f} | {p95:.1f} | "
            f"{response['X-Query-Count']} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--db", default="vaidya_bench_day")
    parser.add_argument("--connections", default="1,4")
    parser.add_argument("--cpu-requests", type=int, default=0, help="0: skip the CPU timing")
    args = parser.parse_args()

    ensure_database(args.db)
    env = bench_env(args.db)
    os.environ.update(env)
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    data = seed()
    from django.urls import reverse

    slug = data["slug"]
    pages = {
        "Clinic day view (5 doctors)": reverse("schedule-day", args=[slug]),
        "Queue": reverse("schedule-queue", args=[slug]),
        "Patient page (300 visits)": reverse("patient-detail", args=[slug, data["heavy_patient"]]),
    }
    if args.cpu_requests:
        cpu_times(pages, data["session"], args.cpu_requests)
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
        web = {"Cookie": f"sessionid={data['session']}"}
        print(
            "\n5 doctors, ~100,000 appointments, PostgreSQL, gunicorn 2 sync workers, "
            f"{args.seconds:.0f} s per run\n"
        )
        print(loadgen.HEADER)
        for connections in [int(c) for c in args.connections.split(",")]:
            for name, path in pages.items():
                result = loadgen.run(
                    name,
                    host="127.0.0.1",
                    port=args.port,
                    make_request=lambda p=path: ("GET", p, b"", web),
                    connections=connections,
                    seconds=args.seconds,
                )
                print(result.row(), flush=True)
                bad = {s: n for s, n in result.statuses.items() if not 200 <= s < 300}
                if bad:
                    print(f"  non-2xx answers: {bad}", flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
