"""The Razorpay simulator as a service `manage.py run_local` starts beside the app (registered
with `clinics.registry.local_services` by `DevtoolsConfig.ready()`), holding the demo clinic's
keys (`billing/razorpay/demo.py`) and, when set, the installation's own (subscriptions)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from billing.razorpay import demo
from billing.razorpay.models import RazorpayAccount
from clinics.demo import DEMO_SLUG
from clinics.models import Clinic
from clinics.registry import LocalService, LocalSite
from clinics.tenancy import clinic_scope

PORT_OFFSET = 1


def demo_webhook_path() -> str:
    """The demo clinic's Razorpay webhook path when it uses the simulator's keys, else ""."""
    clinic = Clinic.objects.filter(slug=DEMO_SLUG).first()
    if clinic is None:
        return ""
    with clinic_scope(clinic):
        account = RazorpayAccount.objects.filter(clinic=clinic, key_id=demo.DEMO_KEY_ID).first()
    if account is None:
        return ""
    return reverse("razorpay-webhook", kwargs={"webhook_key": account.webhook_key})


def _account(key_id: str, secret: str, webhook_secret: str, url: str) -> list[str]:
    return [
        "--key-id",
        key_id,
        "--key-secret",
        secret,
        "--webhook-secret",
        webhook_secret,
        "--webhook-url",
        url,
    ]


def simulator_argv(site: LocalSite) -> list[str]:
    argv = ["razorpay_simulator", "--host", "127.0.0.1", "--port", str(site.service_port)]
    path = demo_webhook_path()
    argv += _account(
        demo.DEMO_KEY_ID,
        demo.DEMO_KEY_SECRET,
        demo.DEMO_WEBHOOK_SECRET,
        f"{site.url}{path}" if path else "",
    )
    if settings.RAZORPAY_PLATFORM_KEY_ID and settings.RAZORPAY_PLATFORM_KEY_SECRET:
        argv += _account(
            settings.RAZORPAY_PLATFORM_KEY_ID,
            settings.RAZORPAY_PLATFORM_KEY_SECRET,
            settings.RAZORPAY_PLATFORM_WEBHOOK_SECRET,
            f"{site.url}{reverse('razorpay-platform-webhook')}",
        )
    return argv


def simulator_env(site: LocalSite) -> dict[str, str]:
    """The app's processes call the simulator through the official SDK."""
    return {"RAZORPAY_API_BASE_URL": f"http://127.0.0.1:{site.service_port}"}


def simulator_welcome(site: LocalSite) -> list[str]:
    lines = [f"Razorpay simulator: http://127.0.0.1:{site.service_port}/_control/state"]
    if not demo_webhook_path():
        lines.append("  No demo Razorpay keys yet: run `manage.py seed_demo` to connect them.")
    return lines


RAZORPAY_SIMULATOR = LocalService(
    name="razorpay_simulator",
    order=20,
    title="Razorpay simulator",
    argv=simulator_argv,
    app_env=simulator_env,
    welcome=simulator_welcome,
    port_offset=PORT_OFFSET,
)
