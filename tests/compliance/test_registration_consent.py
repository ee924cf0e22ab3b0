"""The WhatsApp consent recorded at registration: the notice in the language chosen on the
form, the ledger keeping exactly that text, in the same step as the patient (or not at all),
and the same through the API."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from clinics.errors import DomainError
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from compliance import registration as consent_step
from compliance.models import ConsentEvent, ConsentPurpose
from compliance.selectors import consent_granted
from patients.models import Patient
from tests.factories import PatientFactory

CARE = ConsentPurpose.WHATSAPP_CARE
HINDI_NOTICE_START = "Asha Family Clinic आपको +91 98450 12345 पर आपके इलाज से जुड़े WhatsApp संदेश"


@pytest.fixture
def desk(clinic, member_factory):
    return member_factory(clinic, Role.FRONT_DESK)


@pytest.fixture
def client(desk, client_for):
    return client_for(desk)


def create_url(clinic):
    return reverse("patient-create", args=[clinic.slug])


def notice_url(clinic):
    return reverse("registration-consent-notice", args=[clinic.slug])


def shown_notice(client, clinic, **typed) -> str:
    page = client.get(notice_url(clinic), typed).content.decode()
    return page.split('name="whatsapp_consent-notice" value="', 1)[1].split('"', 1)[0]


def registration(**overrides) -> dict:
    data = {
        "full_name": "Sunita Devi",
        "sex": "F",
        "date_of_birth": "1975-06-01",
        "phone": "98450 12345",
        "preferred_language": "hi",
        "whatsapp_consent-agrees": "on",
        "whatsapp_consent-method": "verbal",
        "whatsapp_consent-notice_shown": "on",
    }
    data.update(overrides)
    return data


def ledger(clinic) -> list[ConsentEvent]:
    with clinic_scope(clinic):
        return list(ConsentEvent.objects.select_related("patient"))


def patients(clinic) -> list[Patient]:
    with clinic_scope(clinic):
        return list(Patient.objects.all())


def test_the_notice_follows_the_language_chosen_on_the_form(clinic, client):
    page = client.get(create_url(clinic)).content.decode()
    assert "WhatsApp messages" in page
    assert "Asha Family Clinic will send you WhatsApp messages" in page
    hindi = shown_notice(client, clinic, preferred_language="hi", phone="98450 12345")
    assert hindi.startswith(HINDI_NOTICE_START)
    english = shown_notice(client, clinic, preferred_language="en", phone="98450 12345")
    assert english.startswith("Asha Family Clinic will send you WhatsApp messages")
    # A language without a catalogue gets the English notice.
    assert shown_notice(client, clinic, preferred_language="ta", phone="98450 12345") == english


def test_registration_records_the_consent_in_hindi_as_shown_and_dated_today(clinic, client, desk):
    notice = shown_notice(client, clinic, preferred_language="hi", phone="98450 12345")
    response = client.post(create_url(clinic), registration(**{"whatsapp_consent-notice": notice}))
    assert response.status_code == 302
    [patient] = patients(clinic)
    [event] = ledger(clinic)
    assert event.patient == patient and event.purpose == CARE and event.action == "granted"
    assert event.notice_text == notice
    assert event.method == "verbal" and event.recorded_by == desk.user
    assert event.phone == "+919845012345"
    assert timezone.localdate(event.occurred_at) == timezone.localdate()
    with clinic_scope(clinic):
        assert consent_granted(patient_id=patient.pk, purpose=CARE)
    # The consent page says "Agreed" for care; only marketing is still "not asked".
    consent_page = client.get(reverse("messaging-consent", args=[clinic.slug, patient.pk]))
    care_box = consent_page.content.decode().split("WhatsApp news and health camps")[0]
    assert "Agreed" in care_box and "Not asked" not in care_box


def test_a_notice_shown_for_another_language_is_refused_and_nothing_is_registered(clinic, client):
    english = shown_notice(client, clinic, preferred_language="en", phone="98450 12345")
    response = client.post(create_url(clinic), registration(**{"whatsapp_consent-notice": english}))
    assert response.status_code == 200
    page = response.content.decode()
    assert "show the patient the notice again" in page
    assert HINDI_NOTICE_START in page  # the notice to show now
    assert patients(clinic) == [] and ledger(clinic) == []


def test_agreement_without_the_notice_shown_is_refused(clinic, client):
    data = registration()
    del data["whatsapp_consent-notice_shown"]
    response = client.post(create_url(clinic), data)
    assert response.status_code == 200
    assert "Show the patient the notice before recording their agreement." in (
        response.content.decode()
    )
    assert patients(clinic) == []


def test_not_asked_registers_the_patient_without_a_consent(clinic, client):
    data = registration()
    del data["whatsapp_consent-agrees"]
    assert client.post(create_url(clinic), data).status_code == 302
    assert len(patients(clinic)) == 1 and ledger(clinic) == []


def test_when_the_consent_cannot_be_recorded_the_patient_is_not_registered(
    clinic, client, monkeypatch
):
    def refuse(**kwargs):
        raise DomainError("The ledger is closed for maintenance.")

    monkeypatch.setattr(consent_step, "consent_grant", refuse)
    notice = shown_notice(client, clinic, preferred_language="hi", phone="98450 12345")
    response = client.post(create_url(clinic), registration(**{"whatsapp_consent-notice": notice}))
    assert response.status_code == 200
    assert "The ledger is closed for maintenance." in response.content.decode()
    assert patients(clinic) == [] and ledger(clinic) == []


API_PATIENT = {
    "full_name": "Mohan Lal",
    "sex": "M",
    "date_of_birth": "1960-01-01",
    "phone": "+919812345678",
    "preferred_language": "hi",
}


def test_the_api_registers_with_the_consent_in_the_patients_language(clinic, api_client_for):
    api = api_client_for(clinic, role=Role.FRONT_DESK)
    body = {
        **API_PATIENT,
        "whatsapp_consent": {"granted": True, "method": "verbal", "notice_shown": True},
    }
    response = api.post("/api/v1/patients/", body, format="json")
    assert response.status_code == 201, response.json()
    [event] = ledger(clinic)
    assert event.patient_id == response.json()["id"] and event.method == "verbal"
    assert event.notice_text.startswith("Asha Family Clinic आपको +91 98123 45678 पर")


def test_the_api_refuses_a_consent_without_the_notice_shown(clinic, api_client_for):
    api = api_client_for(clinic, role=Role.FRONT_DESK)
    body = {**API_PATIENT, "whatsapp_consent": {"granted": True}}
    response = api.post("/api/v1/patients/", body, format="json")
    assert response.status_code == 400
    assert "whatsapp_consent" in str(response.json()["fields"])
    assert patients(clinic) == []


def test_the_schema_declares_the_consent_on_patient_creation(client):
    schema = client.get("/api/schema/?format=json").json()
    create = schema["components"]["schemas"]["PatientCreateInputRequest"]["properties"]
    assert "whatsapp_consent" in create


def test_the_consent_page_shows_a_hindi_patient_the_hindi_notice_and_keeps_it_as_shown(
    clinic, client
):
    with clinic_scope(clinic):
        patient = PatientFactory(clinic=clinic, phone="+919845012345", preferred_language="hi")
    page_url = reverse("messaging-consent", args=[clinic.slug, patient.pk])
    page = client.get(page_url).content.decode()
    assert HINDI_NOTICE_START in page
    shown = page.split('<blockquote lang="hi">', 1)[1].split("</blockquote>", 1)[0]
    record_url = reverse("messaging-consent-record", args=[clinic.slug, patient.pk])
    client.post(
        record_url, {"purpose": CARE, "action": "grant", "method": "form", "notice_shown": "on"}
    )
    [event] = ledger(clinic)
    assert event.notice_text == shown
