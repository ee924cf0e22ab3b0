"""Billing benchmark: issuing bills with their PDFs on two workers, the bill-create API, and
the monthly GST summary, on PostgreSQL.

    .venv/bin/python bench/billing_bench.py [--issue 10000] [--workers 2] [--summary 100000]
        [--seconds 10] [--connections 4] [--only issue,api,summary] [--db vaidya_bench_billing]

Seeds (once) the database `vaidya_bench_billing` with a GST-registered clinic in Karnataka,
2,000 patients, a catalogue (an exempt procedure, a medicine at 5%), and last month's
--summary issued bills (an exempt line and a taxable one each, one in a hundred from another
state, one in fifty with a credit note), written in bulk as the services would leave them.
Then, each part chosen with --only:

- summary: `billing.selectors.reports.gst_summary` for last month in this process, 3 warm-up
  calls then 20, wall time p50/p95 and the queries per call. Target: at most 500 ms.
- api: gunicorn (2 sync workers, `DEBUG=false`) and `bench/loadgen.py` with --connections
  posting `POST /api/v1/bills/` (two catalogue lines, a random patient) for --seconds.
- issue: --issue drafts written in bulk, then `manage.py qcluster` with --workers workers
  (the settings' broker: Redis with REDIS_URL, else the ORM), warmed up on a few bills; this
  process issues every draft through `billing.services.bill_issue` (number, freeze, PDF task
  after commit) and waits until every PDF is stored. Bills per second end to end: from the
  first issue to the last PDF stored.

Numbers, not pass/fail: see bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
from api_bench import bench_env, ensure_database, wait_for_port  # noqa: E402

IST = ZoneInfo("Asia/Kolkata")
PYTHON = str(ROOT / ".venv" / "bin" / "python")
SLUG = "billbench"
GSTIN = "29AAPFU0939F1ZR"
PATIENTS = 2000
TARGET_SUMMARY_MS = 500


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(len(ordered) * q) - 1))]


def last_month() -> tuple[date, date]:
    first_this = datetime.now(IST).date().replace(day=1)
    last = first_this - timedelta(days=1)
    return last.replace(day=1), last


def seed() -> dict:
    """The bench clinic, its patients and catalogue (once); what the parts need."""
    import django

    django.setup()
    from billing.models import BillingProfile, CatalogueItem, GstTreatment, ItemKind
    from clinics.models import Clinic, User
    from clinics.services import api_key_create, clinic_create
    from clinics.tenancy import clinic_scope
    from patients.models import Patient, normalise_name

    clinic = Clinic.objects.filter(slug=SLUG).first()  # clinics are the tenants: unscoped
    if clinic is None:
        owner = User.objects.create_user(
            "billbench-owner@example.in", "bench-password-2026", full_name="Bill Bench Owner"
        )
        clinic = clinic_create(name="Bill Bench Clinic", slug=SLUG, state_code="29", owner=owner)
    owner = User.objects.get(email="billbench-owner@example.in")
    with clinic_scope(clinic):
        BillingProfile.objects.get_or_create(
            clinic=clinic,
            defaults={
                "gst_registered": True,
                "gstin": GSTIN,
                "legal_name": "Bill Bench LLP",
                "state_code": "29",
                "upi_vpa": "billbench@okbank",
                "upi_payee_name": "Bill Bench",
            },
        )
        if not CatalogueItem.objects.exists():
            CatalogueItem.objects.create(
                clinic=clinic,
                kind=ItemKind.PROCEDURE,
                name="Dressing",
                code="999312",
                gst_treatment=GstTreatment.EXEMPT,
                price_paise=30000,
            )
            CatalogueItem.objects.create(
                clinic=clinic,
                kind=ItemKind.PHARMACY,
                name="Paracetamol 500 mg strip",
                code="30049099",
                gst_treatment=GstTreatment.TAXABLE,
                gst_rate_bp=500,
                price_paise=2000,
                unit="strip",
            )
        if Patient.objects.count() < PATIENTS:
            Patient.objects.bulk_create(
                Patient(
                    clinic=clinic,
                    number=i + 1,
                    full_name=f"Bill Patient {i + 1}",
                    search_name=normalise_name(f"Bill Patient {i + 1}"),
                    date_of_birth=date(1960 + i % 50, 1 + i % 12, 1 + i % 28),
                    sex="FM"[i % 2],
                    phone=f"+9197{i:08d}",
                    state_code="27" if i % 100 == 0 else "29",
                )
                for i in range(PATIENTS)
            )
        items = {i.gst_treatment: i.pk for i in CatalogueItem.objects.all()}
        patients = list(Patient.objects.values_list("pk", flat=True))
        _, token = api_key_create(
            clinic=clinic, actor=owner, name="billbench", role="billing", read_only=False
        )
    return {
        "clinic": clinic,
        "owner": owner,
        "token": token,
        "patients": patients,
        "exempt_item": items["exempt"],
        "taxable_item": items["taxable"],
    }


def _bill_rows(clinic, patient_id: int, *, inter_state: bool, status: str, number: str, day):
    """A bill as `bill_issue` leaves it (or a draft): Rs 300 exempt + 2 strips at Rs 20 (5%)."""
    from billing.models import Bill, BillLine, DocType, PdfStatus

    tax = 200  # 5% of Rs 40
    heads = (0, 0, tax) if inter_state else (tax // 2, tax - tax // 2, 0)
    issued = status != "draft"
    at = datetime.combine(day, dtime(11), tzinfo=IST) if day else None
    bill = Bill(
        clinic=clinic,
        patient_id=patient_id,
        status=status,
        doc_type=DocType.INVOICE_BILL_OF_SUPPLY,
        series="INV" if issued else "",
        number=number,
        issue_date=day,
        issued_at=at,
        gst_registered=issued,
        gstin=GSTIN if issued else "",
        supplier_state="29",
        place_of_supply="27" if inter_state else "29",
        gross_paise=34000,
        taxable_value_paise=4000,
        exempt_value_paise=30000,
        cgst_paise=heads[0],
        sgst_paise=heads[1],
        igst_paise=heads[2],
        total_paise=34000 + tax,
        pdf_status=PdfStatus.READY if issued else "",
        created_at=at or datetime.now(IST),
    )
    lines = [
        BillLine(
            clinic=clinic,
            position=0,
            description="Dressing",
            code="999312",
            quantity=1,
            unit_price_paise=30000,
            taxable_value_paise=30000,
            total_paise=30000,
        ),
        BillLine(
            clinic=clinic,
            position=1,
            description="Paracetamol 500 mg strip",
            code="30049099",
            is_goods=True,
            taxable=True,
            rate_bp=500,
            quantity=2,
            unit="strip",
            unit_price_paise=2000,
            taxable_value_paise=4000,
            tax_charged=True,
            inter_state=inter_state,
            cgst_paise=heads[0],
            sgst_paise=heads[1],
            igst_paise=heads[2],
            total_paise=4000 + tax,
        ),
    ]
    return bill, lines


def _bulk(pairs) -> list[int]:
    from billing.models import Bill, BillLine

    bills = Bill.objects.bulk_create([b for b, _ in pairs], batch_size=2000)
    lines = []
    for bill, (_, rows) in zip(bills, pairs, strict=True):
        for line in rows:
            line.bill = bill
            lines.append(line)
    BillLine.objects.bulk_create(lines, batch_size=5000)
    return [b.pk for b in bills]


def seed_month(data: dict, count: int) -> None:
    """Last month's `count` issued bills (once), with a credit note for one in fifty."""
    from django.db import connection, transaction

    from billing.models import Bill, BillKind, BillLine, BillStatus, DocType
    from clinics.tenancy import clinic_scope

    clinic = data["clinic"]
    first, last = last_month()
    with clinic_scope(clinic):
        have = Bill.objects.filter(issue_date__gte=first, issue_date__lte=last).count()
        if have >= count:
            return
        started = time.perf_counter()
        rng = random.Random(2026)
        days = (last - first).days + 1
        with transaction.atomic():
            for start in range(have, count, 5000):
                pairs = []
                for n in range(start, min(count, start + 5000)):
                    patient = rng.choice(data["patients"])
                    pairs.append(
                        _bill_rows(
                            clinic,
                            patient,
                            inter_state=n % 100 == 0,
                            status=BillStatus.ISSUED,
                            number=f"INV/M{n:07d}",
                            day=first + timedelta(days=n % days),
                        )
                    )
                ids = _bulk(pairs)
                notes = []
                for bill_id, (bill, lines) in zip(ids, pairs, strict=True):
                    if bill_id % 50:
                        continue
                    note = Bill(
                        clinic=clinic,
                        kind=BillKind.CREDIT_NOTE,
                        patient_id=bill.patient_id,
                        credit_for_id=bill_id,
                        status=BillStatus.ISSUED,
                        doc_type=DocType.CREDIT_NOTE,
                        series="CN",
                        number=f"CN/M{bill_id:08d}",
                        issue_date=bill.issue_date,
                        issued_at=bill.issued_at,
                        reason="Returned strip",
                        gross_paise=2000,
                        taxable_value_paise=2000,
                        cgst_paise=50,
                        sgst_paise=50,
                        total_paise=2100,
                    )
                    credit = BillLine(
                        clinic=clinic,
                        credited_line=lines[1],
                        description=lines[1].description,
                        taxable=True,
                        rate_bp=500,
                        unit_price_paise=2000,
                        taxable_value_paise=2000,
                        tax_charged=True,
                        cgst_paise=50,
                        sgst_paise=50,
                        total_paise=2100,
                    )
                    notes.append((note, [credit]))
                _bulk(notes)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(
            f"seeded {count - have:,} bills of {first:%B %Y} in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )


def bench_summary(data: dict, runs: int = 20) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing.models import Bill
    from billing.selectors.reports import gst_summary
    from clinics.tenancy import clinic_scope

    first, last = last_month()
    with clinic_scope(data["clinic"]):
        bills = Bill.objects.filter(issue_date__gte=first, issue_date__lte=last).count()
        for _ in range(3):
            gst_summary(first=first, last=last)
        walls = []
        for _ in range(runs):
            started = time.perf_counter()
            summary = gst_summary(first=first, last=last)
            walls.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            gst_summary(first=first, last=last)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nGST summary of {first:%B %Y}: {bills:,} bills and credit notes, load {load}\n")
    print("| selector | calls | p50 ms | p95 ms | queries/call | target |")
    print("|---|---|---|---|---|---|")
    p95 = _pct(walls, 0.95)
    verdict = "met" if p95 <= TARGET_SUMMARY_MS else "**not met**"
    print(
        f"| gst_summary, one month | {runs} | {statistics.median(walls):.0f} | {p95:.0f} | "
        f"{len(queries)} | <= {TARGET_SUMMARY_MS} ms: {verdict} |",
        flush=True,
    )
    rates = ", ".join(f"{r['rate_bp'] / 100:g}%: {r['taxable']:,}" for r in summary.by_rate)
    print(f"\n(taxable value by rate, paise: {rates}; exempt {summary.exempt_paise:,})")


def bench_api(data: dict, env: dict, args) -> None:
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            *("-c", str(ROOT / "config" / "gunicorn.conf.py"), "config.wsgi"),
            *("-w", "2", "-b", f"127.0.0.1:{args.port}", "--log-level", "warning"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(args.port)
        rng = random.Random(7)
        headers = {
            "Authorization": f"Bearer {data['token']}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

        def create():
            body = {
                "patient_id": rng.choice(data["patients"]),
                "lines": [
                    {"item_id": data["exempt_item"]},
                    {"item_id": data["taxable_item"], "quantity": 2},
                ],
            }
            return ("POST", "/api/v1/bills/", json.dumps(body).encode(), headers)

        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"\nBill-create API, gunicorn 2 sync workers, {args.seconds:.0f} s, load {load}\n")
        print(loadgen.HEADER)
        for connections in [int(c) for c in args.connections.split(",")]:
            result = loadgen.run(
                "API bill create (2 lines)",
                host="127.0.0.1",
                port=args.port,
                make_request=create,
                connections=connections,
                seconds=args.seconds,
            )
            print(result.row(), flush=True)
            bad = {s: n for s, n in result.statuses.items() if not 200 <= s < 300}
            if bad:
                print(f"  non-2xx answers: {bad}", flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


def _drafts(data: dict, count: int) -> list[int]:
    from billing.models import BillStatus
    from clinics.tenancy import clinic_scope

    rng = random.Random(count)
    with clinic_scope(data["clinic"]):
        pairs = [
            _bill_rows(
                data["clinic"],
                rng.choice(data["patients"]),
                inter_state=False,
                status=BillStatus.DRAFT,
                number="",
                day=None,
            )
            for _ in range(count)
        ]
        return _bulk(pairs)


def _pending(clinic, ids: list[int]) -> int:
    from billing.models import Bill, PdfStatus
    from clinics.tenancy import clinic_scope

    with clinic_scope(clinic):
        return Bill.objects.filter(pk__in=ids).exclude(pdf_status=PdfStatus.READY).count()


def _issue_all(data: dict, ids: list[int]) -> float:
    """Issue every draft, one transaction each as a person would; seconds taken."""
    from billing.models import Bill
    from billing.services import bill_issue
    from clinics.context import actor_context
    from clinics.tenancy import clinic_scope

    started = time.perf_counter()
    with actor_context(via="bench"), clinic_scope(data["clinic"]):
        for bill_id in ids:
            bill_issue(bill=Bill.objects.get(pk=bill_id), actor=data["owner"])
    return time.perf_counter() - started


def _wait(clinic, ids: list[int], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        left = _pending(clinic, ids)
        if left == 0 or time.monotonic() > deadline:
            return left
        time.sleep(1)


def bench_issue(data: dict, env: dict, args) -> None:
    from django.db.models import Max

    from billing.models import Bill, PdfStatus
    from clinics.tenancy import clinic_scope

    warmup = _drafts(data, 4)
    ids = _drafts(data, args.issue)
    log = open(ROOT / "data" / "bench" / "billing_qcluster.log", "w")  # noqa: SIM115
    cluster = subprocess.Popen(
        [PYTHON, "manage.py", "qcluster"],
        cwd=ROOT,
        env={**env, "Q_WORKERS": str(args.workers)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _issue_all(data, warmup)
        if _wait(data["clinic"], warmup, 300):
            raise SystemExit("The warm-up bills' PDFs were not stored: see billing_qcluster.log")
        started_at = datetime.now(IST)
        started = time.perf_counter()
        issue_s = _issue_all(data, ids)
        left = _wait(data["clinic"], ids, 120 + 5 * len(ids))
        wall = time.perf_counter() - started
        with clinic_scope(data["clinic"]):
            done = Bill.objects.filter(pk__in=ids, pdf_status=PdfStatus.READY)
            last = done.aggregate(last=Max("pdf_ready_at"))["last"]
            failed = Bill.objects.filter(pk__in=ids, pdf_status=PdfStatus.FAILED).count()
    finally:
        os.kill(cluster.pid, signal.SIGTERM)
        try:
            cluster.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
        log.close()
    end_to_end = (last - started_at).total_seconds() if last else wall
    ready = len(ids) - left
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\nIssuing {len(ids):,} bills with PDFs, {args.workers} django-q2 workers, load {load}\n"
    )
    print("| bills | issued in s | issued/s | PDFs stored | failed | end to end s | bills/s |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {len(ids):,} | {issue_s:.1f} | {len(ids) / issue_s:.1f} | {ready:,} | {failed} | "
        f"{end_to_end:.1f} | {ready / end_to_end:.1f} |",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issue", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--summary", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", default="4")
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--only", default="summary,api,issue")
    parser.add_argument("--db", default="vaidya_bench_billing")
    args = parser.parse_args()
    parts = set(args.only.split(","))

    ensure_database(args.db)
    env = bench_env(args.db)
    os.environ.update(env)
    (ROOT / "data" / "bench").mkdir(parents=True, exist_ok=True)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    data = seed()
    if "summary" in parts:
        seed_month(data, args.summary)
        bench_summary(data)
    if "api" in parts:
        bench_api(data, env, args)
    if "issue" in parts:
        bench_issue(data, env, args)


if __name__ == "__main__":
    main()
