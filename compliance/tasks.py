"""Background work of the compliance app (django-q2): reminders of data-rights requests coming
due, the daily retention purge, removing old exports and erasing departed staff members' data.

The purge schedule visits every clinic with `for_each_clinic` (its scope and transaction) only to
log a `PurgeRun` and queue that clinic's run after the commit; the run itself works outside any
long transaction, one short transaction per batch (compliance/purge.py).
"""

from __future__ import annotations

from functools import partial

from django.db import transaction

from clinics.queue import enqueue
from clinics.tenancy import clinic_task, for_each_clinic
from compliance.models import PurgeRun
from compliance.purge import purge_run
from compliance.rights.services import rights_requests_remind


def _remind(clinic_id: int) -> int:
    return rights_requests_remind(clinic_id=clinic_id)


def remind_rights_requests() -> int:
    """Remind owners of data-rights requests coming due (each once); safe to run twice."""
    return sum(for_each_clinic(_remind, name="Reminding rights request owners").values())


def _start(clinic_id: int) -> int:
    unfinished = PurgeRun.objects.filter(clinic_id=clinic_id, finished_at__isnull=True).first()
    run = unfinished or PurgeRun.objects.create(clinic_id=clinic_id)
    transaction.on_commit(partial(enqueue, "compliance.tasks.retention_purge_clinic", run.pk))
    return run.pk


def retention_purge_all() -> dict[int, int]:
    """Daily: log a purge run for every active clinic and queue it. A clinic whose last run
    did not finish has that run queued again (it carries on where it stopped)."""
    return for_each_clinic(_start, name="Retention purge")


@clinic_task(PurgeRun)
def retention_purge_clinic(run_id: int) -> int:
    """Carry out one clinic's logged purge run. Idempotent: a finished run is not run again,
    and a second run finds nothing more to erase."""
    run = purge_run(run=PurgeRun.objects.get(pk=run_id))
    return sum(run.counts.get("classes", {}).values())


def exports_expire_all() -> int:
    """Remove export ZIPs older than 7 days at every clinic (the daily schedule)."""
    from compliance.exports.services import exports_expire  # noqa: PLC0415

    return sum(for_each_clinic(exports_expire, name="Removing old exports").values())


def staff_data_erase_all() -> int:
    """Erase departed staff members' personal data 30 days after their account closed, at
    every clinic (the daily schedule)."""
    from compliance.erasure.services import staff_data_erase_departed  # noqa: PLC0415

    return sum(
        for_each_clinic(staff_data_erase_departed, name="Erasing departed staff data").values()
    )
