"""A clinic adds Kannada to Vaidya's templates from the WhatsApp settings page, without a code
change: the placeholders are checked against the English, the drafts go to Meta (the
simulator) like the defaults, and Kannada patients get them once approved (English until
then, and English free-text replies: Vaidya has no Kannada catalogue)."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clinics.audit import Actions
from clinics.models import AuditEvent
from messaging.models import (
    MessageTemplate,
    MessagingSettings,
    Reminder,
    ReminderKind,
    TemplateStatus,
)
from messaging.services.dispatch import reminders_dispatch
from messaging.services.template_languages import language_purposes
from messaging.services.templates import templates_sync
from patients.services.appointments import appointment_book
from tests.messaging.care_setup import PARACETAMOL, make_doctor, sign_visit
from tests.messaging.conftest import PATIENT, make_patient
from tests.messaging.test_appointment_notices import default_templates


def _kannada_form() -> dict[str, str]:
    data = {"language": "kn"}
    for default in language_purposes():
        if default.category != "AUTHENTICATION":
            marks = " ".join(sorted(set(re.findall(r"\{\{\d+\}\}", default.body))))
            data[f"{default.purpose}_body"] = f"ನಮಸ್ಕಾರ {marks} ಧನ್ಯವಾದ"
        if default.button_texts:
            labels = [t if t.isdigit() else f"ಆಯ್ಕೆ {n}" for n, t in enumerate(default.button_texts)]
            data[f"{default.purpose}_buttons"] = " | ".join(labels)
    return data


@pytest.fixture
def page(wa_account, owner, client_for):
    return client_for(owner), reverse("messaging-template-language-add", args=["asha"])


def test_a_text_without_the_englishs_placeholders_is_refused(page, scoped):
    client, url = page
    data = _kannada_form()
    data["appointment_reminder_body"] = "ನಮಸ್ಕಾರ {{1}} ಧನ್ಯವಾದ"  # {{2}}..{{4}} left out
    response = client.post(url, data)
    assert response.status_code == 400
    assert "use exactly the placeholders of the English" in response.content.decode()
    assert not MessageTemplate.objects.filter(language="kn").exists()
    data["language"] = "hi"  # Vaidya's own language: not added again
    response = client.post(url, _kannada_form() | {"language": "hi"})
    assert response.status_code == 400 and "Choose a language" in response.content.decode()


def test_kannada_templates_go_to_meta_and_reach_kannada_patients(page, scoped, sim):
    MessagingSettings.objects.create(
        clinic=scoped, quiet_hours_start=time(0), quiet_hours_end=time(0)
    )
    default_templates(scoped, sim, ("appointment_confirmation", "medicine_reminder"), ("en",))
    client, url = page
    response = client.post(url, _kannada_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    on_meta = {(t.name, t.language) for t in sim.state.templates.values()}
    purposes = language_purposes()
    assert {(d.name, "kn") for d in purposes} <= on_meta
    assert AuditEvent.objects.filter(action=Actions.TEMPLATES_LANGUAGE_ADDED).exists()
    rows = MessageTemplate.objects.filter(language="kn")
    assert {r.status for r in rows} == {TemplateStatus.PENDING}
    code = rows.get(purpose="verification_code")
    assert [b["text"] for b in code.buttons] == ["ಆಯ್ಕೆ 0"]

    # Meta approves the Kannada confirmation only.
    sim.set_template_status("vaidya_appointment_confirmation", "kn", "APPROVED")
    templates_sync(clinic=scoped, actor=None)
    doctor = make_doctor(scoped)
    patient = make_patient(scoped, preferred_language="kn")
    starts = (timezone.localtime(timezone.now(), scoped.tzinfo) + timedelta(days=1)).replace(
        hour=11, minute=0, second=0, microsecond=0
    )
    appointment_book(patient=patient, doctor=doctor, actor=doctor.user, starts_at=starts)
    reminders_dispatch()
    [confirmation] = sim.received(PATIENT)
    assert confirmation["request"]["template"]["language"]["code"] == "kn"
    assert confirmation["body"].startswith("ನಮಸ್ಕಾರ ")
    # The medicine reminder is not approved in Kannada yet: the English one goes.
    sign_visit(doctor, patient, items=[PARACETAMOL])
    dose = Reminder.objects.filter(kind=ReminderKind.MEDICINE).order_by("due_at").first()
    reminders_dispatch(now=dose.due_at)
    medicine = sim.received(PATIENT)[-1]
    assert medicine["request"]["template"]["language"]["code"] == "en"
    assert "it is time for your medicine" in medicine["body"]
