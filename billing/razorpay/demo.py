"""Demo Razorpay for `manage.py seed_demo` and `make run`: the demo clinic's Razorpay account
on the local simulator, which `run_local` starts with the same keys and webhook secret, so a
payment link made for a demo bill opens the simulator's pay page and comes back paid."""

from __future__ import annotations

from typing import Any

from billing.razorpay.accounts import razorpay_account_save
from billing.razorpay.models import RazorpayAccount
from clinics.demo import DemoContext
from clinics.registry import DemoStep
from clinics.tenancy import clinic_scope

# Shared with the simulator that run_local starts (fake values: the simulator is local only).
DEMO_KEY_ID = "rzp_test_vaidyademo01"
DEMO_KEY_SECRET = "simulator-key-secret"  # noqa: S105 (a fake secret for the local simulator)
DEMO_WEBHOOK_SECRET = "simulator-webhook-secret"  # noqa: S105


def seed_razorpay(*, demo: DemoContext, **_: Any) -> None:
    """Connect the demo clinic's Razorpay to the local simulator's demo keys."""
    if demo.clinic is None:
        return
    with clinic_scope(demo.clinic):
        if not RazorpayAccount.objects.filter(clinic=demo.clinic).exists():
            razorpay_account_save(
                clinic=demo.clinic,
                actor=demo.member("owner").user,
                key_id=DEMO_KEY_ID,
                key_secret=DEMO_KEY_SECRET,
                webhook_secret=DEMO_WEBHOOK_SECRET,
            )
    demo.summary.append(f"Razorpay on the local simulator (test key {DEMO_KEY_ID})")


RAZORPAY = DemoStep(name="billing.razorpay", order=55, run=seed_razorpay)
