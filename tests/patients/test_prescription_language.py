"""The prescription's "How to take" in the patient's language, with the English beside it."""

from __future__ import annotations

import io

from django.utils import translation
from pypdf import PdfReader

from patients import services
from patients.dosing import frequency_words, parse_frequency
from patients.models import Document, DocumentKind
from patients.selectors.prescriptions import prescription_document
from tests.factories import PatientFactory
from tests.patients.conftest import COMPLAINT, by


def _sign(clinic, doctor, patient, capture):
    with capture(execute=True):
        visit = services.visit_start(clinic=clinic, **by(doctor), patient=patient, doctor=doctor)
        visit = services.visit_update_notes(visit=visit, **by(doctor), chief_complaints=COMPLAINT)
        services.prescription_item_add(
            visit=visit,
            **by(doctor),
            drug=None,
            generic_name="PARACETAMOL",
            strength="500 mg",
            form="tablet",
            frequency="1-0-1",
            timing="after_food",
            duration_days=5,
        )
        return services.visit_sign(visit=visit, **by(doctor))


def _pdf_text(visit) -> str:
    document = Document.objects.get(visit=visit, kind=DocumentKind.PRESCRIPTION)
    with document.file.open("rb") as fh:
        reader = PdfReader(io.BytesIO(fh.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


def _squeezed(text: str) -> str:
    # pypdf splits Devanagari clusters with spaces ("कै से"): compare without whitespace.
    return "".join(text.split())


def test_a_hindi_patients_prescription_pdf_says_how_to_take_in_hindi_beside_the_english(
    scoped, doctor, django_capture_on_commit_callbacks
):
    patient = PatientFactory(clinic=scoped, full_name="Ramesh Yadav", preferred_language="hi")
    visit = _sign(scoped, doctor, patient, django_capture_on_commit_callbacks)

    text = _pdf_text(visit)
    squeezed = _squeezed(text)
    # English kept: the pharmacist's and the doctor's reading.
    assert "Morning and night" in text
    assert "After food" in text
    assert "5 days" in text
    # The same instructions in Hindi, for the patient, and the column's Hindi heading.
    assert "सुबहऔररात" in squeezed
    assert "खानेकेबाद" in squeezed
    assert "कैसेलें" in squeezed


def test_the_instructions_do_not_follow_the_language_of_whoever_signs(
    scoped, doctor, patient, django_capture_on_commit_callbacks
):
    # An English-speaking patient, a doctor whose screens are in Hindi.
    with translation.override("hi"):
        visit = _sign(scoped, doctor, patient, django_capture_on_commit_callbacks)
    text = _pdf_text(visit)
    assert "Morning and night" in text
    assert "सुबह" not in text
    assert "कैसे" not in _squeezed(text)


def test_a_language_without_a_catalogue_prints_english_only(
    scoped, doctor, django_capture_on_commit_callbacks
):
    patient = PatientFactory(clinic=scoped, full_name="Meena Subramanian", preferred_language="ta")
    visit = _sign(scoped, doctor, patient, django_capture_on_commit_callbacks)
    doc = prescription_document(visit=visit)
    assert doc["language"] == "en"
    [item] = doc["items"]
    assert "local" not in item
    assert (item["frequency_label"], item["timing"], item["duration"]) == (
        "Morning and night",
        "After food",
        "5 days",
    )


def test_every_kind_of_frequency_has_hindi_words():
    with translation.override("hi"):
        words = {
            text: frequency_words(parse_frequency(text))
            for text in ("BD", "SOS", "Q8H", "0-0-1", "1/2-0-1/2", "1-1-1-1", "once a week")
        }
    assert words == {
        "BD": "दिन में दो बार (सुबह और रात)",
        "SOS": "ज़रूरत होने पर",
        "Q8H": "हर 8 घंटे में",
        "0-0-1": "रात को",
        "1/2-0-1/2": "सुबह ½ और रात को ½",
        "1-1-1-1": "सुबह, दोपहर, शाम और रात",
        "once a week": "हफ़्ते में एक बार",
    }
