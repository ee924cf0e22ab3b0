"""Export and erasure of a patient with 10 years of history: 500 visits (each with vitals, a
diagnosis, a prescription; a procedure every tenth), 5,000 WhatsApp messages, 50 stored
documents, a guardian and consent, under the real personal-data registry.

    .venv/bin/python bench/rights_bench.py [--database-url postgres://...]

Builds a fresh SQLite database (data/bench/rights.sqlite3, migrated on first use) unless a
database URL is given, seeds the patient (about half a minute), then times, in this process:
the export (`export_build`: the JSON of every kind, the FHIR Bundle, the PDF summary, the 50
documents, zipped and stored), warm (WeasyPrint loaded by a first export of another patient),
and the erasure (`erasure_plan`, the dry run, then `erasure_confirm` with its certificate).
Targets: each at most 5 s. Numbers, not pass/fail: see bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "data" / "bench"


def _env(database_url: str | None) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url or f"sqlite:///{DATA / 'rights.sqlite3'}",
        DEBUG="false",
        SECRET_KEY="bench-secret-key-not-for-production-" + "x" * 20,
        ALLOWED_HOSTS="localhost",
        LOG_LEVEL="WARNING",
        VAIDYA_DATA_DIR=str(DATA / "rights"),
    )


def _timed(label: str, fn):
    started, cpu = time.perf_counter(), time.process_time()
    result = fn()
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    print(f"{label:<42} {wall:6.2f} s wall  {used:6.2f} s CPU")
    return result, wall


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--visits", type=int, default=500)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--documents", type=int, default=50)
    parser.add_argument("--profile", action="store_true", help="cProfile the export")
    return parser.parse_args()


def _seed(args):
    """A new clinic with an owner, a doctor, a small patient (to warm up) and the big one."""
    from clinics.models import Membership, User
    from clinics.roles import Role
    from clinics.services import clinic_create
    from tests.compliance.history import make_history, make_patient

    slug = f"rights-{int(time.time())}"
    owner = User.objects.create_user(f"{slug}@example.in", "bench-pass-2026", full_name="Owner")
    clinic = clinic_create(name="Rights Clinic", slug=slug, state_code="29", owner=owner)
    from clinics.tenancy import clinic_scope

    with clinic_scope(clinic):
        owner_m = Membership.objects.get(user=owner)
        doctor_user = User.objects.create_user(f"dr-{slug}@example.in", "x", full_name="Dr Rao")
        doctor = Membership.objects.create(clinic=clinic, user=doctor_user, role=Role.DOCTOR)
        warm = make_patient(clinic, number=1)
        make_history(clinic, warm, doctor, visits=2, messages=2, documents=1, wa_id="919800000001")
        patient = make_patient(clinic, number=2)
        _timed(
            "seeding the patient",
            lambda: make_history(
                clinic,
                patient,
                doctor,
                visits=args.visits,
                messages=args.messages,
                documents=args.documents,
            ),
        )
    return clinic, owner_m, doctor, warm, patient


def _export(clinic, doctor, patient):
    from compliance.exports.services import export_request

    # Committed at once (no surrounding transaction); the bench builds it in this process,
    # as the worker would, instead of the queued task.
    return export_request(
        clinic=clinic, actor=doctor.user, actor_membership=doctor, patient=patient
    )


def main() -> None:
    args = _args()
    _env(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from clinics.tenancy import actor_context, clinic_scope
    from compliance.erasure.services import erasure_confirm, erasure_plan
    from compliance.exports.services import export_build

    clinic, owner, doctor, warm, patient = _seed(args)
    print(f"patient: {args.visits} visits, {args.messages} messages, {args.documents} documents")
    with actor_context(via="command"), clinic_scope(clinic):
        export_build(export_id=_export(clinic, doctor, warm).pk)  # loads WeasyPrint and fonts
        if args.profile:
            import cProfile
            import pstats

            profiled = _export(clinic, doctor, patient)
            with cProfile.Profile() as profiler:
                export_build(export_id=profiled.pk)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        row = _export(clinic, doctor, patient)
        built, export_s = _timed(
            "export (JSON, FHIR, PDF, 50 documents, ZIP)", lambda: export_build(export_id=row.pk)
        )
        print(f"  ZIP {built.size / 1e6:.1f} MB, {sum(built.counts.values())} records")
        plan, plan_s = _timed(
            "erasure dry run",
            lambda: erasure_plan(
                clinic=clinic, patient=patient, actor=owner.user, actor_membership=owner
            ),
        )
        done, confirm_s = _timed(
            "erasure confirmed (with the certificate)",
            lambda: erasure_confirm(erasure=plan, actor=owner.user, actor_membership=owner),
        )
        erased = sum(done.result["erased"].values())
        print(f"  erased {erased} rows; kept (the clinical record): {sorted(done.result['kept'])}")
    print(
        f"\nexport {export_s:.2f} s (target 5 s); erasure {plan_s + confirm_s:.2f} s "
        f"(dry run + confirmation, target 5 s)"
    )


if __name__ == "__main__":
    main()
