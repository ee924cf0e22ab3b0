"""Backup and restore of a large installation on PostgreSQL: seconds, MB/s, archive size.

    .venv/bin/python bench/backup_bench.py [--patients 100000] [--documents 10000] [--doc-kb 64]

Seeds (once) the 100,000-patient clinic of `bench/api_bench.py` (its seed, in its own database
`vaidya_backup_bench`, so the API benchmark's numbers are not changed by the documents), adds
--documents stored files (random bytes, so they do not compress; local storage, encrypted at
rest as in the embedded default) under `data/backup-bench/media`, then times `manage.py backup` into
`data/backup-bench/backups` and `manage.py restore` of that archive into a fresh database and data
folder. Numbers, not pass/fail: see bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import api_bench  # noqa: E402

DB = "vaidya_backup_bench"
RESTORE_DB = "vaidya_backup_bench_restore"


def add_documents(count: int, size_kb: int) -> None:
    import django

    django.setup()
    from django.core.files.base import ContentFile

    from clinics.models import Clinic
    from clinics.storage import object_key, storage
    from clinics.tenancy import clinic_scope
    from patients.models import Document, DocumentKind, DocumentStatus, Patient

    clinic = Clinic.objects.get(slug="bench")
    with clinic_scope(clinic):
        have = Document.objects.count()
        if have >= count:
            return
        patients = list(Patient.objects.values_list("id", flat=True)[: count - have])
        start, rows = time.perf_counter(), []
        for i in range(count - have):
            data = os.urandom(size_kb * 1024)
            name = storage().save(
                object_key(clinic_id=clinic.pk, kind="documents", extension="bin"),
                ContentFile(data),
            )
            rows.append(
                Document(
                    clinic=clinic,
                    patient_id=patients[i % len(patients)],
                    kind=DocumentKind.OTHER,
                    title=f"Bench document {have + i}",
                    status=DocumentStatus.READY,
                    file=name,
                    size=len(data),
                    content_type="application/octet-stream",
                )
            )
            if len(rows) == 1000:
                Document.objects.bulk_create(rows)
                rows = []
        Document.objects.bulk_create(rows)
        print(f"stored {count - have} documents in {time.perf_counter() - start:.1f} s")


def _mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--doc-kb", type=int, default=64)
    args = parser.parse_args()

    env = api_bench.bench_env(DB)
    data_dir = Path(env["VAIDYA_DATA_DIR"]).parent / "backup-bench"
    env["VAIDYA_DATA_DIR"] = str(data_dir)
    os.environ.update(env)
    api_bench.ensure_database(DB)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    api_bench.seed(args.patients)
    add_documents(args.documents, args.doc_kb)

    out = data_dir / "backups"
    shutil.rmtree(out, ignore_errors=True)
    db_mb = _mb(data_dir / "media")
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "backup", "--to", str(out)], cwd=ROOT, env=env, check=True
    )
    backup_s = time.perf_counter() - start
    (archive,) = out.iterdir()
    size = _mb(archive)

    import psycopg

    with psycopg.connect(f"{api_bench.PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{RESTORE_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{RESTORE_DB}"')
    fresh = data_dir.parent / "bench-restore"
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(mode=0o700)
    for key in ("secret_key", "encryption_key", "audit_key", "backup_key"):
        if (data_dir / key).exists():
            shutil.copy(data_dir / key, fresh / key)
    restore_env = {
        **api_bench.bench_env(RESTORE_DB),
        "VAIDYA_DATA_DIR": str(fresh),
        "SECRET_KEY": env["SECRET_KEY"],
    }
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "restore", str(archive)],
        cwd=ROOT,
        env=restore_env,
        check=True,
    )
    restore_s = time.perf_counter() - start
    print(
        f"\n{args.patients} patients, {args.documents} documents of {args.doc_kb} KB "
        f"({db_mb:.0f} MB of files)\n"
        f"backup:  {backup_s:6.1f} s  {size / backup_s:6.1f} MB/s  archive {size:.1f} MB\n"
        f"restore: {restore_s:6.1f} s  {size / restore_s:6.1f} MB/s"
    )


if __name__ == "__main__":
    main()
