"""PDF benchmark: warm and cold prescription renders, and documents per minute with two workers.

    .venv/bin/python bench/pdf_bench.py [--renders 50] [--cold 5] [--documents 200] [--workers 2]

Creates the PostgreSQL database `bench_pdf_db` afresh on every run, with a temporary data
folder (local encrypted storage), and seeds one clinic with a letterhead logo, a doctor with a
signature image, and signed visits whose prescriptions carry 6 medicines, two diagnoses, vitals
and advice, for patients with Devanagari, Kannada and Latin names. Then:

- warm: `clinics.pdf.render_pdf` of one prescription in this process, after one warm-up render;
- cold: a fresh Python process that sets up Django, imports WeasyPrint and renders the first
  document (wall time from spawning the process to its exit);
- throughput: `manage.py qcluster` with Q_WORKERS workers, a Redis broker (REDIS_URL, database
  --redis-db on 127.0.0.1:6379) and PostgreSQL, draining --documents
  `patients.tasks.render_document` tasks for prepared prescriptions (render, encrypt, store,
  mark ready, audit), with the workers' memory sampled while they work.

Numbers, not pass/fail: see bench/README.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_bench import PG, bench_env  # noqa: E402
from pdf_bench_seed import BENCH_SLUG, seed  # noqa: E402

DB = "bench_pdf_db"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
TARGET_WARM_P50_MS = 200


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1]


def recreate_database(db: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')


def _bench_clinic_id() -> int:
    """The one clinic the benchmark seeds (clinics are the tenant root: not scoped)."""
    from clinics.models import Clinic

    return Clinic.objects.values_list("pk", flat=True).get(slug=BENCH_SLUG)


def _render_parts(document_id: int):
    """The template and context the render task builds for a document (selector + images)."""
    from clinics.tenancy import clinic_scope
    from patients.models import Document
    from patients.rendering import document_context, renderer_for

    with clinic_scope(_bench_clinic_id()):
        document = Document.objects.select_related("visit").get(pk=document_id)
        spec = renderer_for(document.kind)(document)
        return spec.template, document_context(document, spec)


def _timed(fn, runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each of `runs` calls. CPU time is this process's own, so it
    shows the work apart from waiting for a core the machine's other processes hold."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        cpus.append((time.process_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
    return walls, cpus


def warm(document_id: int, renders: int, save_to: str | None = None) -> dict:
    from pypdf import PdfReader

    from clinics.pdf import render_pdf

    template, context = _render_parts(document_id)
    first_started = time.perf_counter()
    pdf = render_pdf(template, context)  # warm-up: imports WeasyPrint, loads fonts
    first = time.perf_counter() - first_started
    if save_to:
        from django.template.loader import render_to_string

        Path(save_to).write_bytes(pdf)
        Path(save_to).with_suffix(".html").write_text(render_to_string(template, context))
    times = _timed(lambda: render_pdf(template, context), renders)
    full = _timed(lambda: render_pdf(*_render_parts(document_id)), max(5, renders // 5))
    reader = PdfReader(io.BytesIO(pdf))
    fonts = set()
    for page in reader.pages:
        for font in (page.get("/Resources") or {}).get("/Font", {}).values():
            fonts.add(str(font.get_object().get("/BaseFont", "")).split("+")[-1])
    return {
        "first_ms": first * 1000,
        "times": times,
        "full": full,
        "bytes": len(pdf),
        "pages": len(reader.pages),
        "fonts": sorted(fonts),
        "devanagari_font": any("Devanagari" in font for font in fonts),
    }


def cold_child(document_id: int) -> None:
    """Run in a fresh process: set up Django, import WeasyPrint, render the first document."""
    started = time.perf_counter()
    import django

    django.setup()
    setup = time.perf_counter()
    import weasyprint  # noqa: F401

    imported = time.perf_counter()
    from clinics.pdf import render_pdf

    template, context = _render_parts(document_id)
    pdf = render_pdf(template, context)
    rendered = time.perf_counter()
    print(
        json.dumps(
            {
                "cpu_ms": time.process_time() * 1000,  # the whole process, interpreter included
                "setup_ms": (setup - started) * 1000,
                "import_ms": (imported - setup) * 1000,
                "render_ms": (rendered - imported) * 1000,
                "bytes": len(pdf),
            }
        )
    )


def cold(document_id: int, processes: int, env: dict) -> dict:
    walls, parts = [], []
    for _ in range(processes):
        started = time.perf_counter()
        result = subprocess.run(
            [PYTHON, __file__, "--cold-child", str(document_id)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        walls.append((time.perf_counter() - started) * 1000)
        parts.append(json.loads(result.stdout.strip().splitlines()[-1]))
    return {"walls": walls, "parts": parts}


def _process_group(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp
            pids.append(int(entry.name))
    return pids


def _memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in KiB; PSS shares pages fairly between the forked processes."""
    try:
        rss = pss = 0
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
        return rss, pss
    except OSError:
        return 0, 0


