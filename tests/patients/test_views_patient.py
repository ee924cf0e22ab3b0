"""The patient page, editing, archiving and guardians."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.models import Guardian, Patient
from patients.services import estimated_dob
from tests.factories import GuardianFactory, PatientFactory


def url(clinic, name, *args):
    return reverse(name, args=[clinic.slug, *args])


def events(clinic, action) -> list[AuditEvent]:
    with clinic_scope(clinic):
        return list(AuditEvent.objects.filter(action=action).order_by("id"))


def reload(patient) -> Patient:
    with clinic_scope(patient.clinic_id):
        return Patient.objects.get(pk=patient.pk)


def edit_form_data(client, clinic, patient) -> dict:
    """What the browser posts back when nobody changes anything on the edit page."""
    response = client.get(url(clinic, "patient-edit", patient.pk))
    assert response.status_code == 200
    form = response.context["form"]
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, date):
            value = value.isoformat()
        data[name] = "" if value is None else value
    return data


@pytest.fixture
def front_desk(clinic, member_factory):
    return member_factory(clinic, Role.FRONT_DESK)


@pytest.fixture
def patient(clinic):
    with clinic_scope(clinic):
        return PatientFactory(
            clinic=clinic,
            full_name="Lakshmi Iyer",
            phone="+919845012345",
            city="Mysuru",
            allergies="Penicillin",
            chronic_conditions="Type 2 diabetes",
            abha_number="91123456789012",
            emergency_contact_name="Suresh Iyer",
            emergency_contact_relation="spouse",
            emergency_contact_phone="+919845099999",
        )


@pytest.fixture
def child_with_mother(clinic, patient):
    """A minor whose only guardian is `patient` (her mother)."""
    with clinic_scope(clinic):
        child = PatientFactory(
            clinic=clinic, full_name="Aarav Iyer", date_of_birth=date(2018, 1, 5)
        )
        guardian = GuardianFactory(patient=child, guardian_patient=patient, name="", phone="")
    return child, guardian


# --- The patient page ---------------------------------------------------------------------


def test_patient_page_shows_the_record_and_writes_a_viewed_event(
    clinic, front_desk, client_for, patient
):
    response = client_for(front_desk).get(url(clinic, "patient-detail", patient.pk))

    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "Lakshmi Iyer",
        "P-000001",
        "+91 98450 12345",
        "Suresh Iyer",
        "(Spouse)",
        "91-1234-5678-9012",
        "15 Jun 1985",
        "Registered",
    ):
        assert text in page, text
    # Front desk do not read clinical information (item 13): the alert, not its content.
    assert 'class="badge danger">Allergy alert' in page
    [viewed] = events(clinic, "patients.patient.viewed")
    assert viewed.patient_id == patient.pk
    assert viewed.actor == front_desk.user


def test_no_allergy_badge_without_allergies(clinic, front_desk, client_for):
    with clinic_scope(clinic):
        plain = PatientFactory(clinic=clinic)
    page = client_for(front_desk).get(url(clinic, "patient-detail", plain.pk)).content.decode()
    assert "badge danger" not in page
    assert "No allergies recorded" in page


def test_estimated_age_reads_about_n_years(clinic, front_desk, client_for):
    with clinic_scope(clinic):
        guessed = PatientFactory(clinic=clinic, date_of_birth=estimated_dob(62), dob_estimated=True)
    page = client_for(front_desk).get(url(clinic, "patient-detail", guessed.pk)).content.decode()
    assert "about 62 years" in page


def test_minor_page_shows_badge_and_guardian_link_and_parent_shows_ward(
    clinic, front_desk, client_for, patient, child_with_mother
):
    child, _ = child_with_mother
    client = client_for(front_desk)

    page = client.get(url(clinic, "patient-detail", child.pk)).content.decode()
    assert "Minor" in page
    assert url(clinic, "patient-detail", patient.pk) in page
    assert "Mother" in page

    parent_page = client.get(url(clinic, "patient-detail", patient.pk)).content.decode()
    assert "Guardian of" in parent_page
    assert url(clinic, "patient-detail", child.pk) in parent_page


def test_doctor_and_billing_see_the_page_billing_without_edit_buttons(
    clinic, member_factory, client_for, patient
):
    doctor = client_for(member_factory(clinic, Role.DOCTOR))
    response = doctor.get(url(clinic, "patient-detail", patient.pk))
    assert response.status_code == 200
    assert "Edit details" in response.content.decode()

    billing = client_for(member_factory(clinic, Role.BILLING))
    response = billing.get(url(clinic, "patient-detail", patient.pk))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Lakshmi Iyer" in page
    assert "Edit details" not in page
    assert "Archive" not in page
    assert billing.get(url(clinic, "patient-edit", patient.pk)).status_code == 403


# --- Editing ------------------------------------------------------------------------------


def test_front_desk_sets_a_patient_to_discreet_messages(clinic, front_desk, client_for, patient):
    client = client_for(front_desk)
    data = edit_form_data(client, clinic, patient)
    assert data["discreet_messages"] == "auto"
    page = client.get(url(clinic, "patient-edit", patient.pk)).content.decode()
    assert "Medicine names in WhatsApp reminders" in page

    data["discreet_messages"] = "always"
    response = client.post(url(clinic, "patient-edit", patient.pk), data, follow=True)

    assert "Saved the changes" in response.content.decode()
    detail = client.get(url(clinic, "patient-detail", patient.pk)).content.decode()
    assert "Never name the medicines" in detail
    assert reload(patient).discreet_messages == "always"
    [updated] = events(clinic, "patients.patient.updated")
    assert updated.data["fields"] == ["discreet_messages"]

    data["discreet_messages"] = "sometimes"
    response = client.post(url(clinic, "patient-edit", patient.pk), data)
    assert "Select a valid choice" in response.content.decode()
    assert reload(patient).discreet_messages == "always"


def test_edit_saves_and_audits_the_changed_field_names(clinic, front_desk, client_for, patient):
    client = client_for(front_desk)
    data = edit_form_data(client, clinic, patient)
    assert data["phone"] == "098450 12345"
    data.update(city="Bengaluru", whatsapp_phone="+91 99000 11223")

    response = client.post(url(clinic, "patient-edit", patient.pk), data, follow=True)

    assert "Saved the changes" in response.content.decode()
    saved = reload(patient)
    assert saved.city == "Bengaluru"
    assert str(saved.whatsapp_phone) == "+919900011223"
    [updated] = events(clinic, "patients.patient.updated")
    assert updated.data["fields"] == ["city", "whatsapp_phone"]


def test_edit_with_a_bad_phone_shows_the_error_and_keeps_the_record(
    clinic, front_desk, client_for, patient
):
    client = client_for(front_desk)
    data = {**edit_form_data(client, clinic, patient), "phone": "12", "city": "Bengaluru"}
    response = client.post(url(clinic, "patient-edit", patient.pk), data)
    assert response.status_code == 200
    assert any("Enter a valid phone number" in e for e in response.context["form"].errors["phone"])
    assert reload(patient).city == "Mysuru"
    assert events(clinic, "patients.patient.updated") == []


def test_editing_other_details_keeps_an_estimated_date_of_birth_estimated(
    clinic, front_desk, client_for
):
    with clinic_scope(clinic):
        guessed = PatientFactory(clinic=clinic, date_of_birth=estimated_dob(50), dob_estimated=True)
    client = client_for(front_desk)
    data = {**edit_form_data(client, clinic, guessed), "city": "Udupi"}
    client.post(url(clinic, "patient-edit", guessed.pk), data)
    saved = reload(guessed)
    assert saved.city == "Udupi"
    assert saved.dob_estimated


def test_a_new_age_on_the_edit_page_re_estimates_the_date_of_birth(clinic, front_desk, client_for):
    with clinic_scope(clinic):
        guessed = PatientFactory(clinic=clinic, date_of_birth=estimated_dob(50), dob_estimated=True)
    client = client_for(front_desk)
    data = {**edit_form_data(client, clinic, guessed), "age_years": "55"}
    client.post(url(clinic, "patient-edit", guessed.pk), data)
    saved = reload(guessed)
    assert saved.age == 55
    assert saved.dob_estimated


def test_archived_patient_cannot_be_edited(clinic, front_desk, client_for, patient):
    with clinic_scope(clinic):
        Patient.objects.filter(pk=patient.pk).update(archived_at=timezone.now())
    client = client_for(front_desk)
    data = {**edit_form_data(client, clinic, patient), "city": "Bengaluru"}
    response = client.post(url(clinic, "patient-edit", patient.pk), data)
    assert response.status_code == 200
    assert "Restore the record before editing it." in response.content.decode()
    assert reload(patient).city == "Mysuru"


# --- Archive and restore ------------------------------------------------------------------


def test_owner_archives_and_restores(clinic, owner, client_for, patient):
    client = client_for(owner)
    list_url = url(clinic, "patient-list")

    response = client.post(url(clinic, "patient-archive", patient.pk), follow=True)
    assert "is archived" in response.content.decode()
    assert reload(patient).is_archived
    assert "Lakshmi Iyer" not in client.get(list_url).content.decode()
    page = client.get(url(clinic, "patient-detail", patient.pk)).content.decode()
    assert "Archived" in page
    assert "Restore record" in page

    response = client.post(url(clinic, "patient-restore", patient.pk), follow=True)
    assert "back in the patient list" in response.content.decode()
    assert not reload(patient).is_archived
    assert "Lakshmi Iyer" in client.get(list_url).content.decode()
    assert len(events(clinic, "patients.patient.archived")) == 1
    assert len(events(clinic, "patients.patient.restored")) == 1


def test_archive_needs_post_and_the_archive_permission(
    clinic, owner, front_desk, client_for, patient
):
    assert client_for(owner).get(url(clinic, "patient-archive", patient.pk)).status_code == 405
    assert (
        client_for(front_desk).post(url(clinic, "patient-archive", patient.pk)).status_code == 403
    )
    assert not reload(patient).is_archived


# --- Guardians ----------------------------------------------------------------------------


def test_add_a_guardian_contact(clinic, front_desk, client_for, patient):
    client = client_for(front_desk)
    assert client.get(url(clinic, "guardian-add", patient.pk)).status_code == 200
    response = client.post(
        url(clinic, "guardian-add", patient.pk),
        {
            "guardian_name": "Suresh Iyer",
            "guardian_relation": "spouse",
            "guardian_phone": "98450 99999",
        },
        follow=True,
    )
    assert "Added Suresh Iyer (Spouse)" in response.content.decode()
    with clinic_scope(clinic):
        assert patient.guardians.get().name == "Suresh Iyer"
    assert len(events(clinic, "patients.guardian.added")) == 1


def test_add_guardian_with_nothing_filled_in_explains_what_is_needed(
    clinic, front_desk, client_for, patient
):
    response = client_for(front_desk).post(url(clinic, "guardian-add", patient.pk), {})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"guardian_relation", "guardian_name", "guardian_phone"} <= set(errors)
    with clinic_scope(clinic):
        assert not Guardian.objects.exists()


def test_removing_a_minors_last_guardian_is_refused(
    clinic, front_desk, client_for, child_with_mother
):
    child, guardian = child_with_mother
    response = client_for(front_desk).post(
        url(clinic, "guardian-remove", child.pk, guardian.pk), follow=True
    )
    assert "A patient under 18 needs a guardian: add another one first." in (
        response.content.decode()
    )
    with clinic_scope(clinic):
        assert Guardian.objects.filter(pk=guardian.pk).exists()


def test_removing_a_second_guardian_works(clinic, front_desk, client_for, child_with_mother):
    child, _ = child_with_mother
    with clinic_scope(clinic):
        father = GuardianFactory(patient=child, name="Ramesh Iyer", relation="father")
    response = client_for(front_desk).post(
        url(clinic, "guardian-remove", child.pk, father.pk), follow=True
    )
    assert "Ramesh Iyer is no longer a guardian" in response.content.decode()
    with clinic_scope(clinic):
        assert not Guardian.objects.filter(pk=father.pk).exists()
    assert len(events(clinic, "patients.guardian.removed")) == 1


def test_guardian_of_another_patient_answers_404(
    clinic, front_desk, client_for, patient, child_with_mother
):
    _, guardian = child_with_mother
    response = client_for(front_desk).post(url(clinic, "guardian-remove", patient.pk, guardian.pk))
    assert response.status_code == 404


# --- Another clinic -----------------------------------------------------------------------


def test_another_clinics_patient_answers_404_on_every_patient_url(
    clinic, other_clinic, owner, client_for
):
    with clinic_scope(other_clinic):
        theirs = PatientFactory(clinic=other_clinic, full_name="Someone Elsewhere")
        their_guardian = GuardianFactory(patient=theirs)
    client = client_for(owner)
    for name, args in [
        ("patient-detail", [theirs.pk]),
        ("patient-edit", [theirs.pk]),
        ("patient-archive", [theirs.pk]),
        ("patient-restore", [theirs.pk]),
        ("guardian-add", [theirs.pk]),
        ("guardian-remove", [theirs.pk, their_guardian.pk]),
    ]:
        target = url(clinic, name, *args)
        get, post = client.get(target), client.post(target, {"full_name": "x", "city": "x"})
        assert (get.status_code, post.status_code) == (404, 404), name
        assert "Someone Elsewhere" not in get.content.decode()
    assert events(clinic, "patients.patient.viewed") == []
    with clinic_scope(other_clinic):
        assert Patient.objects.get(pk=theirs.pk).full_name == "Someone Elsewhere"
        assert not Patient.objects.get(pk=theirs.pk).is_archived
        assert Guardian.objects.filter(pk=their_guardian.pk).exists()


def test_edit_that_makes_the_patient_a_minor_without_guardian_is_refused(
    clinic, front_desk, client_for, patient
):
    client = client_for(front_desk)
    child_dob = estimated_dob(10).isoformat()
    data = {**edit_form_data(client, clinic, patient), "date_of_birth": child_dob}
    response = client.post(url(clinic, "patient-edit", patient.pk), data)
    assert response.status_code == 200
    assert "A patient under 18 needs a guardian" in response.content.decode()
    assert reload(patient).date_of_birth == date(1985, 6, 15)
