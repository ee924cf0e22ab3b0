"""The demo clinic's Razorpay: seeded with the simulator's demo keys, and run_local starts the
simulator with them and points the app at it."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from billing.razorpay import demo
from billing.razorpay.models import RazorpayAccount
from clinics.demo import DEMO_SLUG
from clinics.management.commands import run_local
from clinics.models import Clinic
from clinics.tenancy import clinic_scope

pytestmark = pytest.mark.django_db


def test_seed_demo_connects_razorpay_and_run_local_starts_the_simulator(capsys):
    call_command("seed_demo", "--patients", "3")
    clinic = Clinic.objects.get(slug=DEMO_SLUG)
    with clinic_scope(clinic):
        account = RazorpayAccount.objects.get(clinic=clinic)
    assert account.key_id == demo.DEMO_KEY_ID and account.key_secret == demo.DEMO_KEY_SECRET

    command = run_local.Command()
    command.sim_port = 8125
    argv = dict(command.processes("127.0.0.1", 8124))["razorpay_simulator"]
    assert argv[argv.index("--port") + 1] == "8126"
    assert argv[argv.index("--key-id") + 1] == demo.DEMO_KEY_ID
    assert argv[argv.index("--webhook-url") + 1] == (
        f"http://127.0.0.1:8124/webhooks/razorpay/{account.webhook_key}/"
    )
    assert command.child_env(8125)["RAZORPAY_API_BASE_URL"] == "http://127.0.0.1:8126"
