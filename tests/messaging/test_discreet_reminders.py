"""Discreet medicine reminders: a reminder that includes a medicine of a sensitive class
(psychiatric, HIV, sexual and reproductive health, addiction treatment) says "your evening
medicines (2)" instead of the names, which stay on the prescription. The clinic's default is
on; a patient can be set to always or never. Sent to the simulator over real HTTP."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone

from messaging import links
from messaging.models import Message, MessagingSettings, Reminder, ReminderKind, ReminderStatus
from messaging.services.dispatch import reminders_dispatch
from messaging.services.reminder_content import day_part
from patients import services
from patients.models import DiscreetMessages, Document, DocumentKind, Drug, Patient
from patients.prescribing.classes import is_sensitive
from patients.services.documents import document_render
from tests.messaging.care_setup import PARACETAMOL, make_doctor, make_reminder_templates, sign_visit
from tests.messaging.conftest import PATIENT, make_patient


@pytest.fixture
def setup(scoped, wa_account, sim):
    # No quiet hours: every dose time is reminded at its own time.
    settings = MessagingSettings.objects.create(
        clinic=scoped, quiet_hours_start=time(0), quiet_hours_end=time(0)
    )
    make_reminder_templates(scoped, sim=sim, purposes={"medicine_reminder"})
    make_reminder_templates(scoped, sim=sim, purposes={"medicine_reminder"}, language="hi")
    sertraline = Drug.objects.create(
        clinic=scoped,
        generic_name="SERTRALINE",
        strength="50 mg",
        form="tablet",
        atc_code="N06AB06",
    )
    return {
        "doctor": make_doctor(scoped),
        "settings": settings,
        "sertraline": sertraline,
        "sim": sim,
    }


def sertraline(setup):
    return {"drug": setup["sertraline"], "frequency": "1-0-1", "duration_days": 5}


def send_first_evening_reminder(setup, patient, items) -> tuple[str, str]:
    """Sign a visit with these items, send the reminders due until the first one at 17:00 or
    later (clinic time), and return that one's text as the patient's phone received it, and
    its part of the day ("evening" or "night")."""
    sign_visit(setup["doctor"], patient, items=items)
    tz = patient.clinic.tzinfo
    reminder = next(
        r
        for r in Reminder.objects.filter(kind=ReminderKind.MEDICINE).order_by("due_at")
        if r.due_at.astimezone(tz).hour >= 17
    )
    reminders_dispatch(now=reminder.due_at)
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT
    body = reminder.message.body
    assert body in [m["body"] for m in setup["sim"].received(PATIENT)]
    return body, day_part(reminder.due_at, tz)


def test_sensitive_classes_by_atc_code():
    for code in ("N06AB06", "N05AH04", "N05BA01", "J05AR10", "J05AF07", "G03AA07", "N07BC02"):
        assert is_sensitive(code), code
    for code in ("N02BE01", "J01CA04", "J05AB01", "C09AA05", "", None):
        assert not is_sensitive(code), code


def test_an_evening_reminder_with_sertraline_names_no_medicine(scoped, setup):
    patient = make_patient(scoped)
    body, part = send_first_evening_reminder(setup, patient, [sertraline(setup), PARACETAMOL])
    assert "SERTRALINE" not in body.upper()
    assert "PARACETAMOL" not in body.upper()
    assert part in ("evening", "night")
    assert f"time for your medicine: your {part} medicines (2) (" in body


def test_a_hindi_patient_reads_it_in_hindi(scoped, setup):
    patient = make_patient(scoped, preferred_language="hi")
    body, part = send_first_evening_reminder(setup, patient, [sertraline(setup), PARACETAMOL])
    words = {"evening": "शाम", "night": "रात"}[part]
    assert f"आपकी {words} की दवाएं (2)" in body
    assert "SERTRALINE" not in body.upper()
    assert set(Message.objects.values_list("template_language", flat=True)) == {"hi"}


def test_medicines_of_no_sensitive_class_are_named(scoped, setup):
    patient = make_patient(scoped)
    body, _part = send_first_evening_reminder(setup, patient, [PARACETAMOL])
    assert "PARACETAMOL 500 mg - 1 tablet after food" in body


def test_a_patient_set_to_never_gets_the_names(scoped, setup):
    patient = make_patient(scoped, discreet_messages=DiscreetMessages.NEVER)
    body, _part = send_first_evening_reminder(setup, patient, [sertraline(setup)])
    assert "SERTRALINE 50 mg - 1 tablet" in body


def test_a_patient_set_to_always_gets_no_names_even_for_paracetamol(scoped, setup):
    patient = make_patient(scoped, discreet_messages=DiscreetMessages.ALWAYS)
    body, _part = send_first_evening_reminder(setup, patient, [PARACETAMOL])
    assert "PARACETAMOL" not in body.upper()
    assert "medicine (1)" in body


def test_a_clinic_that_turned_it_off_names_sensitive_medicines(scoped, setup):
    MessagingSettings.objects.filter(pk=setup["settings"].pk).update(
        discreet_sensitive_medicines=False
    )
    patient = make_patient(scoped)
    body, _part = send_first_evening_reminder(setup, patient, [sertraline(setup)])
    assert "SERTRALINE 50 mg - 1 tablet" in body


def test_the_choice_is_read_when_the_reminder_is_sent_not_when_planned(scoped, setup):
    patient = make_patient(scoped, discreet_messages=DiscreetMessages.NEVER)
    sign_visit(setup["doctor"], patient, items=[sertraline(setup)])
    Patient.objects.filter(pk=patient.pk).update(discreet_messages=DiscreetMessages.AUTO)
    first = Reminder.objects.filter(kind=ReminderKind.MEDICINE).order_by("due_at")[0]
    reminders_dispatch(now=first.due_at)
    [sent] = setup["sim"].received(PATIENT)
    assert "SERTRALINE" not in sent["body"].upper()
    assert "medicine (1)" in sent["body"]


# --- no diagnosis in any message ------------------------------------------------------------
@pytest.mark.parametrize("language", ["en", "hi"])
def test_no_message_about_a_visit_names_its_diagnosis(scoped, setup, monkeypatch, language):
    """Every message a signed visit with a diagnosis sends (medicine reminders, the follow-up
    reminder, "your prescription is ready"), even for a patient who wants medicine names, says
    neither the diagnosis nor its ICD-10 code."""
    monkeypatch.setattr(links, "document_link", lambda document: f"https://x.test/d/{document.pk}")
    purposes = {"follow_up_reminder", "document_ready"}
    make_reminder_templates(scoped, sim=setup["sim"], purposes=purposes, language=language)
    patient = make_patient(
        scoped, preferred_language=language, discreet_messages=DiscreetMessages.NEVER
    )
    doctor = setup["doctor"]
    by = {"actor": doctor.user, "actor_membership": doctor}
    visit = services.visit_start(clinic=scoped, **by, patient=patient, doctor=doctor)
    follow_up = timezone.localdate() + timedelta(days=7)
    visit = services.visit_update_notes(
        visit=visit, **by, chief_complaints="Low mood", follow_up_date=follow_up
    )
    diagnosis = services.diagnosis_add(
        visit=visit, **by, text="depression", icd10_code="F32.1", qualifier="since the divorce"
    )
    services.prescription_item_add(
        visit=visit, **by, drug=setup["sertraline"], frequency="1-0-1", duration_days=2
    )
    services.prescription_item_add(visit=visit, **by, **{**PARACETAMOL, "duration_days": 2})
    visit = services.visit_sign(visit=visit, **by)
    document = Document.objects.get(visit=visit, kind=DocumentKind.PRESCRIPTION)
    document_render(document_id=document.pk)

    kinds = set(Reminder.objects.values_list("kind", flat=True))
    assert {ReminderKind.MEDICINE, ReminderKind.FOLLOW_UP, ReminderKind.DOCUMENT_READY} <= kinds
    reminders_dispatch(now=timezone.now() + timedelta(days=30))
    assert set(Reminder.objects.values_list("status", flat=True)) == {ReminderStatus.SENT}

    texts = [m["body"] for m in setup["sim"].received(PATIENT)]
    texts += list(Message.objects.values_list("body", flat=True))
    assert len(texts) == 2 * Reminder.objects.count()
    assert any("SERTRALINE" in text for text in texts)  # names: the patient asked for them
    forbidden = [diagnosis.text, "F32", "depress", "divorce", "Low mood", "अवसाद"]
    assert diagnosis.text.startswith("Moderate depressive episode")
    for text in texts:
        for words in forbidden:
            assert words.casefold() not in text.casefold(), (words, text)
