"""Everything in a patient's WhatsApp message is in their language: the template, the values
it carries (dates, times, "Dr", document kinds, doses, "before food") and every free-text reply
(rescheduling, cancelling, the closed-clinic note, a data request). Over the simulator, for a
Hindi and an English patient, with Vaidya's own default templates approved in both languages.

The guard: a Hindi message may hold Latin letters only in what has no translation (names, the
drug's name and strength, the clinic's name, links and numbers)."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from messaging.models import MessagingSettings, Reminder, ReminderKind
from messaging.services.dispatch import reminders_dispatch
from messaging.template_purposes import PURPOSES
from patients.models import Document
from patients.services.appointments import appointment_book, appointment_cancel
from tests.messaging.care_setup import PARACETAMOL, make_doctor, sign_visit
from tests.messaging.conftest import PATIENT, make_patient
from tests.messaging.test_appointment_notices import default_templates
from tests.messaging.test_inbound import make_relay

LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
ENGLISH_ONLY = re.compile(
    r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|AM|PM|"
    r"Dr|tablets?|after|before|food|cancelled|moved|booked|Prescription|summary)\b"
)


@pytest.fixture
def relay(wa_account, receiver, django_capture_on_commit_callbacks):
    return make_relay(Client(), wa_account, receiver, django_capture_on_commit_callbacks)


@pytest.fixture
def doctor(scoped, wa_account, sim):
    MessagingSettings.objects.create(
        clinic=scoped, quiet_hours_start=time(0), quiet_hours_end=time(0)
    )
    purposes = [p for p, purpose in PURPOSES.items() if purpose.category == "UTILITY"]
    default_templates(scoped, sim, [p for p in purposes if p != "staff_alert"])
    return make_doctor(scoped)


def _live_messages(scoped, doctor, patient, relay, sim) -> list[str]:
    """A patient's month in messages: a booking, a reminder answered with Reschedule and a
    slot, a medicine reminder, a document, a cancelled appointment, Cancel pressed on a
    reminder, a data request, and a note while the clinic is closed."""
    day = timezone.localtime(timezone.now(), scoped.tzinfo) + timedelta(days=1)
    starts = day.replace(hour=11, minute=0, second=0, microsecond=0)
    first = appointment_book(patient=patient, doctor=doctor, actor=doctor.user, starts_at=starts)
    reminders_dispatch()
    confirmation = Reminder.objects.get(kind=ReminderKind.APPOINTMENT_CONFIRMATION)
    sim.reply(PATIENT, button_payload=f"appt_reschedule:{confirmation.pk}", button_text="x")
    relay()
    rows = sim.received(PATIENT)[-1]["list"]["rows"]
    sim.choose_from_list(PATIENT, rows[0]["id"])
    relay()
    sim.reply(PATIENT, button_payload=f"appt_cancel:{confirmation.pk}", button_text="x")
    relay()
    second = appointment_book(
        patient=patient, doctor=doctor, actor=doctor.user, starts_at=starts + timedelta(hours=7)
    )
    appointment_cancel(appointment=second, actor=doctor.user, reason="Doctor away")
    sign_visit(doctor, patient, items=[PARACETAMOL])
    dose = Reminder.objects.filter(kind=ReminderKind.MEDICINE).order_by("due_at").first()
    document = Document.objects.create(
        clinic=scoped,
        patient=patient,
        kind="prescription",
        title="Prescription",
        status="ready",
        file="clinics/documents/prescription.pdf",
    )
    Reminder.objects.create(
        clinic=scoped,
        patient=patient,
        kind=ReminderKind.DOCUMENT_READY,
        source=f"document:{document.pk}",
        due_at=timezone.now(),
    )
    reminders_dispatch(now=max(dose.due_at, timezone.now()))
    sim.reply(PATIENT, "Please send me a copy of my records")
    relay()
    assert first.pk
    return [m["body"] for m in sim.received(PATIENT)]


def _foreign_words(text: str, allowed: set[str]) -> list[str]:
    return [w for w in LATIN_WORD.findall(text) if w.lower() not in allowed]


def test_a_hindi_patient_reads_no_english_word_or_date(doctor, scoped, sim, relay):
    patient = make_patient(scoped, preferred_language="hi", full_name="Asha Verma")
    bodies = _live_messages(scoped, doctor, patient, relay, sim)
    assert len(bodies) >= 8, bodies
    allowed = {
        word.lower()
        for text in (
            patient.full_name,
            doctor.user.full_name,
            scoped.name,
            "PARACETAMOL 500 mg",
            "https http www localhost testserver example test",
        )
        for word in LATIN_WORD.findall(text)
    }
    for body in bodies:
        without_links = re.sub(r"https?://\S+", "", body)
        assert _foreign_words(without_links, allowed) == [], body
    joined = "\n".join(bodies)
    assert "पूर्वाह्न" in joined or "अपराह्न" in joined  # times keep morning from evening
    assert "डॉ. " in joined and "पर्चा" in joined and "गोली खाने के बाद" in joined
    assert "रद्द" in joined
    assert all(scoped.name in body for body in bodies), bodies  # every message names the clinic


def test_an_english_patient_reads_english_throughout(doctor, scoped, sim, relay):
    patient = make_patient(scoped, preferred_language="en", full_name="Asha Verma")
    bodies = _live_messages(scoped, doctor, patient, relay, sim)
    assert not any(re.search(r"[\u0900-\u097F]", body) for body in bodies), bodies
    joined = "\n".join(bodies)
    assert ENGLISH_ONLY.search(joined)
    assert "Dr Anita Rao" in joined and "1 tablet after food" in joined
    assert re.search(r"\b\d{1,2}:\d\d (?:AM|PM)\b", joined)
    # Every message names the clinic; the medicine reminder too (its fourth value).
    medicine = next(b for b in bodies if "time for your medicine" in b)
    assert f"Please tell {scoped.name} whether you took it." in medicine
    assert all(scoped.name in body for body in bodies), bodies
