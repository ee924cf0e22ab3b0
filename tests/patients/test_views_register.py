"""Registering a patient through the web form."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.models import Guardian, Patient
from tests.factories import PatientFactory


def create_url(clinic):
    return reverse("patient-create", args=[clinic.slug])


def years_ago(years: int, days: int = 0) -> date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - timedelta(days=days)


def adult(**overrides) -> dict:
    data = {
        "full_name": "Lakshmi Iyer",
        "sex": "F",
        "date_of_birth": "1980-03-14",
        "phone": "98450 12345",
        "city": "Mysuru",
        "pincode": "570001",
        "state_code": "29",
        "blood_group": "B+",
        "allergies": "Penicillin",
    }
    data.update(overrides)
    return data


def minor(**overrides) -> dict:
    data = {"full_name": "Aarav Iyer", "sex": "M", "date_of_birth": years_ago(8).isoformat()}
    return adult(**{**data, **overrides})


@pytest.fixture
def front_desk(clinic, member_factory):
    return member_factory(clinic, Role.FRONT_DESK)


@pytest.fixture
def client(front_desk, client_for):
    return client_for(front_desk)


def patients(clinic) -> list[Patient]:
    with clinic_scope(clinic):
        return list(Patient.objects.order_by("number"))


def audit_actions(clinic) -> list[str]:
    with clinic_scope(clinic):
        return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


def test_the_form_explains_date_of_birth_or_age_and_guardians(clinic, client):
    page = client.get(create_url(clinic)).content.decode()
    assert "Register a patient" in page
    assert "or age in years" in page
    assert "Needed for patients under 18" in page
    assert "Indian numbers need no +91" in page


def test_register_adult_saves_and_shows_the_new_number(clinic, client, front_desk):
    response = client.post(create_url(clinic), adult(), follow=True)

    [patient] = patients(clinic)
    assert response.redirect_chain[-1][0] == reverse(
        "patient-detail", args=[clinic.slug, patient.pk]
    )
    assert "Their patient number is P-000001" in response.content.decode()
    assert patient.full_name == "Lakshmi Iyer"
    assert str(patient.phone) == "+919845012345"
    assert patient.date_of_birth == date(1980, 3, 14)
    assert not patient.dob_estimated
    assert patient.created_by == front_desk.user
    assert "patients.patient.created" in audit_actions(clinic)


def test_register_by_age_only_estimates_the_date_of_birth(clinic, client):
    response = client.post(create_url(clinic), adult(date_of_birth="", age_years="40"), follow=True)

    [patient] = patients(clinic)
    assert patient.dob_estimated
    assert patient.age == 40
    assert "about 40 years" in response.content.decode()


def test_neither_date_of_birth_nor_age_is_refused(clinic, client):
    response = client.post(create_url(clinic), adult(date_of_birth=""))
    assert response.status_code == 200
    assert "Enter the date of birth or the age." in response.context["form"].errors["date_of_birth"]
    assert patients(clinic) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "12345", "Enter a valid phone number"),
        ("date_of_birth", "FUTURE", "The date of birth cannot be in the future."),
        ("abha_number", "91-1234-5678", "An ABHA number has 14 digits"),
        ("abha_address", "9ravi@gmail", "An ABHA address looks like name.surname@abdm"),
        ("age_years", "140", "Enter an age in whole years from 0 to 130."),
        ("pincode", "ABCDEF", "A PIN code has 6 digits and does not start with 0"),
        ("pincode", "012345", "A PIN code has 6 digits and does not start with 0"),
        ("full_name", "Evil\u202eTXT.exe", "The full name contains an invisible character"),
    ],
)
def test_bad_input_shows_a_field_error_and_saves_nothing(clinic, client, field, value, message):
    if value == "FUTURE":
        value = (timezone.localdate() + timedelta(days=3)).isoformat()
    data = adult(**{field: value})
    if field == "age_years":
        data["date_of_birth"] = ""
    response = client.post(create_url(clinic), data)

    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert any(message in e for e in errors), errors
    page = response.content.decode()
    assert message in page
    assert "Nothing was saved yet" in page
    assert patients(clinic) == []
    assert "patients.patient.created" not in audit_actions(clinic)


def test_valid_abha_is_saved_and_shown_formatted(clinic, client):
    response = client.post(
        create_url(clinic),
        adult(abha_number="91 1234 5678 9012", abha_address="Lakshmi.Iyer@abdm"),
        follow=True,
    )
    [patient] = patients(clinic)
    assert patient.abha_number == "91123456789012"
    assert patient.abha_address == "lakshmi.iyer@abdm"
    assert "91-1234-5678-9012" in response.content.decode()


def test_minor_without_guardian_is_refused(clinic, client):
    response = client.post(create_url(clinic), minor())

    assert response.status_code == 200
    assert "A patient under 18 needs a guardian" in response.content.decode()
    assert response.context["form"].guardian_errors
    assert patients(clinic) == []


def test_minor_with_guardian_contact_is_saved(clinic, client):
    response = client.post(
        create_url(clinic),
        minor(
            guardian_name="Lakshmi Iyer", guardian_relation="mother", guardian_phone="98450 12345"
        ),
        follow=True,
    )
    assert response.status_code == 200
    [patient] = patients(clinic)
    with clinic_scope(clinic):
        [guardian] = Guardian.objects.filter(patient=patient)
    assert (guardian.name, guardian.relation, str(guardian.phone)) == (
        "Lakshmi Iyer",
        "mother",
        "+919845012345",
    )
    page = response.content.decode()
    assert "Minor" in page
    assert "Mother" in page


def test_minor_with_an_existing_patient_as_guardian(clinic, client):
    with clinic_scope(clinic):
        parent = PatientFactory(clinic=clinic, full_name="Meena Rao")
    response = client.post(
        create_url(clinic),
        minor(full_name="Diya Rao", guardian_patient_number="p-1", guardian_relation="mother"),
        follow=True,
    )
    assert response.status_code == 200
    with clinic_scope(clinic):
        child = Patient.objects.get(full_name="Diya Rao")
        assert child.guardians.get().guardian_patient == parent
    page = response.content.decode()
    assert reverse("patient-detail", args=[clinic.slug, parent.pk]) in page


def test_unknown_guardian_number_is_a_field_error(clinic, client):
    response = client.post(
        create_url(clinic),
        minor(guardian_patient_number="P-000777", guardian_relation="father"),
    )
    assert response.status_code == 200
    assert (
        "There is no patient P-000777 at this clinic."
        in response.context["form"].errors["guardian_patient_number"]
    )
    assert patients(clinic) == []


def test_a_minor_cannot_be_a_guardian(clinic, client):
    with clinic_scope(clinic):
        PatientFactory(clinic=clinic, full_name="Young Sibling", date_of_birth=years_ago(12))
    response = client.post(
        create_url(clinic),
        minor(guardian_patient_number="P-000001", guardian_relation="sibling"),
    )
    assert (
        "A guardian must be an adult (18 or older)."
        in response.context["form"].errors["guardian_patient_number"]
    )
    assert len(patients(clinic)) == 1


def test_guardian_contact_without_phone_is_a_field_error(clinic, client):
    response = client.post(
        create_url(clinic), minor(guardian_name="Lakshmi Iyer", guardian_relation="mother")
    )
    assert any(
        "Enter the guardian's phone number" in e
        for e in response.context["form"].errors["guardian_phone"]
    )
    assert patients(clinic) == []


def test_possible_duplicate_warns_then_registers_when_confirmed(clinic, client):
    with clinic_scope(clinic):
        existing = PatientFactory(clinic=clinic, full_name="Lakshmi Iyer", phone="+919845012345")

    warned = client.post(create_url(clinic), adult(full_name="Lakshmi  iyer"))
    assert warned.status_code == 200
    page = warned.content.decode()
    assert "This patient may already be registered" in page
    assert reverse("patient-detail", args=[clinic.slug, existing.pk]) in page
    assert "P-000001" in page
    assert "This is a different person, register anyway" in page
    assert len(patients(clinic)) == 1

    confirmed = client.post(
        create_url(clinic), adult(full_name="Lakshmi  iyer", confirm_duplicate="on"), follow=True
    )
    assert "Their patient number is P-000002" in confirmed.content.decode()
    assert len(patients(clinic)) == 2
    with clinic_scope(clinic):
        event = AuditEvent.objects.get(action="patients.patient.created")
    assert event.data["duplicate_confirmed"] is True


def test_billing_role_cannot_register(clinic, member_factory, client_for):
    billing = client_for(member_factory(clinic, Role.BILLING))
    assert billing.get(create_url(clinic)).status_code == 403
    assert billing.post(create_url(clinic), adult()).status_code == 403
    assert patients(clinic) == []


def test_doctor_can_register(clinic, member_factory, client_for):
    doctor = client_for(member_factory(clinic, Role.DOCTOR))
    response = doctor.post(create_url(clinic), adult())
    assert response.status_code == 302
    assert len(patients(clinic)) == 1


def test_a_name_typed_in_english_finds_the_patient_registered_in_hindi(clinic, client):
    """Sunita Devi, same phone, age and sex as an existing सुनीता देवी: warned, not doubled."""
    with clinic_scope(clinic):
        existing = PatientFactory(clinic=clinic, full_name="सुनीता देवी", phone="+919845012345")
    warned = client.post(create_url(clinic), adult(full_name="Sunita Devi"))
    page = warned.content.decode()
    assert "This patient may already be registered" in page
    assert reverse("patient-detail", args=[clinic.slug, existing.pk]) in page
    assert len(patients(clinic)) == 1


def test_the_same_name_and_date_of_birth_is_a_likely_duplicate_without_a_phone_match(
    clinic, client
):
    with clinic_scope(clinic):
        PatientFactory(
            clinic=clinic,
            full_name="Ramesh Kumar",
            phone="+919800000001",
            date_of_birth=date(1980, 3, 14),
            dob_estimated=False,
        )
    data = adult(full_name="रमेश कुमार", phone="98450 99999", date_of_birth="1980-03-14")
    warned = client.post(create_url(clinic), data)
    assert "This patient may already be registered" in warned.content.decode()
    assert len(patients(clinic)) == 1
    # A different person with the same birthday is not held up.
    other = client.post(create_url(clinic), {**data, "full_name": "Suresh Patil"})
    assert other.status_code == 302


def test_a_similar_name_born_the_same_day_is_not_held_up_without_a_shared_phone(clinic, client):
    """Only the same name counts with a date of birth alone: twins and namesakes differ."""
    with clinic_scope(clinic):
        PatientFactory(
            clinic=clinic,
            full_name="Ravi Kumar 1",
            phone="+919800000001",
            date_of_birth=date(1980, 3, 14),
            dob_estimated=False,
        )
    other = client.post(
        create_url(clinic),
        adult(full_name="Ravi Kumar 2", phone="98450 99999", date_of_birth="1980-03-14"),
    )
    assert other.status_code == 302
    assert len(patients(clinic)) == 2
