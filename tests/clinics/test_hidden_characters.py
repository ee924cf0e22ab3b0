"""Names and other identifying text refuse invisible control characters (bidi overrides and
the like), which would let one name show as another; scripts' joiners stay allowed."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from clinics.errors import ValidationFailed
from clinics.models import Clinic, DoctorProfile, User
from clinics.roles import Role
from clinics.services import (
    clinic_update,
    doctor_profile_update,
    invitation_accept,
    invitation_create,
)
from clinics.tenancy import clinic_scope
from clinics.validators import VisibleText
from patients.models import Guardian, Patient
from patients.services import GuardianInput, guardian_add, patient_create, patient_update

SPOOFED = "Evil\u202eTXT.exe"  # shows as "Evilexe.TXT"
# Every bidirectional control, and other invisible controls and format characters.
HIDDEN = [
    *(chr(c) for c in range(0x202A, 0x202F)),
    *(chr(c) for c in range(0x2066, 0x206A)),
    "\u200e",
    "\u200f",
    "\u061c",
    "\u200b",  # zero-width space
    "\ufeff",  # byte order mark
    "\u00ad",  # soft hyphen
    "\x00",
    "\x07",
    "\x1b",
]
# Hindi and Malayalam names that need ZWJ and ZWNJ to be written as their owners write them.
JOINED_NAMES = ["\u0905\u0930\u094d\u200d\u091c\u0941\u0928 \u0930\u093e\u0935", "ക\u200cമല"]
ADULT = {"sex": "F", "phone": "98450 12345", "date_of_birth": date(1979, 3, 2)}


def _patient(clinic, actor, **fields):
    return patient_create(
        clinic=clinic, actor=actor, **{"full_name": "Meena Kumari", **ADULT, **fields}
    )


@pytest.mark.parametrize("char", HIDDEN, ids=lambda c: f"U+{ord(c):04X}")
def test_the_validator_refuses_each_hidden_character(char):
    with pytest.raises(ValidationError) as exc:
        VisibleText("full name")(f"Meena{char}Kumari")
    assert f"U+{ord(char):04X}" in exc.value.messages[0]
    assert "full name" in exc.value.messages[0]


@pytest.mark.parametrize("name", JOINED_NAMES)
def test_the_validator_keeps_joiners_that_indian_scripts_need(name):
    VisibleText("full name")(name)


def test_line_breaks_are_refused_in_names_and_kept_in_addresses():
    with pytest.raises(ValidationError):
        VisibleText("city")("Mysuru\nPune")
    VisibleText("address", multiline=True)("12 MG Road\r\nMysuru\t570001")


# --- Patients and guardians -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "label"),
    [
        ("full_name", "full name"),
        ("address", "address"),
        ("city", "city"),
        ("emergency_contact_name", "emergency contact's name"),
    ],
)
def test_patient_fields_refuse_a_bidi_override_and_nothing_is_saved(scoped, owner, field, label):
    with pytest.raises(ValidationFailed) as exc:
        _patient(scoped, owner.user, **{field: SPOOFED})
    assert list(exc.value.errors) == [field]
    assert f"The {label} contains an invisible character (U+202E" in exc.value.errors[field][0]
    assert Patient.objects.count() == 0


def test_a_patient_update_refuses_a_hidden_character(scoped, owner):
    patient = _patient(scoped, owner.user)
    with pytest.raises(ValidationFailed) as exc:
        patient_update(patient=patient, actor=owner.user, full_name="Meena\u2067Kumari")
    assert "U+2067" in exc.value.errors["full_name"][0]
    patient.refresh_from_db()
    assert patient.full_name == "Meena Kumari"


@pytest.mark.parametrize("name", JOINED_NAMES)
def test_a_patient_name_with_zwj_or_zwnj_is_saved_as_typed(scoped, owner, name):
    patient = _patient(scoped, owner.user, full_name=name, address="12 MG Road\r\nMysuru")
    patient.refresh_from_db()
    assert patient.full_name == name
    assert patient.address == "12 MG Road\r\nMysuru"


def test_a_guardian_name_refuses_a_hidden_character(scoped, owner):
    patient = _patient(scoped, owner.user)
    with pytest.raises(ValidationFailed) as exc:
        guardian_add(
            patient=patient,
            actor=owner.user,
            guardian=GuardianInput(relation="mother", name=SPOOFED, phone="98450 54321"),
        )
    assert (
        "The guardian's name contains an invisible character"
        in (exc.value.errors["guardian_name"][0])
    )
    assert Guardian.objects.count() == 0
    guardian_add(
        patient=patient,
        actor=owner.user,
        guardian=GuardianInput(relation="mother", name=JOINED_NAMES[0], phone="98450 54321"),
    )
    assert Guardian.objects.get().name == JOINED_NAMES[0]


# --- The clinic, its doctors and its staff ----------------------------------------------------


@pytest.mark.parametrize(
    ("field", "label"),
    [
        ("name", "clinic name"),
        ("address", "address"),
        ("city", "city"),
        ("letterhead_tagline", "letterhead tagline"),
        ("timings", "timings"),
        ("registration_details", "registration details"),
    ],
)
def test_clinic_fields_refuse_a_bidi_override(clinic, owner, field, label):
    before = getattr(clinic, field)
    with clinic_scope(clinic), pytest.raises(ValidationFailed) as exc:
        clinic_update(clinic=clinic, actor=owner.user, **{field: SPOOFED})
    assert f"The {label} contains an invisible character" in exc.value.errors[field][0]
    clinic.refresh_from_db()
    assert getattr(clinic, field) == before


def test_a_clinic_name_in_an_indian_script_is_kept(clinic, owner):
    with clinic_scope(clinic):
        clinic_update(clinic=clinic, actor=owner.user, name=JOINED_NAMES[0])
    assert Clinic.objects.get(pk=clinic.pk).name == JOINED_NAMES[0]


@pytest.mark.parametrize(
    "field", ["qualifications", "medical_council", "registration_number", "specialisation"]
)
def test_a_doctor_profile_refuses_a_hidden_character(clinic, owner, member_factory, field):
    doctor = member_factory(clinic, Role.DOCTOR)
    details = {
        "qualifications": "MBBS",
        "medical_council": "Karnataka Medical Council",
        "registration_number": "KMC 12345",
        "specialisation": "",
    }
    with clinic_scope(clinic), pytest.raises(ValidationFailed) as exc:
        doctor_profile_update(
            membership=doctor, actor=owner.user, **{**details, field: "KMC\u202e54321"}
        )
    assert "invisible character (U+202E" in exc.value.errors[field][0]
    with clinic_scope(clinic):
        assert not DoctorProfile.objects.exists()


def test_a_staff_member_cannot_join_with_a_spoofed_full_name(clinic, owner):
    with clinic_scope(clinic):
        invitation = invitation_create(
            clinic=clinic, actor=owner.user, email="new.doc@example.in", role=Role.DOCTOR
        )
    with pytest.raises(ValidationFailed) as exc:
        invitation_accept(
            token=invitation.token, full_name="Dr \u202eKavya", password="a-long-safe-passphrase"
        )
    assert "The full name contains an invisible character" in exc.value.errors["full_name"][0]
    assert not User.objects.filter(email="new.doc@example.in").exists()
    membership = invitation_accept(
        token=invitation.token, full_name=JOINED_NAMES[0], password="a-long-safe-passphrase"
    )
    assert membership.user.full_name == JOINED_NAMES[0]
