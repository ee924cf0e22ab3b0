"""Two django-q2 clusters (`manage.py qcluster`, as on two machines) on Redis and PostgreSQL
render a burst of certificates; one is killed with SIGKILL mid-burst, taking the render tasks
it had pulled with it. The lost-task sweep (run as its schedule would, with a short bound)
enqueues them again: every certificate ends up ready, none rendered twice.

Needs PostgreSQL (runs in CI's PostgreSQL pass) and Redis at 127.0.0.1:6379 (db 5 is this
test's task queue); without Redis the test is skipped, except under CI=true where that is a
failure.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import redis

from clinics.audit import Actions
from clinics.models import AuditEvent
from clinics.tenancy import scopes_disabled
from patients.models import Document, DocumentStatus
from tests.cluster import (
    cluster_env,
    kill_hard,
    require_redis,
    start_cluster,
    start_django,
    stop,
)
from tests.factories import ClinicFactory, DoctorProfileFactory, PatientFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CERTIFICATES = 80
PATIENTS = 8
WORKERS_PER_CLUSTER = 2
REDIS_URL = "redis://127.0.0.1:6379/5"
QUEUE_KEY = "django_q:vaidya:q"
# A render is killed after Q_TIMEOUT seconds; work waiting longer than TASK_LOST_AFTER is lost.
Q_TIMEOUT = 10
LOST_AFTER = 12
SWEEP_EVERY = 2
DEADLINE = 120

ISSUE = """
from datetime import timedelta
from django.utils import timezone
from clinics.models import Membership
from clinics.tenancy import in_clinic
from patients.models import Patient
from patients.services.certificates import certificate_issue

with in_clinic({clinic}, via="command"):
    member = Membership.objects.select_related("user", "clinic").get(pk={membership})
    today = timezone.localtime(timezone.now(), member.clinic.tzinfo).date()
    patients = list(Patient.objects.filter(pk__in={patients}))
    for n in range({count}):
        certificate_issue(
            patient=patients[n % len(patients)],
            kind="sickness",
            effective_from=today,
            effective_to=today + timedelta(days=2),
            condition="Acute viral fever",
            identification_mark="Mole on the left cheek",
            actor=member.user,
            actor_membership=member,
        )
"""

# The `vaidya.waiting_work_requeue` schedule, every few seconds instead of every minute.
SWEEP = f"""
import time
from django_q.tasks import async_task
while True:
    async_task("clinics.tasks.requeue_waiting_work")
    time.sleep({SWEEP_EVERY})
"""


def statuses() -> Counter:
    with scopes_disabled():
        return Counter(Document.objects.values_list("status", flat=True))


def wait_for(condition, what: str, deadline: float) -> None:
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {statuses()}"
        time.sleep(0.2)


def settled(deadline: float, quiet: float = 5.0) -> int:
    """Wait until no document became ready for `quiet` seconds; how many are preparing."""
    last, since = statuses(), time.monotonic()
    while time.monotonic() - since < quiet:
        assert time.monotonic() < deadline, f"the survivor never settled: {last}"
        time.sleep(0.5)
        now = statuses()
        if now != last:
            last, since = now, time.monotonic()
    return last[DocumentStatus.PREPARING]


def swept() -> int:
    """Documents the sweep tasks enqueued again, from their saved results."""
    from django_q.models import Task

    return sum(
        (task.result or {}).get("patients.documents", 0)
        for task in Task.objects.filter(func="clinics.tasks.requeue_waiting_work")
    )


def test_documents_a_killed_worker_took_are_rendered_once_after_the_sweep(tmp_path):
    require_redis()
    clinic = ClinicFactory()
    doctor = DoctorProfileFactory(
        membership__clinic=clinic, registration_number="KMC-45678"
    ).membership
    patient_ids = [PatientFactory(clinic=clinic).pk for _ in range(PATIENTS)]
    env = cluster_env(
        REDIS_URL,
        VAIDYA_DATA_DIR=str(tmp_path / "data"),
        Q_WORKERS=str(WORKERS_PER_CLUSTER),
        Q_TIMEOUT=str(Q_TIMEOUT),
        Q_RETRY=str(Q_TIMEOUT + 5),
        TASK_LOST_AFTER_SECONDS=str(LOST_AFTER),
    )
    queue = redis.Redis.from_url(REDIS_URL)
    queue.delete(QUEUE_KEY)  # nothing left from an earlier, interrupted run

    logs = {name: open(tmp_path / f"{name}.log", "w+") for name in ("a", "b", "issue", "sweep")}  # noqa: SIM115
    started = time.monotonic()
    deadline = started + DEADLINE
    doomed = start_cluster(env, logs["a"])
    survivor = start_cluster(env, logs["b"])
    issuing = sweeping = None
    try:
        issuing = start_django(
            env,
            ISSUE.format(
                clinic=clinic.pk, membership=doctor.pk, patients=patient_ids, count=CERTIFICATES
            ),
            logs["issue"],
        )
        # Mid-burst: a few certificates are ready, most are still being issued or rendered.
        wait_for(lambda: statuses()[DocumentStatus.READY] >= 5, "the first renders", deadline)
        kill_hard(doomed)
        killed_at = time.monotonic()
        assert issuing.wait(timeout=60) == 0, "issuing the certificates failed"

        # The survivor empties the queue and runs what it pulled; what the dead cluster had
        # pulled stays preparing (the bug: for good).
        wait_for(lambda: queue.llen(QUEUE_KEY) == 0, "the queue to empty", deadline)
        stuck = settled(deadline)
        assert stuck > 0, "the killed cluster took no task with it: nothing was tested"

        sweeping = start_django(env, SWEEP, logs["sweep"])
        wait_for(
            lambda: statuses() == {DocumentStatus.READY: CERTIFICATES},
            "every document to be ready",
            deadline,
        )
        recovered_after = time.monotonic() - killed_at
    finally:
        for process in (sweeping, issuing):
            if process is not None:
                kill_hard(process)
        stop(survivor)
        kill_hard(doomed)
        output = {}
        for name, log in logs.items():
            log.seek(0)
            output[name] = log.read()[-2000:]
            log.close()
        queue.delete(QUEUE_KEY)

    with scopes_disabled():
        documents = list(Document.objects.all())
        rendered = Counter(
            AuditEvent.objects.filter(action=Actions.DOCUMENT_GENERATED).values_list(
                "target_id", flat=True
            )
        )
    assert len(documents) == CERTIFICATES
    assert all(d.status == DocumentStatus.READY and d.file and d.sha256 for d in documents)
    # Each document was rendered and stored exactly once.
    assert set(rendered) == {str(d.pk) for d in documents}, output
    assert max(rendered.values()) == 1, output
    # Only a render the kill interrupted is started a second time (one per killed worker).
    restarted = [d.pk for d in documents if d.attempts > 1]
    assert len(restarted) <= WORKERS_PER_CLUSTER, restarted
    # The sweep is what brought them back (its results are saved a moment after it ran).
    wait_for(lambda: swept() > 0, "the sweep's result", time.monotonic() + 10)
    print(
        f"\n{CERTIFICATES} certificates, one of two clusters killed mid-burst: {stuck} left "
        f"preparing, all ready {recovered_after:.1f} s after the kill "
        f"({time.monotonic() - started:.1f} s in all)"
    )
