"""Pruning the audit trail on PostgreSQL: events removed per second, and the longest lock.

    .venv/bin/python bench/audit_prune_bench.py [--events 200000] [--fresh 5000] [--batch 2000]

Uses PostgreSQL (database `vaidya_bench_audit`, created and migrated on first use). Each run
empties the bench clinic's trail, writes --events audit events four years old (past the default
three-year audit-log period) and --fresh recent ones (INSERT ... SELECT generate_series), seals
them into the keyed chain (`audit_seal`, not timed), then runs `clinics.audit.audit_prune` as the
purge does and checks that the old events are gone, the recent ones stay and the chain verifies.

The lock time is measured as in bench/purge_bench.py: every transaction the prune opens is timed
from its start to the end of its commit, and a second connection samples pg_locks every 20 ms
for the prune's backend holding a lock on clinics_auditevent.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import purge_bench  # noqa: E402

purge_bench.DB = "vaidya_bench_audit"


class AuditLockSampler(purge_bench.LockSampler):
    def run(self) -> None:
        import psycopg

        sql = """
            SELECT EXTRACT(EPOCH FROM clock_timestamp() - a.xact_start)
            FROM pg_stat_activity a
            JOIN pg_locks l ON l.pid = a.pid
            WHERE a.pid = %s AND a.xact_start IS NOT NULL AND l.granted
              AND l.relation = 'clinics_auditevent'::regclass
            LIMIT 1
        """
        with psycopg.connect(f"{purge_bench.PG}/{purge_bench.DB}", autocommit=True) as conn:
            while not self.stop.is_set():
                row = conn.execute(sql, [self.backend_pid]).fetchone()
                self.samples += 1
                if row and row[0] is not None:
                    self.with_lock += 1
                    self.longest = max(self.longest, float(row[0]))
                time.sleep(self.interval)


def seed(clinic_id: int, old: int, fresh: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("clinics_auditevent", "clinics_auditanchor", "clinics_auditchainhead"):
            cursor.execute(f"DELETE FROM {table} WHERE clinic_id = %s", [clinic_id])  # noqa: S608

        def insert(count: int, days_old: int) -> None:
            cursor.execute(
                "INSERT INTO clinics_auditevent (clinic_id, created_at, actor_label, via, action, "
                "target_type, target_id, patient_id, user_agent, data, prev_hash, hash, key_id) "
                "SELECT %s, now() - %s * interval '1 day' + g * interval '1 millisecond', '', "
                "'web', 'patients.patient.viewed', 'patients.patient', g::text, g, '', '{}', "
                "'', '', '' FROM generate_series(1, %s) g",
                [clinic_id, days_old, count],
            )

        insert(old, 4 * 365)
        insert(fresh, 1)
        cursor.execute("VACUUM ANALYZE clinics_auditevent")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--fresh", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()

    purge_bench.ensure_database()
    os.environ.update(purge_bench.bench_env())
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from clinics import audit
    from clinics.models import AuditEvent, Clinic
    from clinics.tenancy import clinic_scope
    from tests.factories import ClinicFactory

    clinic = Clinic.objects.filter(slug="audit-bench").first() or ClinicFactory(
        name="Audit Bench Clinic", slug="audit-bench"
    )
    started = time.perf_counter()
    seed(clinic.pk, args.events, args.fresh)
    audit.audit_seal(clinic_id=clinic.pk, batch_size=5000)
    print(f"seeded and sealed {args.events:,} old + {args.fresh:,} recent events "
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

    audit.transaction = type("TimedTransaction", (), {"atomic": staticmethod(timed_atomic)})
    connection.ensure_connection()
    sampler = AuditLockSampler(connection.connection.info.backend_pid)
    sampler.start()
    started = time.perf_counter()
    pruned = audit.audit_prune(
        clinic_id=clinic.pk,
        before=timezone.now() - timedelta(days=3 * 365),
        batch_size=args.batch,
    )
    seconds = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()

    with clinic_scope(clinic.pk):
        kept = AuditEvent.objects.count()
    report = audit.audit_verify(clinic_id=clinic.pk)
    print(f"pruned {pruned:,} audit events in {seconds:.1f} s ({pruned / seconds:,.0f} rows/s), "
          f"batches of {args.batch:,} (adaptive): {len(durations)} transactions")  # fmt: skip
    print(f"longest transaction (timed, start to commit): {max(durations) * 1000:.0f} ms; "
          f"mean {sum(durations) / len(durations) * 1000:.0f} ms")  # fmt: skip
    print(f"longest lock on clinics_auditevent seen from a second connection: "
          f"{sampler.longest * 1000:.0f} ms ({sampler.with_lock} of {sampler.samples} samples "
          f"found a lock held)")  # fmt: skip
    print(f"recent events kept: {kept:,} of {args.fresh:,}; chain verifies: {report.ok} "
          f"(from #{report.pruned_to + 1}, {report.checked:,} checked)")  # fmt: skip
    ok = pruned == args.events and kept == args.fresh and report.ok
    ok = ok and max(durations) <= 1.0 and sampler.longest <= 1.0
    print("target (everything past the period gone, no lock over 1 s):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
