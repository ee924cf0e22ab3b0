"""The WhatsApp simulator as a service `manage.py run_local` starts beside the app (registered
with `clinics.registry.local_services` by `DevtoolsConfig.ready()`), connected to the demo
clinic that `seed_demo` makes (`messaging/demo.py` holds its number, token and app secret).
"""

from __future__ import annotations

import logging
import socket
import time

from django.db import connection

from clinics.demo import DEMO_SLUG
from clinics.models import Clinic
from clinics.registry import LocalService, LocalSite
from clinics.tenancy import clinic_scope
from messaging import demo
from messaging.models import MessageTemplate, TemplateStatus, WhatsAppAccount
from messaging.services.templates import template_components
from messaging.whatsapp import WhatsAppClient, WhatsAppError

logger = logging.getLogger(__name__)

START_SECONDS = 60
POLL_SECONDS = 0.2


def demo_account() -> WhatsAppAccount | None:
    """The demo clinic's WhatsApp account when its number is the simulator's, else None."""
    clinic = Clinic.objects.filter(slug=DEMO_SLUG).first()
    if clinic is None:
        return None
    with clinic_scope(clinic):
        return (
            WhatsAppAccount.objects.select_related("clinic")
            .filter(clinic=clinic, phone_number_id=demo.DEMO_PHONE_NUMBER_ID)
            .first()
        )


def demo_webhook_path() -> str:
    """The demo clinic's webhook path when its number is the simulator's, else ""."""
    account = demo_account()
    return f"/webhooks/whatsapp/{account.webhook_key}/" if account else ""


def simulator_argv(site: LocalSite) -> list[str]:
    argv = [
        "whatsapp_simulator",
        "--host",
        "127.0.0.1",
        "--port",
        str(site.service_port),
        "--phone-number-id",
        demo.DEMO_PHONE_NUMBER_ID,
        "--token",
        demo.DEMO_ACCESS_TOKEN,
        "--app-secret",
        demo.DEMO_APP_SECRET,
        "--waba-id",
        demo.DEMO_WABA_ID,
        "--display-phone-number",
        demo.DEMO_SIM_DISPLAY_NUMBER,
        "--auto-approve-templates",
    ]
    webhook_path = demo_webhook_path()
    if webhook_path:
        argv += ["--webhook-url", f"{site.url}{webhook_path}"]
    return argv


def simulator_env(site: LocalSite) -> dict[str, str]:
    """The app's processes send WhatsApp messages to the simulator."""
    return {"WHATSAPP_API_BASE_URL": f"http://127.0.0.1:{site.service_port}"}


def simulator_welcome(site: LocalSite) -> list[str]:
    lines = [f"Patient's phone (WhatsApp simulator): http://127.0.0.1:{site.service_port}/phone"]
    if not demo_webhook_path():
        lines.append("  No demo WhatsApp number yet: run `manage.py seed_demo` to connect one.")
    return lines


def prepare_simulator(site: LocalSite) -> None:
    """Once the simulator listens, give it the demo clinic's approved templates."""
    if not _wait_for_port(site.service_port, START_SECONDS):
        raise RuntimeError("The WhatsApp simulator did not start listening in time.")
    try:
        demo_simulator_setup(base_url=f"http://127.0.0.1:{site.service_port}")
    finally:
        connection.close()  # this ran in its own thread


def demo_simulator_setup(*, base_url: str) -> str:
    """Tell a freshly started simulator about the demo clinic's approved templates.

    Returns the webhook URL path of the demo clinic ("" when there is no demo account). The
    simulator keeps templates in memory, so run_local does this each time it starts it.
    """
    account = demo_account()
    if account is None:
        return ""
    client = WhatsAppClient(account.phone_number_id, account.access_token, base_url=base_url)
    with clinic_scope(account.clinic):
        for template in MessageTemplate.objects.filter(
            clinic=account.clinic, status=TemplateStatus.APPROVED
        ):
            try:
                client.create_template(
                    account.business_account_id,
                    template.name,
                    template.language,
                    template.category,
                    template_components(template),
                )
            except WhatsAppError as exc:
                logger.info("simulator refused demo template %s: %s", template.pk, exc)
    return f"/webhooks/whatsapp/{account.webhook_key}/"


def _wait_for_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(POLL_SECONDS)
    return False


WHATSAPP_SIMULATOR = LocalService(
    name="whatsapp_simulator",
    order=10,
    title="WhatsApp simulator",
    argv=simulator_argv,
    app_env=simulator_env,
    on_started=prepare_simulator,
    welcome=simulator_welcome,
)
