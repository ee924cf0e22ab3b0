"""Drug search over the full starter formulary: milliseconds per search (p50, p95, max).

    .venv/bin/python bench/drug_search_bench.py [--database postgres|sqlite] [--clinics 20]
                                                [--rounds 20]

Creates (once) a bench database (PostgreSQL `vaidya_bench_rx`, or a SQLite file in the data
folder), migrates it, and gives --clinics clinics the starter formulary (about 430 drugs and
700 brand names each), so one clinic's search runs beside other clinics' rows as in
production. Then runs `patients.selectors.prescriptions.drug_search` in one clinic's scope
for what doctors type: the first 1 to 8 letters of every generic name and brand name
(lower case, as typed), each --rounds times, and prints the time per search. A search is the
one query the prescription form's completion makes on each keystroke (two when some drugs were found
by brand). The machine may be shared: the CPU time of this process and the load average are
printed beside the wall-clock times.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = "postgres://postgres@127.0.0.1:5432"
PG_DB = "vaidya_bench_rx"


def database_url(kind: str) -> str:
    if kind == "postgres":
        return f"{PG}/{PG_DB}"
    path = ROOT / "data" / "bench_drug_search.sqlite3"
    path.parent.mkdir(exist_ok=True)
    return f"sqlite:///{path}"


def bench_env(kind: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(kind),
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
    )
    return env


def prepare(kind: str) -> None:
    if kind == "postgres":
        import psycopg

        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_DB])
            if not found.fetchone():
                conn.execute(f'CREATE DATABASE "{PG_DB}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"],
        cwd=ROOT,
        env=bench_env(kind),
        check=True,
    )
    os.environ.update(bench_env(kind))
    import django

    django.setup()


def seed(count: int):
    from clinics.models import Clinic
    from clinics.tenancy import clinic_scope
    from patients.models import Drug
    from patients.services import formulary_starter_load
    from tests.factories import ClinicFactory

    clinics = []
    for n in range(count):
        slug = f"rx-bench-{n}"
        clinic = Clinic.objects.filter(slug=slug).first() or ClinicFactory(slug=slug)
        with clinic_scope(clinic):
            if not Drug.objects.exists():
                formulary_starter_load(clinic=clinic)
        clinics.append(clinic)
    return clinics[count // 2]


def queries() -> list[str]:
    from patients.prescribing.formulary import shipped_formulary

    names = {row.generic_name for row in shipped_formulary()}
    names |= {brand for row in shipped_formulary() for brand in row.brand_names}
    typed = {name[:n].lower() for name in names for n in range(1, 9) if name[:n].strip()}
    return sorted(typed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--clinics", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    prepare(args.database)

    from django.db import connection

    from clinics.tenancy import clinic_scope
    from patients.models import Drug, DrugBrand
    from patients.selectors.prescriptions import drug_search

    clinic = seed(args.clinics)
    typed = queries()
    timings: list[float] = []
    cpu: list[float] = []
    found = 0
    with clinic_scope(clinic):
        drugs, brands = Drug.objects.count(), DrugBrand.objects.count()
        for query in typed[:50]:  # warm the connection and the query plans
            drug_search(query)
        rng = random.Random(17)
        for _ in range(args.rounds):
            rng.shuffle(typed)
            for query in typed:
                start, start_cpu = time.perf_counter(), time.process_time()
                found += len(drug_search(query))
                timings.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
    timings.sort()
    cpu.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"{connection.vendor}: {drugs} drugs and {brands} brand names in the clinic, "
        f"{args.clinics} clinics; {len(timings)} searches of {len(typed)} typed prefixes"
    )
    print(
        f"ms per search: p50 {statistics.median(timings):.2f}, p95 {p95:.2f}, "
        f"p99 {timings[int(len(timings) * 0.99) - 1]:.2f}, max {timings[-1]:.2f}; "
        f"{found / len(timings):.1f} results on average"
    )
    print(
        f"CPU ms of this process per search (SQLite runs inside it): p50 "
        f"{statistics.median(cpu):.2f}, p95 {cpu[int(len(cpu) * 0.95) - 1]:.2f}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
