"""The retention purge on PostgreSQL: expired message texts per second, and the longest lock.

    .venv/bin/python bench/purge_bench.py [--messages 1000000] [--fresh 10000] [--batch 2000]

Uses PostgreSQL (database `vaidya_bench_purge`, created and migrated on first use). Each run
empties the clinic's messages, writes --messages messages 100 days old (past the 90-day period of
WhatsApp texts) and --fresh recent ones in one conversation (INSERT ... SELECT generate_series,
copying one message the ORM made), then runs the clinic's purge (`compliance.purge.purge_clinic`,
the schedule's work) and checks that every old text is gone and every recent one stays.

How the lock time is measured, two ways:
- every transaction the purge opens (`transaction.atomic` in compliance/purge.py) is timed from
  its start to the end of its commit: the longest is the longest any row lock was held;
- a second connection samples pg_stat_activity and pg_locks every 20 ms, and records for the
  purge's backend the age of its open transaction whenever it holds a lock on messaging_message
  (locks are held until the transaction ends, so this is the longest lock seen from outside).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = "postgres://postgres@127.0.0.1:5432"
DB = "vaidya_bench_purge"


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


class LockSampler(threading.Thread):
    """Samples, from its own connection, how long the purge's backend has held its open
    transaction while holding a lock on messaging_message."""

    def __init__(self, backend_pid: int, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.backend_pid = backend_pid
        self.interval = interval
        self.samples = 0
        self.with_lock = 0
        self.longest = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        import psycopg

        sql = """
            SELECT EXTRACT(EPOCH FROM clock_timestamp() - a.xact_start)
            FROM pg_stat_activity a
            JOIN pg_locks l ON l.pid = a.pid
            WHERE a.pid = %s AND a.xact_start IS NOT NULL AND l.granted
              AND l.relation = 'messaging_message'::regclass
            LIMIT 1
        """
        with psycopg.connect(f"{PG}/{DB}", autocommit=True) as conn:
            while not self.stop.is_set():
                row = conn.execute(sql, [self.backend_pid]).fetchone()
                self.samples += 1
                if row and row[0] is not None:
                    self.with_lock += 1
                    self.longest = max(self.longest, float(row[0]))
                time.sleep(self.interval)


def seed(clinic_id: int, old: int, fresh: int) -> None:
    from django.db import connection

    from clinics.models import Clinic
    from clinics.tenancy import clinic_scope
    from messaging.models import (
        Conversation,
        Direction,
        Message,
        MessageKind,
        MessageStatus,
        WhatsAppAccount,
    )
    from patients.models import Patient
    from tests.factories import PatientFactory

    with clinic_scope(clinic_id):
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM messaging_message WHERE clinic_id = %s", [clinic_id])
        account = WhatsAppAccount.objects.first() or WhatsAppAccount.objects.create(
            clinic_id=clinic_id,
            phone_number_id="109876543210009",
            business_account_id="209876543210009",
            display_number="+91 80 4000 9999",
            access_token="token-x",  # noqa: S106 (a bench account)
            app_secret="secret-x",  # noqa: S106
            verify_token="verify-x",  # noqa: S106
        )
        patient = Patient.objects.first() or PatientFactory(clinic=Clinic.objects.get(pk=clinic_id))
        conversation = Conversation.objects.filter(patient=patient).first()
        conversation = conversation or Conversation.objects.create(
            clinic_id=clinic_id, account=account, patient=patient, wa_id="919800011111"
        )
        model = Message.objects.create(
            clinic_id=clinic_id,
            conversation=conversation,
            patient=patient,
            direction=Direction.INBOUND,
            kind=MessageKind.TEXT,
            body="model",
            status=MessageStatus.RECEIVED,
        )
    columns = [f.column for f in Message._meta.concrete_fields if f.column not in ("id",)]
    values = {
        "public_id": "gen_random_uuid()",
        "wamid": "NULL",
        "body": "'My sugar was ' || g || ' this morning, doctor. Address: 12 MG Road'",
    }

    def insert(count: int, age: str) -> None:
        select = ", ".join(
            values.get(c, f"now() - interval '{age}'" if c == "created_at" else f"m.{c}")
            for c in columns
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO messaging_message ({', '.join(columns)}) "  # noqa: S608 (bench)
                f"SELECT {select} FROM messaging_message m, generate_series(1, %s) g "
                f"WHERE m.id = %s",
                [count, model.pk],
            )

    insert(old, "100 days")
    insert(fresh, "1 day")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM messaging_message WHERE id = %s", [model.pk])
        cursor.execute("VACUUM ANALYZE messaging_message")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--fresh", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()

    ensure_database()
    os.environ.update(bench_env())
    import django

    django.setup()
    from django.db import connection, transaction

    from clinics.models import Clinic
    from clinics.tenancy import in_clinic
    from compliance import purge
    from messaging.models import Message
    from tests.factories import ClinicFactory

    clinic = Clinic.objects.filter(slug="purge-bench").first() or ClinicFactory(
        name="Purge Bench Clinic", slug="purge-bench"
    )
    started = time.perf_counter()
    seed(clinic.pk, args.messages, args.fresh)
    print(f"seeded {args.messages:,} old + {args.fresh:,} recent messages "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip

    durations: list[float] = []

    @contextlib.contextmanager
    def timed_atomic(*a, **kw):
        t0 = time.perf_counter()
        try:
            with transaction.atomic(*a, **kw):
                yield
        finally:
            durations.append(time.perf_counter() - t0)

    purge.transaction = type("TimedTransaction", (), {"atomic": staticmethod(timed_atomic)})
    connection.ensure_connection()
    sampler = LockSampler(connection.connection.info.backend_pid)
    sampler.start()
    started = time.perf_counter()
    with in_clinic(clinic.pk, via="command"):
        counts = purge.purge_clinic(clinic_id=clinic.pk, batch_size=args.batch)
    seconds = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()

    with in_clinic(clinic.pk, via="command"):
        left_old = Message.objects.exclude(body="").filter(body__contains="sugar").count()
        kept = Message.objects.exclude(body="").count()
    erased = counts["kinds"]["messaging.message"]
    print(f"purged {erased:,} message texts in {seconds:.1f} s "
          f"({erased / seconds:,.0f} rows/s), batches of {args.batch:,}: {len(durations)} "
          f"transactions")  # fmt: skip
    print(f"longest transaction (timed, start to commit): {max(durations) * 1000:.0f} ms; "
          f"mean {sum(durations) / len(durations) * 1000:.0f} ms")  # fmt: skip
    print(f"longest lock on messaging_message seen from a second connection: "
          f"{sampler.longest * 1000:.0f} ms ({sampler.with_lock} of {sampler.samples} samples "
          f"found a lock held)")  # fmt: skip
    print(f"recent texts kept: {kept:,} of {args.fresh:,}; old texts left: "
          f"{left_old - kept if left_old > kept else 0:,}")  # fmt: skip
    ok = erased == args.messages and kept == args.fresh and seconds <= 60
    ok = ok and max(durations) <= 1.0 and sampler.longest <= 1.0
    print("target (<= 60 s, no lock over 1 s):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
