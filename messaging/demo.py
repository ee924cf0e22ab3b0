"""Demo WhatsApp for `manage.py seed_demo` and `make run`: the demo clinic's number on the local
simulator, care consent for the demo patients, and Vaidya's default templates approved.

The simulator (`manage.py whatsapp_simulator`, in `devtools`) is started by `run_local` with the
same number, token and app secret as below, so the whole loop works with nothing else
configured: reminders and replies go to the simulator, its "patient's phone" page shows them,
and the patient's answers come back as signed webhooks.
"""

from __future__ import annotations

from typing import Any

from clinics.demo import DemoContext
from clinics.registry import DemoStep
from clinics.tenancy import clinic_scope
from compliance.models import ConsentMethod, ConsentPurpose
from compliance.services import consent_grant
from messaging.models import MessageTemplate, TemplateStatus, WhatsAppAccount
from messaging.services.accounts import account_connect, messaging_settings_update
from messaging.services.staff_alert_optin import whatsapp_alerts_turn_on
from messaging.services.templates import templates_ensure_defaults
from patients.models import Patient

# Shared with the simulator that run_local starts (fake values: the simulator is local only).
DEMO_PHONE_NUMBER_ID = "100000000000001"
DEMO_WABA_ID = "200000000000001"
DEMO_DISPLAY_NUMBER = "+91 98000 00001"
DEMO_SIM_DISPLAY_NUMBER = "919800000001"
DEMO_ACCESS_TOKEN = "simulator-token"  # noqa: S105 (a fake token for the local simulator)
DEMO_APP_SECRET = "simulator-app-secret"  # noqa: S105
DEMO_VERIFY_TOKEN = "simulator-verify-token"  # noqa: S105
# The demo doctor's own phone on the simulator: escalation alerts show on its phone page.
DEMO_DOCTOR_ALERT_NUMBER = "+91 98000 00002"


def _connect(clinic, actor) -> WhatsAppAccount:
    existing = WhatsAppAccount.objects.filter(clinic=clinic).first()
    if existing is not None:
        return existing
    return account_connect(
        clinic=clinic,
        actor=actor,
        phone_number_id=DEMO_PHONE_NUMBER_ID,
        business_account_id=DEMO_WABA_ID,
        display_number=DEMO_DISPLAY_NUMBER,
        access_token=DEMO_ACCESS_TOKEN,
        app_secret=DEMO_APP_SECRET,
        verify_token=DEMO_VERIFY_TOKEN,
    )


def _approve_default_templates(clinic) -> int:
    """Vaidya's default templates, approved at once (the simulator approves them too)."""
    templates_ensure_defaults(clinic=clinic)
    return (
        MessageTemplate.objects.filter(clinic=clinic)
        .exclude(status=TemplateStatus.APPROVED)
        .update(status=TemplateStatus.APPROVED)
    )


def _consent_patients(clinic, actor) -> int:
    recorded = 0
    for patient in Patient.objects.filter(clinic=clinic).order_by("pk"):
        if not patient.messaging_phone:
            continue
        event = consent_grant(
            patient=patient,
            purpose=ConsentPurpose.WHATSAPP_CARE,
            method=ConsentMethod.VERBAL,
            actor=actor,
        )
        recorded += event is not None
    return recorded


def _doctor_alerts(clinic, owner, doctor) -> bool:
    """Allow WhatsApp alerts at the demo clinic, and the demo doctor turns theirs on."""
    if doctor is None:
        return False
    messaging_settings_update(clinic=clinic, actor=owner, alert_doctor_on_whatsapp=True)
    whatsapp_alerts_turn_on(membership=doctor, actor=doctor.user, phone=DEMO_DOCTOR_ALERT_NUMBER)
    return True


def seed_whatsapp(*, demo: DemoContext, **_: Any) -> None:
    """Connect the demo clinic's WhatsApp to the local simulator, record the patients' care
    consent at the desk, and approve the default templates."""
    if demo.clinic is None:
        return
    with clinic_scope(demo.clinic):
        owner = demo.member("owner").user
        desk = demo.staff.get("front_desk") or demo.member("owner")
        account = _connect(demo.clinic, owner)
        consents = _consent_patients(demo.clinic, desk.user)
        approved = _approve_default_templates(demo.clinic)
        alerts = _doctor_alerts(demo.clinic, owner, demo.staff.get("doctor"))
    demo.summary.append(
        f"WhatsApp on the local simulator (number {account.display_number}): "
        f"{consents} patients agreed to care messages, {approved} templates approved"
        + (f"; the doctor's alerts go to {DEMO_DOCTOR_ALERT_NUMBER}" if alerts else "")
    )


WHATSAPP = DemoStep(name="messaging.whatsapp", order=40, run=seed_whatsapp)