def _cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _wait_ready(ids: list[int], timeout: float, on_poll=None) -> int:
    from clinics.tenancy import clinic_scope
    from patients.models import Document, DocumentStatus

    clinic_id = _bench_clinic_id()
    deadline = time.monotonic() + timeout
    while True:
        with clinic_scope(clinic_id):
            pending = Document.objects.filter(pk__in=ids, status=DocumentStatus.PREPARING).count()
        if on_poll is not None:
            on_poll()
        if pending == 0 or time.monotonic() > deadline:
            return pending
        time.sleep(0.25)


class _MemorySampler:
    """The cluster's memory while it works: each process's largest RSS (with its PSS then) and
    the whole cluster's PSS at every poll."""

    def __init__(self, pgid: int):
        self.pgid = pgid
        self.samples: dict[int, tuple[int, int]] = {}
        self.totals: list[int] = []

    def __call__(self) -> None:
        pss_total = 0
        for pid in _process_group(self.pgid):
            rss, pss = _memory_kib(pid)
            pss_total += pss
            if rss > self.samples.get(pid, (0, 0))[0]:
                self.samples[pid] = (rss, pss)
        self.totals.append(pss_total)


def _start_cluster(env: dict, workers: int, log) -> subprocess.Popen:
    from django_q.brokers import get_broker

    get_broker().delete_queue()  # nothing left over from an earlier, interrupted run
    return subprocess.Popen(
        [PYTHON, "manage.py", "qcluster"],
        cwd=ROOT,
        env={**env, "Q_WORKERS": str(workers)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop_cluster(cluster: subprocess.Popen) -> None:
    # The cluster's main process stops its sentinel and workers in order; signalling the
    # whole group at once leaves the sentinel waiting on workers that are gone.
    os.kill(cluster.pid, signal.SIGTERM)
    try:
        cluster.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait(timeout=10)


def _warm_up(warmup_ids: list[int], sample: _MemorySampler, log) -> float:
    """The cluster starts and each worker imports WeasyPrint on its first task; returns the
    seconds until the warm-up documents are ready."""
    from django.db import close_old_connections
    from django_q.tasks import async_task

    from patients.services.documents import RENDER_TASK

    started = time.perf_counter()
    for document_id in warmup_ids:
        async_task(RENDER_TASK, document_id)
    if _wait_ready(warmup_ids, timeout=180, on_poll=sample):
        log.flush()
        tail = Path(log.name).read_text(errors="replace")[-3000:]
        raise SystemExit(f"The warm-up documents did not render. The cluster said:\n{tail}")
    cluster_warm_s = time.perf_counter() - started
    close_old_connections()
    return cluster_warm_s


def _render_batch(ids: list[int], cluster_pid: int, sample: _MemorySampler) -> dict:
    """Enqueue `ids` at once and wait for them: how long, with how much CPU, how many failed."""
    from django.db.models import Max
    from django.utils import timezone
    from django_q.tasks import async_task

    from clinics.tenancy import clinic_scope
    from patients.models import Document, DocumentStatus
    from patients.services.documents import RENDER_TASK

    cpu_before = _cpu_seconds(_process_group(cluster_pid))
    enqueue_started = timezone.now()
    started = time.perf_counter()
    for document_id in ids:
        async_task(RENDER_TASK, document_id)
    enqueue_s = time.perf_counter() - started
    pending = _wait_ready(ids, timeout=60 + 10 * len(ids), on_poll=sample)
    cpu_used = _cpu_seconds(_process_group(cluster_pid)) - cpu_before
    with clinic_scope(_bench_clinic_id()):
        done = Document.objects.filter(pk__in=ids)
        failed = done.filter(status=DocumentStatus.FAILED).count()
        last = done.filter(status=DocumentStatus.READY).aggregate(last=Max("ready_at"))["last"]
    if last is None:
        raise SystemExit("No document was rendered: see the cluster's log.")
    return {
        "ready": len(ids) - pending - failed,
        "failed": failed,
        "pending": pending,
        "elapsed_s": (last - enqueue_started).total_seconds(),
        "enqueue_s": enqueue_s,
        "cpu_per_document_s": cpu_used / max(1, len(ids) - pending),
    }


def throughput(ids: list[int], warmup_ids: list[int], env: dict, workers: int, log) -> dict:
    cluster = _start_cluster(env, workers, log)
    sample = _MemorySampler(cluster.pid)
    try:
        cluster_warm_s = _warm_up(warmup_ids, sample, log)
        result = _render_batch(ids, cluster.pid, sample)
    finally:
        _stop_cluster(cluster)
    # The workers are the processes that rendered: the largest in the cluster.
    by_size = sorted(sample.samples.values(), reverse=True)
    return {
        **result,
        "cluster_warm_s": cluster_warm_s,
        "worker_rss_mib": [rss / 1024 for rss, _ in by_size[:workers]],
        "worker_pss_mib": [pss / 1024 for _, pss in by_size[:workers]],
        "cluster_pss_mib": max(sample.totals) / 1024 if sample.totals else 0,
        "processes": len(sample.samples),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=50)
    parser.add_argument("--cold", type=int, default=5)
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redis-db", type=int, default=12)
    parser.add_argument("--save-pdf", help="Also write the sample prescription to this file.")
    parser.add_argument("--cold-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.cold_child:
        cold_child(args.cold_child)
        return

    data_dir = tempfile.mkdtemp(prefix="bench_pdf_")
    try:
        run(args, data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def run(args: argparse.Namespace, data_dir: str) -> None:
    env = bench_env(DB)
    env.update(
        VAIDYA_DATA_DIR=data_dir,
        REDIS_URL=f"redis://127.0.0.1:6379/{args.redis_db}",
        Q_WORKERS=str(args.workers),
        Q_SYNC="false",
        S3_BUCKET="",
        SITE_URL="https://clinic.example.in",
    )
    env.pop("ENCRYPTION_KEYS", None)
    recreate_database(DB)
    os.environ.update(env)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    warmup_count = 2 * args.workers
    ids = seed(1 + warmup_count + args.documents)
    sample_id, warmup_ids, batch = ids[0], ids[1 : 1 + warmup_count], ids[1 + warmup_count :]

    print(
        "\nPrescription: letterhead with logo, Devanagari patient name, 6 medicines, "
        "2 diagnoses, vitals, advice, signature image, verification QR code\n"
    )
    w = warm(sample_id, args.renders, save_to=args.save_pdf)
    print(
        f"PDF: {w['bytes'] / 1024:.0f} KiB, {w['pages']} page(s); fonts: {', '.join(w['fonts'])}"
        f" (Devanagari font embedded: {'yes' if w['devanagari_font'] else 'NO'})\n"
    )
    c = cold(sample_id, args.cold, env)
    walls = c["walls"]
    setup = [p["setup_ms"] for p in c["parts"]]
    imports = [p["import_ms"] for p in c["parts"]]
    first = [p["render_ms"] for p in c["parts"]]

    print("| render | runs | p50 ms | p95 ms | min ms | max ms | CPU p50 ms |")
    print("|---|---|---|---|---|---|---|")
    rows = [
        ("Warm: render_pdf (template + WeasyPrint)", *w["times"]),
        ("Warm: selector, images, QR and render_pdf", *w["full"]),
        ("Cold: new process, wall time to first PDF", walls, [p["cpu_ms"] for p in c["parts"]]),
        ("Cold: of which django.setup()", setup, None),
        ("Cold: of which import weasyprint", imports, None),
        ("Cold: of which first render (with selector)", first, None),
    ]
    for label, values, cpus in rows:
        cpu = f"{pct(cpus, 50):.0f}" if cpus else ""
        print(
            f"| {label} | {len(values)} | {pct(values, 50):.0f} | {pct(values, 95):.0f} "
            f"| {min(values):.0f} | {max(values):.0f} | {cpu} |"
        )
    print(f"\nIn-process first render (warm-up, imports WeasyPrint): {w['first_ms']:.0f} ms")
    p50 = pct(w["times"][0], 50)
    verdict = "met" if p50 <= TARGET_WARM_P50_MS else "not met"
    print(
        f"Target warm prescription render p50 <= {TARGET_WARM_P50_MS} ms: {p50:.0f} ms, {verdict}"
    )

    with open(Path(data_dir) / "qcluster.log", "w") as log:
        t = throughput(batch, warmup_ids, env, args.workers, log)
    print(
        f"\nqcluster, {args.workers} workers, Redis broker, PostgreSQL, local encrypted storage\n"
    )
    print(
        "| documents | ready | failed | seconds | documents/minute | CPU s/document "
        "| worker RSS MiB (max) | worker PSS MiB | cluster PSS MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {len(batch)} | {t['ready']} | {t['failed']} | {t['elapsed_s']:.1f} "
        f"| {t['ready'] / t['elapsed_s'] * 60:.0f} | {t['cpu_per_document_s']:.2f} "
        f"| {' / '.join(f'{v:.0f}' for v in t['worker_rss_mib'])} "
        f"| {' / '.join(f'{v:.0f}' for v in t['worker_pss_mib'])} "
        f"| {t['cluster_pss_mib']:.0f} |"
    )
    print(
        f"\nEnqueueing {len(batch)} tasks took {t['enqueue_s'] * 1000:.0f} ms; starting the "
        f"cluster and rendering {len(warmup_ids)} warm-up documents (each worker's first) took "
        f"{t['cluster_warm_s']:.1f} s; {t['processes']} processes in the cluster. "
        f"At {t['cpu_per_document_s']:.2f} CPU s a document, {args.workers} workers with a core "
        f"each would make about {args.workers * 60 / t['cpu_per_document_s']:.0f} a minute."
    )
    if t["pending"]:
        print(f"  {t['pending']} documents were still preparing at the time limit")


if __name__ == "__main__":
    main()
