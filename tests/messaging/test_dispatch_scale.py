"""Four dispatcher processes on PostgreSQL send 10,000 due reminders to the simulator over real
HTTP: every reminder is sent exactly once (zero duplicates, zero lost).

Needs PostgreSQL (runs in CI's PostgreSQL pass). The worker processes share the send-rate
limiter through Redis (db 2) when Redis is reachable at 127.0.0.1:6379, else through the file
lock; the per-number rate is raised so that the limiter is not what is measured.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from clinics.roles import Role
from clinics.tenancy import clinic_scope, scopes_disabled
from compliance.models import ConsentMethod, ConsentPurpose
from compliance.services import consent_grant
from messaging.models import (
    Message,
    MessageStatus,
    Reminder,
    ReminderKind,
    ReminderStatus,
    WhatsAppAccount,
)
from messaging.simulator import running_simulator
from patients.models import Appointment
from tests.factories import ClinicFactory, MembershipFactory, PatientFactory
from tests.messaging.care_setup import make_reminder_templates

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REMINDERS = 10_000
PATIENTS = 100
WORKERS = 4
BASE_DIR = Path(settings.BASE_DIR)
PHONE_NUMBER_ID = "109876543219999"
TOKEN = "EAAGscaleTestToken0123456789"
WABA_ID = "209876543219999"


def redis_url() -> str:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return "redis://127.0.0.1:6379/2"
    except OSError:
        return ""


def database_url() -> str:
    db = connection.settings_dict
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"


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


def test_four_workers_send_10000_reminders_exactly_once(tmp_path):
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
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "DATABASE_URL": database_url(),
            "REDIS_URL": redis_url(),
            "WHATSAPP_API_BASE_URL": sim.base_url,
            "WHATSAPP_SEND_RATE_PER_SECOND": "100000",
            "WHATSAPP_RATE_LIMIT_KEY_PREFIX": f"vaidya-scale-test-{os.getpid()}:",
            "WHATSAPP_TIMEOUT_SECONDS": "30",
        }
        started = time.monotonic()
        logs = [open(tmp_path / f"worker{n}.log", "w+") for n in range(WORKERS)]  # noqa: SIM115
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "dispatch_reminders",
                    "--until-empty",
                    "--batch",
                    "50",
                ],
                cwd=BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            for log in logs
        ]
        try:
            codes = [w.wait(timeout=600) for w in workers]
        finally:
            for w in workers:
                if w.poll() is None:
                    w.kill()
        elapsed = time.monotonic() - started
        outputs = []
        for log in logs:
            log.seek(0)
            outputs.append(log.read())
            log.close()
        assert codes == [0] * WORKERS, outputs
        requests = sim.message_requests()

    # Each of the four processes did part of the work.
    claimed = [int(out.rsplit("Claimed ", 1)[1].split(" ")[0]) for out in outputs]
    assert sum(claimed) == REMINDERS and all(c > 0 for c in claimed), outputs

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
    print(f"\n{REMINDERS} reminders by {WORKERS} processes in {elapsed:.1f} s")
