"""A medical certificate's standard text in the patient's language, under the English."""

from __future__ import annotations

import io
from datetime import timedelta

from django.utils import timezone
from pypdf import PdfReader

from patients.models import CertificateKind, Document
from patients.services.certificates import certificate_issue
from tests.factories import PatientFactory
from tests.patients.conftest import by


def _issue(doctor, patient, capture):
    today = timezone.localdate()
    with capture(execute=True):
        certificate = certificate_issue(
            patient=patient,
            kind=CertificateKind.SICKNESS,
            effective_from=today,
            effective_to=today + timedelta(days=2),
            condition="Acute viral fever",
            identification_mark="Mole on the left cheek",
            **by(doctor),
        )
    document = Document.objects.get(pk=certificate.document_id)
    with document.file.open("rb") as fh:
        reader = PdfReader(io.BytesIO(fh.read()))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def test_a_hindi_patients_sick_note_repeats_the_statement_in_hindi(
    scoped, doctor, django_capture_on_commit_callbacks
):
    patient = PatientFactory(clinic=scoped, full_name="Ramesh Yadav", preferred_language="hi")
    text = _issue(doctor, patient, django_capture_on_commit_callbacks)
    # The English statement is the certificate; the Hindi follows it (compared without the
    # spaces pypdf puts inside Devanagari clusters).
    assert "Inmyopinion,restandabsencefromworkorstudiesisnecessary" in text
    assert "आरामकरनेऔरकामयापढ़ाईसेछुट्टी" in text
    assert "मरीज़केहस्ताक्षरयाअँगूठेका" in text  # pypdf drops the "ि" of निशान


def test_an_english_patients_certificate_has_no_translation(
    scoped, doctor, patient, django_capture_on_commit_callbacks
):
    text = _issue(doctor, patient, django_capture_on_commit_callbacks)
    assert "Inmyopinion" in text
    assert "आराम" not in text
