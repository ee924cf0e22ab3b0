"""Four django-q2 workers (a `qcluster` on the Redis broker) on PostgreSQL send 10,000 due
reminders to the simulator over real HTTP: every reminder is sent exactly once (zero
duplicates, zero lost).

Needs PostgreSQL (runs in CI's PostgreSQL pass) and Redis at 127.0.0.1:6379 (db 3 is the task
queue, db 2 the shared send-rate limiter); without Redis the test is skipped, except under
CI=true where that is a failure. The per-number rate is raised so that the limiter is not what
is measured.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from clinics.roles import Role
from clinics.tenancy import clinic_scope, scopes_disabled
from compliance.models import ConsentMethod, ConsentPurpose
from compliance.services import consent_grant
from devtools.whatsapp_simulator import running_simulator
from messaging.models import (
    Message,
    MessageStatus,
    Reminder,
    ReminderKind,
    ReminderStatus,
    WhatsAppAccount,
)
from patients.models import Appointment
from tests.cluster import cluster_env, require_redis, start_cluster, stop
from tests.cluster import run_django as django
from tests.factories import ClinicFactory, MembershipFactory, PatientFactory
from tests.messaging.care_setup import make_reminder_templates

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REMINDERS = 10_000
PATIENTS = 100
WORKERS = 4
PHONE_NUMBER_ID = "109876543219999"
TOKEN = "EAAGscaleTestToken0123456789"
WABA_ID = "209876543219999"
TASK = "messaging.tasks.dispatch_reminders"
# Each task stops looking for work after this long, well inside the cluster's task timeout.
TASK_SECONDS = 90.0


def plan(clinic) -> None:
    """100 patients who agreed, each with a booked appointment in two days and 100 due
    reminders of it (distinct due times), 10,000 in all."""
    staff = MembershipFactory(clinic=clinic, role=Role.FRONT_DESK)
    doctor = MembershipFactory(clinic=clinic, role=Role.DOCTOR)
    starts = timezone.now() + timedelta(days=2)
    now = timezone.now()
    rows = []
    for n in range(PATIENTS):
        patient = PatientFactory(clinic=clinic, phone=f"+91 98765 4{n:04d}")
        consent_grant(
            patient=patient,
            purpose=ConsentPurpose.WHATSAPP_CARE,
            method=ConsentMethod.VERBAL,
            actor=staff.user,
        )
        appointment = Appointment.objects.create(
            clinic=clinic,
            patient=patient,
            doctor=doctor,
            starts_at=starts + timedelta(minutes=15 * n),
            ends_at=starts + timedelta(minutes=15 * n + 15),
        )
        rows += [
            Reminder(
                clinic=clinic,
                patient=patient,
                kind=ReminderKind.APPOINTMENT_REMINDER,
                source=f"appointment:{appointment.pk}",
                due_at=now - timedelta(seconds=1 + i),
                context={"hours_before": 24},
            )
            for i in range(REMINDERS // PATIENTS)
        ]
    Reminder.objects.bulk_create(rows, batch_size=2000)


def enqueue_dispatchers(env: dict, count: int) -> None:
    """Put `count` dispatcher tasks on the Redis queue, as the schedule does each minute."""
    django(
        env,
        "from django_q.tasks import async_task\n"
        f"for _ in range({count}):\n"
        f"    async_task({TASK!r}, {TASK_SECONDS}, 50)\n",
    )


def unsent() -> int:
    with scopes_disabled():
        return Reminder.objects.exclude(status=ReminderStatus.SENT).count()


def test_four_workers_send_10000_reminders_exactly_once(tmp_path):  # noqa: PLR0915 - one scenario read top to bottom
    require_redis()
    from django_q.models import Task

    clinic = ClinicFactory()
    with running_simulator(
        phone_number_id=PHONE_NUMBER_ID, token=TOKEN, waba_id=WABA_ID, webhook_url=None
    ) as sim:
        with clinic_scope(clinic):
            WhatsAppAccount.objects.create(
                clinic=clinic,
                phone_number_id=PHONE_NUMBER_ID,
                business_account_id=WABA_ID,
                display_number="+91 80 4000 9999",
                access_token=TOKEN,
                app_secret="scale-secret",
                verify_token="scale-verify",
            )
            make_reminder_templates(clinic, sim=sim, purposes={"appointment_reminder"})
            plan(clinic)
        env = cluster_env(
            "redis://127.0.0.1:6379/3",
            Q_WORKERS=str(WORKERS),
            WHATSAPP_API_BASE_URL=sim.base_url,
            WHATSAPP_SEND_RATE_PER_SECOND="100000",
            WHATSAPP_RATE_LIMIT_KEY_PREFIX=f"vaidya-scale-test-{os.getpid()}:",
            WHATSAPP_TIMEOUT_SECONDS="30",
        )
        # Nothing left on the queue from an earlier, interrupted run.
        django(env, "from django_q.brokers import get_broker\nget_broker().delete_queue()\n")
        enqueue_dispatchers(env, WORKERS)
        started = time.monotonic()
        log = open(tmp_path / "qcluster.log", "w+")  # noqa: SIM115
        cluster = start_cluster(env, log)
        try:
            deadline = started + 600
            rounds = 1
            while unsent() and time.monotonic() < deadline:
                time.sleep(1)
                finished = Task.objects.filter(func=TASK).count()
                if unsent() and finished == WORKERS * rounds:
                    # Every dispatcher ran out of time before the work ran out: another round,
                    # as the next minute's schedule would start.
                    enqueue_dispatchers(env, WORKERS)
                    rounds += 1
            elapsed = time.monotonic() - started
            # Let the running tasks notice there is nothing left and save their results.
            while Task.objects.filter(func=TASK).count() < WORKERS * rounds:
                assert time.monotonic() < deadline + 120, "the dispatcher tasks did not finish"
                time.sleep(0.5)
        finally:
            stop(cluster)
            log.seek(0)
            output = log.read()
            log.close()
        requests = sim.message_requests()

    assert unsent() == 0, output[-3000:]
    tasks = list(Task.objects.filter(func=TASK).order_by("started"))
    assert all(t.success for t in tasks), [t.result for t in tasks if not t.success]
    # The four workers each took part of the first round.
    first_round = [t.result for t in tasks[:WORKERS]]
    assert sum(t.result for t in tasks) == REMINDERS
    assert all(claimed > 0 for claimed in first_round), first_round

    # Zero duplicates: the simulator received each reminder's buttons exactly once.
    sent_for = Counter()
    for body in requests:
        buttons = [c for c in body["template"]["components"] if c["type"] == "button"]
        sent_for[buttons[0]["parameters"][0]["payload"].split(":")[1]] += 1
    assert len(requests) == REMINDERS
    assert max(sent_for.values()) == 1 and len(sent_for) == REMINDERS
    callbacks = Counter(body["biz_opaque_callback_data"] for body in requests)
    assert max(callbacks.values()) == 1

    # Zero lost: every reminder is sent, with its own message.
    with scopes_disabled():
        statuses = Counter(Reminder.objects.values_list("status", flat=True))
        assert statuses == {ReminderStatus.SENT: REMINDERS}, statuses
        assert Message.objects.filter(status=MessageStatus.SENT).count() == REMINDERS
        ids = {str(pk) for pk in Reminder.objects.values_list("pk", flat=True)}
    assert set(sent_for) == ids
    print(
        f"\n{REMINDERS} reminders by a {WORKERS}-worker qcluster (Redis broker) in "
        f"{elapsed:.1f} s, {rounds} round(s) of dispatcher tasks"
    )
