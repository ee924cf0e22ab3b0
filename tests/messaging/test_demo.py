"""The demo's WhatsApp: seeded on the local simulator, and run_local starts the simulator."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from clinics.demo import DEMO_SLUG
from clinics.management.commands import run_local
from clinics.models import Clinic
from clinics.tenancy import clinic_scope
from compliance.models import ConsentEvent
from messaging import demo
from messaging.models import MessageTemplate, TemplateStatus, WhatsAppAccount

pytestmark = pytest.mark.django_db


def test_seed_demo_connects_whatsapp_and_run_local_points_the_app_at_the_simulator(capsys):
    call_command("seed_demo", "--patients", "6")
    clinic = Clinic.objects.get(slug=DEMO_SLUG)
    with clinic_scope(clinic):
        account = WhatsAppAccount.objects.get(clinic=clinic)
        assert account.phone_number_id == demo.DEMO_PHONE_NUMBER_ID
        assert account.access_token == demo.DEMO_ACCESS_TOKEN
        assert ConsentEvent.objects.filter(purpose="whatsapp_care").exists()
        templates = MessageTemplate.objects.filter(clinic=clinic)
        assert templates.exists()
        assert not templates.exclude(status=TemplateStatus.APPROVED).exists()

    command = run_local.Command()
    command.sim_port = 8125
    commands = dict(command.processes("127.0.0.1", 8124))
    assert list(commands) == ["whatsapp_simulator", "razorpay_simulator", "qcluster", "runserver"]
    argv = commands["whatsapp_simulator"]
    assert argv[argv.index("--port") + 1] == "8125"
    assert argv[argv.index("--token") + 1] == demo.DEMO_ACCESS_TOKEN
    assert argv[argv.index("--webhook-url") + 1] == (
        f"http://127.0.0.1:8124/webhooks/whatsapp/{account.webhook_key}/"
    )
    assert command.child_env(8125)["WHATSAPP_API_BASE_URL"] == "http://127.0.0.1:8125"
    command.print_welcome("127.0.0.1", 8124, 8125)
    assert "http://127.0.0.1:8125/phone" in capsys.readouterr().out


def test_run_local_without_the_simulator(capsys):
    command = run_local.Command()
    assert [name for name, _ in command.processes("127.0.0.1", 8124)] == ["qcluster", "runserver"]
    assert "WHATSAPP_API_BASE_URL" not in command.child_env(0)
