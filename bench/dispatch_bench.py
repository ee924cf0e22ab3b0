"""End-to-end reminder dispatch: claim, send to the WhatsApp simulator over HTTP, record.

    .venv/bin/python bench/dispatch_bench.py [--reminders 4000] [--workers 1,2] [--profile]

Uses PostgreSQL (database `vaidya_bench_dispatch`, created and migrated on first use) and Redis
db 2 for the shared send-rate limiter. Seeds one clinic with a WhatsApp number pointed at the
simulator, 100 patients who agreed to care messages and an approved appointment_reminder
template; then, for each worker count, plans --reminders due reminders and starts that many
`manage.py dispatch_reminders --until-empty` processes. Prints messages per second (wall
clock from the workers' start to the last one's exit, all reminders sent) and the workers' peak
RSS. The simulator runs in this process (its own threads; this process only waits). The
per-number send rate is raised to 1,000/s so that Meta's 80/s default is not what is measured.
`--profile` runs one batch in this process under cProfile instead.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = "postgres://postgres@127.0.0.1:5432"
DB = "vaidya_bench_dispatch"
REDIS = "redis://127.0.0.1:6379/2"
PHONE_NUMBER_ID = "109876543218888"
TOKEN = "EAAGbenchToken0123456789"  # noqa: S105 - the simulator's fake token
WABA_ID = "209876543218888"
PATIENTS = 100


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"{PG}/{DB}",
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        REDIS_URL=REDIS,
        WHATSAPP_SEND_RATE_PER_SECOND="1000",
        WHATSAPP_RATE_LIMIT_KEY_PREFIX="vaidya-bench:",
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


def setup_django() -> None:
    os.environ.update(bench_env())
    import django

    django.setup()


def seed(sim):
    """The bench clinic (created once), its account, template and patients."""
    from clinics.models import Clinic
    from clinics.roles import Role
    from clinics.tenancy import clinic_scope
    from compliance.models import ConsentMethod, ConsentPurpose
    from compliance.services import consent_grant
    from messaging.models import MessageTemplate, TemplateStatus, WhatsAppAccount
    from patients.models import Appointment, Patient
    from tests.factories import ClinicFactory, MembershipFactory, PatientFactory

    clinic = Clinic.objects.filter(slug="dispatch-bench").first()
    if clinic is None:
        clinic = ClinicFactory(name="Dispatch Bench Clinic", slug="dispatch-bench")
    body = "Hello {{1}}, a reminder of your appointment with {{2}} on {{3}} at {{4}}."
    buttons = ("Confirm", "Reschedule", "Cancel")
    sim.add_template(
        name="bench_appointment_reminder",
        language="en",
        category="UTILITY",
        components=[
            {"type": "BODY", "text": body, "example": {"body_text": [["a", "b", "c", "d"]]}},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": b} for b in buttons]},
        ],
    )
    with clinic_scope(clinic):
        WhatsAppAccount.objects.update_or_create(
            clinic=clinic,
            defaults={
                "phone_number_id": PHONE_NUMBER_ID,
                "business_account_id": WABA_ID,
                "display_number": "+91 80 4000 8888",
                "access_token": TOKEN,
                "app_secret": "bench-secret",
                "verify_token": "bench-verify",
            },
        )
        MessageTemplate.objects.update_or_create(
            clinic=clinic,
            name="bench_appointment_reminder",
            language="en",
            defaults={
                "category": "UTILITY",
                "purpose": "appointment_reminder",
                "body": body,
                "buttons": [{"text": b, "payload": b.lower()} for b in buttons],
                "parameter_count": 4,
                "status": TemplateStatus.APPROVED,
            },
        )
        appointments = list(Appointment.objects.filter(status="booked"))
        if len(appointments) < PATIENTS:
            from django.utils import timezone

            staff = MembershipFactory(
                clinic=clinic, role=Role.FRONT_DESK, user__email="dispatch-desk@bench.example"
            )
            doctor = MembershipFactory(
                clinic=clinic, role=Role.DOCTOR, user__email="dispatch-doctor@bench.example"
            )
            starts = timezone.now() + timezone.timedelta(days=300)
            for n in range(PATIENTS):
                patient = PatientFactory(clinic=clinic, phone=f"+91 98765 5{n:04d}")
                consent_grant(
                    patient=patient,
                    purpose=ConsentPurpose.WHATSAPP_CARE,
                    method=ConsentMethod.VERBAL,
                    actor=staff.user,
                )
                appointments.append(
                    Appointment.objects.create(
                        clinic=clinic,
                        patient=patient,
                        doctor=doctor,
                        starts_at=starts + timezone.timedelta(minutes=15 * n),
                        ends_at=starts + timezone.timedelta(minutes=15 * n + 15),
                    )
                )
        assert Patient.objects.count() >= PATIENTS
    return clinic, appointments[:PATIENTS]


def plan(clinic, appointments, count: int) -> None:
    from django.utils import timezone

    from clinics.tenancy import clinic_scope
    from messaging.models import Reminder, ReminderKind

    now = timezone.now()
    with clinic_scope(clinic):
        Reminder.objects.bulk_create(
            [
                Reminder(
                    clinic=clinic,
                    patient_id=appointments[n % len(appointments)].patient_id,
                    kind=ReminderKind.APPOINTMENT_REMINDER,
                    source=f"appointment:{appointments[n % len(appointments)].pk}",
                    due_at=now - timezone.timedelta(microseconds=n + 1),
                )
                for n in range(count)
            ],
            batch_size=2000,
        )


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_workers(workers: int, env: dict[str, str]) -> tuple[float, int, list[str]]:
    """Run the workers; returns (seconds, peak RSS KiB, outputs). CPU seconds of the workers
    and of this process (the simulator) are added to CPU_SECONDS."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "dispatch_reminders", "--until-empty", "--batch", "100"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(workers)
    ]
    peak = 0
    while any(p.poll() is None for p in procs):
        peak = max([peak] + [rss_kib(p.pid) for p in procs if p.poll() is None])
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    own_after = resource.getrusage(resource.RUSAGE_SELF)
    CPU_SECONDS["workers"] = (children_after.ru_utime + children_after.ru_stime) - (
        children.ru_utime + children.ru_stime
    )
    CPU_SECONDS["simulator"] = (own_after.ru_utime + own_after.ru_stime) - (
        own.ru_utime + own.ru_stime
    )
    return elapsed, peak, [p.stdout.read() for p in procs]


