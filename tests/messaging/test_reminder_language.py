"""Medicine reminders speak the patient's language, whoever signed the prescription."""

from __future__ import annotations

from django.utils import translation

from messaging.models import Reminder, ReminderKind
from patients.models import Prescription
from tests.factories import PatientFactory
from tests.messaging.care_setup import PARACETAMOL, make_doctor, sign_visit


def _lines(visit) -> set[str]:
    prescription = Prescription.objects.get(visit=visit)
    rows = Reminder.objects.filter(
        source=f"prescription:{prescription.pk}", kind=ReminderKind.MEDICINE
    )
    return {item["text"] for row in rows for item in row.context["items"]}


def test_a_hindi_patients_medicine_reminder_says_the_dose_and_after_food_in_hindi(scoped):
    doctor = make_doctor(scoped)
    patient = PatientFactory(clinic=scoped, phone="+919845012345", preferred_language="hi")
    visit = sign_visit(doctor, patient, items=[PARACETAMOL])
    assert _lines(visit) == {"PARACETAMOL 500 mg - 1 गोली खाने के बाद"}


def test_an_english_patients_reminder_stays_english_when_the_doctor_works_in_hindi(scoped):
    doctor = make_doctor(scoped)
    patient = PatientFactory(clinic=scoped, phone="+919845012345", preferred_language="en")
    with translation.override("hi"):
        visit = sign_visit(doctor, patient, items=[PARACETAMOL])
    assert _lines(visit) == {"PARACETAMOL 500 mg - 1 tablet after food"}