CPU_SECONDS: dict[str, float] = {}


def counts(clinic) -> dict[str, int]:
    from collections import Counter

    from clinics.tenancy import clinic_scope
    from messaging.models import Reminder

    with clinic_scope(clinic):
        return dict(Counter(Reminder.objects.values_list("status", flat=True)))


def reset(clinic) -> None:
    from clinics.tenancy import clinic_scope
    from messaging.models import Conversation, Message, MessageStatusEvent, Reminder

    with clinic_scope(clinic):
        Reminder.objects.all().delete()
        MessageStatusEvent.objects.all().delete()
        Message.objects.all().delete()
        Conversation.objects.all().delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reminders", type=int, default=4000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    ensure_database()
    setup_django()
    from devtools.whatsapp_simulator import running_simulator

    with running_simulator(
        phone_number_id=PHONE_NUMBER_ID, token=TOKEN, waba_id=WABA_ID, webhook_url=None
    ) as sim:
        clinic, appointments = seed(sim)
        env = {**bench_env(), "WHATSAPP_API_BASE_URL": sim.base_url}
        if args.profile:
            import cProfile
            import pstats

            from django.conf import settings

            from messaging.services.dispatch import reminders_dispatch

            settings.WHATSAPP_API_BASE_URL = sim.base_url
            reset(clinic)
            plan(clinic, appointments, 600)
            reminders_dispatch(batch=100)  # warm up
            profiler = cProfile.Profile()
            started = time.monotonic()
            profiler.enable()
            reminders_dispatch(batch=500)
            profiler.disable()
            print(f"500 in {time.monotonic() - started:.2f} s")
            pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(40)
            return
        rows = []
        for workers in [int(w) for w in args.workers.split(",")]:
            reset(clinic)
            plan(clinic, appointments, args.reminders)
            sim.reset_requests = None
            before = len(sim.message_requests())
            elapsed, peak, outputs = run_workers(workers, env)
            sent = counts(clinic).get("sent", 0)
            received = len(sim.message_requests()) - before
            cpu = dict(CPU_SECONDS)
            rows.append((workers, args.reminders, sent, received, elapsed, peak, cpu))
            if sent != args.reminders:
                print("workers said:", *outputs, sep="\n")
        print()
        print(
            "| workers | reminders | sent | simulator received | seconds | msg/s | msg/s per "
            "worker | peak worker RSS MB | worker CPU ms/msg | simulator CPU ms/msg |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        for workers, total, sent, received, elapsed, peak, cpu in rows:
            rate = sent / elapsed
            print(
                f"| {workers} | {total} | {sent} | {received} | {elapsed:.1f} | {rate:.0f} | "
                f"{rate / workers:.0f} | {peak / 1024:.0f} | "
                f"{cpu['workers'] * 1000 / max(sent, 1):.1f} | "
                f"{cpu['simulator'] * 1000 / max(sent, 1):.1f} |"
            )


if __name__ == "__main__":
    main()
