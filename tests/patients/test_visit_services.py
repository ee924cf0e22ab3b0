"""Visit services: drafts, notes, vitals, diagnoses, procedures, signing and amending."""

import json
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from clinics.audit import Actions
from clinics.errors import DomainError, NotAllowed, ValidationFailed
from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.models import (
    Appointment,
    AppointmentStatus,
    Diagnosis,
    Drug,
    Prescription,
    PrescriptionItem,
    PrescriptionStatus,
    ProcedureDone,
    Visit,
    VisitMode,
    VisitStatus,
    Vitals,
)
from patients.services import (
    diagnosis_add,
    diagnosis_remove,
    procedure_add,
    procedure_remove,
    visit_amend,
    visit_sign,
    visit_start,
    visit_update_notes,
    vitals_record,
)
from tests.factories import (
    ClinicFactory,
    DoctorProfileFactory,
    GuardianFactory,
    MembershipFactory,
    PatientFactory,
)

SIGNED = "This visit is signed. Amend it to make a correction."
COMPLAINT = "Fever and sore throat for three days"
DIAGNOSIS = "Acute pharyngitis"


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture
def doctor(scoped):
    return DoctorProfileFactory(membership__clinic=scoped).membership


@pytest.fixture
def other_doctor(scoped):
    return DoctorProfileFactory(membership__clinic=scoped).membership


@pytest.fixture
def assistant(scoped):
    return MembershipFactory(clinic=scoped, role=Role.ASSISTANT)


@pytest.fixture
def patient(scoped):
    return PatientFactory(clinic=scoped, full_name="Kavya Reddy")


@pytest.fixture
def draft(scoped, doctor, patient):
    return start(scoped, doctor, patient)


def start(clinic, member, patient, doctor=None, **kwargs):
    return visit_start(
        clinic=clinic,
        actor=member.user,
        actor_membership=member,
        patient=patient,
        doctor=doctor or member,
        **kwargs,
    )


def by(member):
    return {"actor": member.user, "actor_membership": member}


def make_prescription(visit, *, drug=None, name="PARACETAMOL"):
    prescription = Prescription.objects.create(
        clinic_id=visit.clinic_id, visit=visit, patient=visit.patient, doctor=visit.doctor
    )
    PrescriptionItem.objects.create(
        clinic_id=visit.clinic_id,
        prescription=prescription,
        drug=drug,
        generic_name=name,
        strength="500 mg",
        form="tablet",
        dose_amount=Decimal("1"),
        frequency="1-0-1",
        schedule={"times": ["08:00", "20:00"], "per_day": 2},
        duration_days=5,
        timing="after_food",
        position=0,
    )
    return prescription


def complete(visit, doctor):
    """A full draft: notes, vitals, a diagnosis, a procedure and a prescription."""
    follow_up = visit.created_at.date() + timedelta(days=7)
    visit = visit_update_notes(
        visit=visit,
        **by(doctor),
        chief_complaints=COMPLAINT,
        examination="Throat congested",
        advice="Warm saline gargles",
        follow_up_date=follow_up,
    )
    vitals_record(visit=visit, **by(doctor), pulse=92, temperature_c="38.4", weight_kg="61.5")
    diagnosis_add(visit=visit, **by(doctor), text=DIAGNOSIS, icd10_code="j029")
    procedure_add(visit=visit, **by(doctor), name="Throat swab")
    make_prescription(visit)
    return visit


def seen_on(visit):
    """The visit's date in the clinic's time zone."""
    return timezone.localtime(visit.created_at, visit.clinic.tzinfo).date()


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def assert_no_clinical_text(event):
    blob = json.dumps(event.data).lower()
    for text in (COMPLAINT, DIAGNOSIS, "throat", "saline", "pharyng", "j02", "kavya"):
        assert text.lower() not in blob


# ---------------------------------------------------------------------------------------------
# Starting a visit


def test_doctor_starts_a_draft_visit(scoped, doctor, patient):
    visit = start(scoped, doctor, patient)
    assert visit.status == VisitStatus.DRAFT
    assert (visit.version, visit.doctor, visit.created_by) == (1, doctor, doctor.user)
    [event] = events(Actions.VISIT_STARTED)
    assert event.patient_id == patient.pk and event.actor == doctor.user
    assert event.data == {"doctor_id": doctor.pk, "appointment_id": None, "mode": "in_person"}


def test_assistant_may_start_a_draft_for_a_doctor(scoped, assistant, doctor, patient):
    visit = start(scoped, assistant, patient, doctor=doctor)
    assert visit.doctor == doctor and visit.created_by == assistant.user


@pytest.mark.parametrize("role", [Role.ASSISTANT, Role.FRONT_DESK, Role.BILLING])
def test_the_visits_doctor_must_be_a_doctor(scoped, doctor, patient, role):
    not_a_doctor = MembershipFactory(clinic=scoped, role=role)
    with pytest.raises(DomainError, match="Choose a doctor") as exc:
        start(scoped, doctor, patient, doctor=not_a_doctor)
    assert exc.value.field == "doctor"
    assert not Visit.objects.exists()


def test_an_inactive_doctor_or_another_clinics_doctor_is_refused(
    scoped, doctor, other_doctor, patient, other_clinic
):
    other_doctor.is_active = False
    other_doctor.save()
    with pytest.raises(DomainError, match="Choose a doctor"):
        start(scoped, doctor, patient, doctor=other_doctor)
    elsewhere = MembershipFactory(clinic=other_clinic, role=Role.DOCTOR)
    with pytest.raises(DomainError, match="Choose a doctor"):
        start(scoped, doctor, patient, doctor=elsewhere)
    assert not Visit.objects.exists()


def test_an_archived_patient_cannot_be_seen_until_restored(scoped, doctor, patient):
    patient.archived_at = timezone.now()
    patient.save()
    with pytest.raises(DomainError, match="archived"):
        start(scoped, doctor, patient)


def _appointment(clinic, patient, doctor, **kwargs):
    now = timezone.now()
    return Appointment.objects.create(
        clinic=clinic,
        patient=patient,
        doctor=doctor,
        starts_at=now,
        ends_at=now + timedelta(minutes=15),
        **kwargs,
    )


def test_visit_from_an_appointment(scoped, doctor, other_doctor, patient):
    appointment = _appointment(scoped, patient, doctor)
    visit = start(scoped, doctor, patient, appointment=appointment)
    assert visit.appointment == appointment
    assert events(Actions.VISIT_STARTED)[0].data["appointment_id"] == appointment.pk
    with pytest.raises(DomainError, match="already been started"):
        start(scoped, doctor, patient, appointment=appointment)
    assert Visit.objects.count() == 1


def test_the_appointment_must_be_this_patients_with_this_doctor(
    scoped, doctor, other_doctor, patient
):
    someone_else = PatientFactory(clinic=scoped)
    for appointment in (
        _appointment(scoped, someone_else, doctor),
        _appointment(scoped, patient, other_doctor),
    ):
        with pytest.raises(DomainError, match="another patient or another doctor") as exc:
            start(scoped, doctor, patient, appointment=appointment)
        assert exc.value.field == "appointment"
    cancelled = _appointment(scoped, patient, doctor, status=AppointmentStatus.CANCELLED)
    with pytest.raises(DomainError, match="cancelled"):
        start(scoped, doctor, patient, appointment=cancelled)
    assert not Visit.objects.exists()


def _minor(clinic):
    today = timezone.localdate()
    return PatientFactory(clinic=clinic, date_of_birth=today.replace(year=today.year - 9))


def test_teleconsultation_of_a_minor_needs_a_guardian_on_record(scoped, doctor):
    child = _minor(scoped)
    with pytest.raises(DomainError, match=r"under 18 .* only with a parent or guardian") as exc:
        start(scoped, doctor, child, mode=VisitMode.TELECONSULTATION)
    assert exc.value.field == "mode"
    assert not Visit.objects.exists()
    # In person is fine, but switching that visit to teleconsultation is not.
    visit = start(scoped, doctor, child)
    with pytest.raises(DomainError, match="only with a parent or guardian"):
        visit_update_notes(visit=visit, **by(doctor), mode=VisitMode.TELECONSULTATION)
    GuardianFactory(patient=child)
    visit = visit_update_notes(visit=visit, **by(doctor), mode=VisitMode.TELECONSULTATION)
    assert visit.mode == VisitMode.TELECONSULTATION
    assert start(scoped, doctor, child, mode=VisitMode.TELECONSULTATION).pk


def test_adults_may_be_seen_by_teleconsultation(scoped, doctor, patient):
    visit = start(scoped, doctor, patient, mode=VisitMode.TELECONSULTATION)
    assert visit.mode == VisitMode.TELECONSULTATION


# ---------------------------------------------------------------------------------------------
# Roles


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.BILLING])
def test_front_desk_and_billing_may_do_nothing_clinical(scoped, doctor, patient, role):
    staff = MembershipFactory(clinic=scoped, role=role)
    draft = complete(start(scoped, doctor, patient), doctor)
    other = start(scoped, doctor, PatientFactory(clinic=scoped))
    diagnosis_add(visit=other, **by(doctor), text="Viral fever")
    signed = visit_sign(visit=other, **by(doctor))
    before = AuditEvent.objects.count()
    attempts = [
        lambda: start(scoped, staff, patient, doctor=doctor),
        lambda: visit_update_notes(visit=draft, **by(staff), advice="Rest"),
        lambda: vitals_record(visit=draft, **by(staff), pulse=80),
        lambda: diagnosis_add(visit=draft, **by(staff), text="Cough"),
        lambda: diagnosis_remove(diagnosis=draft.diagnoses.get(), **by(staff)),
        lambda: procedure_add(visit=draft, **by(staff), name="Dressing"),
        lambda: procedure_remove(procedure=draft.procedures.get(), **by(staff)),
        lambda: visit_sign(visit=draft, **by(staff)),
        lambda: visit_amend(visit=signed, **by(staff), reason="Typo"),
    ]
    for attempt in attempts:
        with pytest.raises(NotAllowed):
            attempt()
    assert AuditEvent.objects.count() == before
    draft.refresh_from_db()
    assert draft.status == VisitStatus.DRAFT and draft.advice == "Warm saline gargles"
    assert draft.vitals.pulse == 92
    assert Visit.objects.count() == 2


def test_assistant_records_vitals_and_drafts_notes_but_signs_nothing(
    scoped, assistant, doctor, patient
):
    visit = start(scoped, assistant, patient, doctor=doctor)
    vitals = vitals_record(visit=visit, **by(assistant), bp_systolic=128, bp_diastolic=84)
    assert vitals.blood_pressure == "128/84" and vitals.recorded_by == assistant.user
    drafted = visit_update_notes(visit=visit, **by(assistant), chief_complaints="Cough")
    assert drafted.chief_complaints == "Cough"
    for attempt in (
        lambda: diagnosis_add(visit=visit, **by(assistant), text="Cough"),
        lambda: procedure_add(visit=visit, **by(assistant), name="Nebulisation"),
        lambda: visit_sign(visit=visit, **by(assistant)),
    ):
        with pytest.raises(NotAllowed):
            attempt()
    diagnosis_add(visit=visit, **by(doctor), text="Cough")
    with pytest.raises(NotAllowed):
        visit_sign(visit=visit, **by(assistant))
    visit.refresh_from_db()
    assert visit.status == VisitStatus.DRAFT and visit.chief_complaints == "Cough"


def test_a_doctor_cannot_sign_another_doctors_visit(scoped, draft, doctor, other_doctor, owner):
    diagnosis_add(visit=draft, **by(doctor), text=DIAGNOSIS)
    for someone_else in (other_doctor, owner):
        with pytest.raises(NotAllowed, match="the doctor of this visit"):
            visit_sign(visit=draft, **by(someone_else))
    draft.refresh_from_db()
    assert draft.status == VisitStatus.DRAFT
    assert visit_sign(visit=draft, **by(doctor)).is_signed


def test_a_membership_of_another_clinic_or_person_is_refused(
    scoped, draft, doctor, other_doctor, other_clinic
):
    elsewhere = MembershipFactory(clinic=other_clinic, role=Role.OWNER)
    with pytest.raises(NotAllowed):
        vitals_record(visit=draft, actor=elsewhere.user, actor_membership=elsewhere, pulse=80)
    # Someone passing another person's membership
    with pytest.raises(NotAllowed):
        vitals_record(visit=draft, actor=other_doctor.user, actor_membership=doctor, pulse=80)
    inactive = MembershipFactory(clinic=scoped, role=Role.DOCTOR, is_active=False)
    with pytest.raises(NotAllowed):
        vitals_record(visit=draft, **by(inactive), pulse=80)
    assert not Vitals.objects.exists()


# ---------------------------------------------------------------------------------------------
# Notes


def test_notes_are_saved_and_the_audit_names_fields_only(scoped, draft, doctor, patient):
    follow_up = timezone.localdate() + timedelta(days=5)
    visit = visit_update_notes(
        visit=draft,
        **by(doctor),
        chief_complaints=f"  {COMPLAINT}  ",
        history="Diabetic for 4 years",
        examination="Throat congested",
        investigations_advised="CBC",
        advice="Warm saline gargles",
        follow_up_date=follow_up,
    )
    visit.refresh_from_db()
    assert visit.chief_complaints == COMPLAINT
    assert (visit.history, visit.follow_up_date) == ("Diabetic for 4 years", follow_up)
    [event] = events(Actions.VISIT_NOTES_UPDATED)
    assert event.patient_id == patient.pk
    assert event.data == {
        "fields": [
            "advice",
            "chief_complaints",
            "examination",
            "follow_up_date",
            "history",
            "investigations_advised",
        ]
    }
    assert_no_clinical_text(event)
    assert "diabetic" not in json.dumps(event.data).lower()


def test_unchanged_notes_write_no_audit_event(draft, doctor):
    visit_update_notes(visit=draft, **by(doctor), advice="Rest")
    visit_update_notes(visit=draft, **by(doctor), advice="Rest")
    assert len(events(Actions.VISIT_NOTES_UPDATED)) == 1


def test_unknown_note_fields_are_refused(draft, doctor):
    with pytest.raises(DomainError, match="Unknown visit fields: status"):
        visit_update_notes(visit=draft, **by(doctor), status="signed")
    with pytest.raises(ValidationFailed) as exc:
        visit_update_notes(visit=draft, **by(doctor), mode="video")
    assert "mode" in exc.value.errors


def test_follow_up_date_must_be_after_the_visit_and_within_two_years(draft, doctor):
    today = seen_on(draft)
    cases = {
        today - timedelta(days=1): "cannot be before the visit",
        today.replace(year=today.year + 2) + timedelta(days=1): "within 2 years",
        "next week": "as a date",
    }
    for value, message in cases.items():
        with pytest.raises(ValidationFailed) as exc:
            visit_update_notes(visit=draft, **by(doctor), follow_up_date=value, advice="Rest")
        assert message in exc.value.errors["follow_up_date"][0]
    draft.refresh_from_db()
    assert draft.follow_up_date is None and draft.advice == ""  # nothing half-written
    for fine in (today, today.replace(year=today.year + 2), None):
        visit = visit_update_notes(visit=draft, **by(doctor), follow_up_date=fine)
        assert visit.follow_up_date == fine


# ---------------------------------------------------------------------------------------------
# Vitals


def test_vitals_are_recorded_as_decimals_with_bmi(draft, doctor, patient):
    vitals = vitals_record(
        visit=draft,
        **by(doctor),
        bp_systolic="120",
        bp_diastolic=80,
        pulse=72,
        temperature_c="37.26",
        spo2=98,
        respiratory_rate=16,
        weight_kg=70.1,  # a float is read as its decimal spelling, never a binary fraction
        height_cm=Decimal("175"),
    )
    vitals = Vitals.objects.get(pk=vitals.pk)
    assert vitals.temperature_c == Decimal("37.3")
    assert vitals.weight_kg == Decimal("70.10")
    assert vitals.bmi == Decimal("22.9")
    assert vitals.blood_pressure == "120/80"
    [event] = events(Actions.VITALS_RECORDED)
    assert event.patient_id == patient.pk
    assert event.data["fields"] == sorted(
        [
            "bp_diastolic",
            "bp_systolic",
            "height_cm",
            "pulse",
            "respiratory_rate",
            "spo2",
            "temperature_c",
            "weight_kg",
        ]
    )
    assert "72" not in json.dumps(event.data) and "37.3" not in json.dumps(event.data)


@pytest.mark.parametrize(
    ("fahrenheit", "celsius"),
    [("98.6", "37.0"), ("102.2", "39.0"), ("100", "37.8"), (86, "30.0"), (113, "45.0")],
)
def test_fahrenheit_is_stored_in_celsius(draft, doctor, fahrenheit, celsius):
    vitals = vitals_record(visit=draft, **by(doctor), temperature_f=fahrenheit)
    assert Vitals.objects.get(pk=vitals.pk).temperature_c == Decimal(celsius)


def test_temperature_in_both_scales_is_refused(draft, doctor):
    with pytest.raises(ValidationFailed) as exc:
        vitals_record(visit=draft, **by(doctor), temperature_c="37", temperature_f="98.6")
    assert "not both" in exc.value.errors["temperature_f"][0]


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"bp_systolic": 49, "bp_diastolic": 30}, "bp_systolic", "from 50 to 300 mmHg"),
        ({"bp_systolic": 301, "bp_diastolic": 80}, "bp_systolic", "from 50 to 300 mmHg"),
        ({"bp_systolic": 120, "bp_diastolic": 19}, "bp_diastolic", "from 20 to 200 mmHg"),
        ({"bp_systolic": 250, "bp_diastolic": 201}, "bp_diastolic", "from 20 to 200 mmHg"),
        ({"bp_systolic": 120, "bp_diastolic": 120}, "bp_diastolic", "lower than the systolic"),
        ({"bp_systolic": 120}, "bp_diastolic", "diastolic BP too"),
        ({"bp_diastolic": 80}, "bp_systolic", "systolic BP too"),
        ({"pulse": 19}, "pulse", "from 20 to 250"),
        ({"pulse": 251}, "pulse", "from 20 to 250"),
        ({"pulse": "72.5"}, "pulse", "whole number"),
        ({"pulse": "fast"}, "pulse", "must be a number"),
        ({"pulse": True}, "pulse", "must be a number"),
        ({"temperature_c": "29.9"}, "temperature_c", "from 30.0 to 45.0 °C"),
        ({"temperature_c": "45.1"}, "temperature_c", "from 30.0 to 45.0 °C"),
        ({"temperature_c": "NaN"}, "temperature_c", "must be a number"),
        ({"temperature_f": "85.9"}, "temperature_f", "from 86 to 113 °F"),
        ({"temperature_f": "113.2"}, "temperature_f", "from 86 to 113 °F"),
        ({"temperature_f": "1e40"}, "temperature_f", "from 86 to 113 °F"),
        ({"spo2": 49}, "spo2", "from 50 to 100%"),
        ({"spo2": 101}, "spo2", "from 50 to 100%"),
        ({"respiratory_rate": 3}, "respiratory_rate", "from 4 to 80"),
        ({"respiratory_rate": 81}, "respiratory_rate", "from 4 to 80"),
        ({"weight_kg": "0.2"}, "weight_kg", "from 0.3 to 350 kg"),
        ({"weight_kg": "350.5"}, "weight_kg", "from 0.3 to 350 kg"),
        ({"height_cm": "19.9"}, "height_cm", "from 20 to 250 cm"),
        ({"height_cm": 251}, "height_cm", "from 20 to 250 cm"),
    ],
)
def test_implausible_vitals_get_a_field_message_and_nothing_is_saved(
    draft, doctor, values, field, message
):
    with pytest.raises(ValidationFailed) as exc:
        vitals_record(visit=draft, **by(doctor), **values)
    assert message in exc.value.errors[field][0]
    assert not Vitals.objects.exists()
    assert not events(Actions.VITALS_RECORDED)


def test_every_bad_value_is_reported_at_once(draft, doctor):
    with pytest.raises(ValidationFailed) as exc:
        vitals_record(visit=draft, **by(doctor), pulse=5, spo2=120, weight_kg="900", height_cm=170)
    assert set(exc.value.errors) == {"pulse", "spo2", "weight_kg"}
    assert not Vitals.objects.exists()


def test_the_lowest_and_highest_plausible_values_are_accepted(draft, doctor):
    low = vitals_record(
        visit=draft,
        **by(doctor),
        bp_systolic=50,
        bp_diastolic=20,
        pulse=20,
        temperature_c="30.0",
        spo2=50,
        respiratory_rate=4,
        weight_kg="0.3",
        height_cm=20,
    )
    assert low.bmi == Decimal("7.5")
    high = vitals_record(
        visit=draft,
        **by(doctor),
        bp_systolic=300,
        bp_diastolic=200,
        pulse=250,
        temperature_c=45,
        spo2=100,
        respiratory_rate=80,
        weight_kg=350,
        height_cm=250,
    )
    assert high.pk == low.pk and Vitals.objects.count() == 1


def test_vitals_update_keeps_what_was_not_given_and_clears_what_is_emptied(draft, doctor):
    vitals_record(visit=draft, **by(doctor), weight_kg="61.5", pulse=80)
    vitals_record(visit=draft, **by(doctor), pulse=88)
    vitals = Vitals.objects.get()
    assert (vitals.weight_kg, vitals.pulse) == (Decimal("61.50"), 88)
    vitals_record(visit=draft, **by(doctor), weight_kg="")
    vitals.refresh_from_db()
    assert (vitals.weight_kg, vitals.pulse, vitals.bmi) == (None, 88, None)
    assert [e.data["fields"] for e in events(Actions.VITALS_RECORDED)] == [
        ["pulse", "weight_kg"],
        ["pulse"],
        ["weight_kg"],
    ]


def test_vitals_need_at_least_one_value(draft, doctor):
    with pytest.raises(DomainError, match="at least one vital sign"):
        vitals_record(visit=draft, **by(doctor))
    with pytest.raises(DomainError, match="at least one vital sign"):
        vitals_record(visit=draft, **by(doctor), pulse=None, weight_kg="")
    vitals_record(visit=draft, **by(doctor), pulse=70)
    with pytest.raises(DomainError, match="at least one vital sign"):
        vitals_record(visit=draft, **by(doctor), pulse=None)
    assert Vitals.objects.get().pulse == 70
    with pytest.raises(DomainError, match="Unknown vital signs: sugar"):
        vitals_record(visit=draft, **by(doctor), sugar=140)


# ---------------------------------------------------------------------------------------------
# Diagnoses and procedures


def test_diagnosis_with_a_code_is_normalised_and_audited_without_content(draft, doctor, patient):
    diagnosis = diagnosis_add(
        visit=draft, **by(doctor), text=f" {DIAGNOSIS} ", icd10_code="j 029", is_provisional=True
    )
    # The code's WHO title is stored; "Acute pharyngitis" only searched for it.
    assert (
        diagnosis.text,
        diagnosis.icd10_code,
        diagnosis.qualifier,
        diagnosis.is_provisional,
    ) == ("Acute pharyngitis, unspecified", "J02.9", "", True)
    [event] = events(Actions.DIAGNOSIS_ADDED)
    assert event.patient_id == patient.pk and event.data == {"visit_id": draft.pk}
    assert_no_clinical_text(event)


def test_a_code_alone_takes_the_who_description(draft, doctor):
    diagnosis = diagnosis_add(visit=draft, **by(doctor), text="", icd10_code="J06.9")
    assert diagnosis.text == "Acute upper respiratory infection, unspecified"


def test_diagnoses_are_kept_in_the_order_added(draft, doctor):
    diagnosis_add(visit=draft, **by(doctor), text="Type 2 diabetes", icd10_code="E11.9")
    diagnosis_add(visit=draft, **by(doctor), text="Hypertension")
    assert [d.text for d in draft.diagnoses.all()] == [
        "Type 2 diabetes mellitus without complications",
        "Hypertension",
    ]


def test_diagnosis_errors(draft, doctor):
    with pytest.raises(ValidationFailed) as exc:
        diagnosis_add(visit=draft, **by(doctor), text="Cold", icd10_code="j067")
    assert exc.value.errors["icd10_code"] == [
        "J06.7 is not a WHO ICD-10 code. Search by name to find the right code."
    ]
    with pytest.raises(ValidationFailed) as exc:
        diagnosis_add(visit=draft, **by(doctor), text="   ")
    assert "text" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        diagnosis_add(visit=draft, **by(doctor), text="x" * 301)
    assert "300" in exc.value.errors["text"][0]
    diagnosis_add(visit=draft, **by(doctor), text="Cold", icd10_code="J00")
    with pytest.raises(ValidationFailed) as exc:
        diagnosis_add(visit=draft, **by(doctor), text="Common cold", icd10_code="j00")
    assert "already a diagnosis" in exc.value.errors["icd10_code"][0]
    assert Diagnosis.objects.count() == 1


def test_diagnosis_remove(draft, doctor):
    diagnosis = diagnosis_add(visit=draft, **by(doctor), text=DIAGNOSIS)
    diagnosis_remove(diagnosis=diagnosis, **by(doctor))
    assert not Diagnosis.objects.exists()
    [event] = events(Actions.DIAGNOSIS_REMOVED)
    assert event.target_id == str(diagnosis.pk) and event.data == {"visit_id": draft.pk}
    diagnosis_remove(diagnosis=diagnosis, **by(doctor))  # a second click does no harm
    assert len(events(Actions.DIAGNOSIS_REMOVED)) == 1


def test_procedures_add_and_remove(draft, doctor, patient):
    first = procedure_add(visit=draft, **by(doctor), name=" Wound  dressing ", notes="Left knee")
    procedure_add(visit=draft, **by(doctor), name="Tetanus toxoid injection")
    assert first.name == "Wound dressing"
    assert [p.name for p in draft.procedures.all()] == [
        "Wound dressing",
        "Tetanus toxoid injection",
    ]
    procedure_remove(procedure=first, **by(doctor))
    assert list(ProcedureDone.objects.values_list("name", flat=True)) == [
        "Tetanus toxoid injection"
    ]
    added, removed = events(Actions.PROCEDURE_ADDED), events(Actions.PROCEDURE_REMOVED)
    assert len(added) == 2 and len(removed) == 1
    assert all(e.patient_id == patient.pk for e in added + removed)
    assert "knee" not in json.dumps([e.data for e in added]).lower()
    with pytest.raises(ValidationFailed):
        procedure_add(visit=draft, **by(doctor), name="  ")


# ---------------------------------------------------------------------------------------------
# Signing


def test_signing_signs_the_visit_and_its_prescription(draft, doctor, patient):
    visit = complete(draft, doctor)
    signed = visit_sign(visit=visit, **by(doctor))
    signed.refresh_from_db()
    assert signed.status == VisitStatus.SIGNED and signed.is_signed
    assert signed.signed_by == doctor.user and signed.signed_at is not None
    prescription = Prescription.objects.get(visit=signed)
    assert prescription.status == PrescriptionStatus.SIGNED
    assert prescription.signed_at == signed.signed_at
    [event] = events(Actions.VISIT_SIGNED)
    assert event.patient_id == patient.pk and event.actor == doctor.user
    assert event.data == {
        "version": 1,
        "superseded_visit_id": None,
        "prescription_id": prescription.pk,
    }


def test_a_visit_needs_a_complaint_or_a_diagnosis_to_be_signed(draft, doctor):
    with pytest.raises(DomainError, match="chief complaint or a diagnosis"):
        visit_sign(visit=draft, **by(doctor))
    visit_update_notes(visit=draft, **by(doctor), chief_complaints="Headache")
    assert visit_sign(visit=draft, **by(doctor)).is_signed


def test_signing_twice_is_refused(draft, doctor):
    visit_update_notes(visit=draft, **by(doctor), chief_complaints="Headache")
    visit_sign(visit=draft, **by(doctor))
    with pytest.raises(DomainError, match="already signed"):
        visit_sign(visit=draft, **by(doctor))
    assert len(events(Actions.VISIT_SIGNED)) == 1


def test_a_signed_visit_is_frozen(draft, doctor):
    visit = complete(draft, doctor)
    diagnosis, procedure = visit.diagnoses.get(), visit.procedures.get()
    visit_sign(visit=visit, **by(doctor))
    before = AuditEvent.objects.count()
    attempts = [
        lambda: visit_update_notes(visit=visit, **by(doctor), advice="Changed"),
        lambda: visit_update_notes(visit=visit, **by(doctor), mode=VisitMode.TELECONSULTATION),
        lambda: vitals_record(visit=visit, **by(doctor), pulse=60),
        lambda: diagnosis_add(visit=visit, **by(doctor), text="Another"),
        lambda: diagnosis_remove(diagnosis=diagnosis, **by(doctor)),
        lambda: procedure_add(visit=visit, **by(doctor), name="Another"),
        lambda: procedure_remove(procedure=procedure, **by(doctor)),
    ]
    for attempt in attempts:
        with pytest.raises(DomainError) as exc:
            attempt()
        assert exc.value.message == SIGNED
    assert AuditEvent.objects.count() == before
    visit.refresh_from_db()
    assert visit.advice == "Warm saline gargles" and visit.vitals.pulse == 92
    assert visit.diagnoses.count() == 1 and visit.procedures.count() == 1


@pytest.mark.parametrize("linked", [True, False])
def test_restricted_drugs_block_signing_a_teleconsultation(scoped, doctor, patient, linked):
    visit = start(scoped, doctor, patient)
    visit_update_notes(visit=visit, **by(doctor), chief_complaints="Anxiety")
    drug = Drug.objects.create(
        clinic=scoped, generic_name="ALPRAZOLAM", strength="0.25 mg", is_narcotic=True
    )
    # From the drug list, or typed in by name
    make_prescription(visit, drug=drug if linked else None, name="ALPRAZOLAM")
    assert visit_update_notes(visit=visit, **by(doctor), advice="Sleep hygiene")  # in person: fine
    with pytest.raises(DomainError, match="ALPRAZOLAM cannot be prescribed by teleconsultation"):
        visit_update_notes(visit=visit, **by(doctor), mode=VisitMode.TELECONSULTATION)
    Visit.objects.filter(pk=visit.pk).update(mode=VisitMode.TELECONSULTATION)
    with pytest.raises(DomainError, match="ALPRAZOLAM cannot be prescribed by teleconsultation"):
        visit_sign(visit=visit, **by(doctor))
    visit.refresh_from_db()
    assert visit.status == VisitStatus.DRAFT


# ---------------------------------------------------------------------------------------------
# Amending


def _signed_full_visit(draft, doctor):
    visit = complete(draft, doctor)
    return visit_sign(visit=visit, **by(doctor))


def test_amending_copies_everything_into_a_new_draft_version(draft, doctor, patient):
    original = _signed_full_visit(draft, doctor)
    amendment = visit_amend(visit=original, **by(doctor), reason="Wrong diagnosis code")
    assert amendment.pk != original.pk
    assert (amendment.version, amendment.amends, amendment.status) == (2, original, "draft")
    assert amendment.amendment_reason == "Wrong diagnosis code"
    for field in ("chief_complaints", "examination", "advice", "follow_up_date", "mode"):
        assert getattr(amendment, field) == getattr(original, field)
    assert (amendment.patient, amendment.doctor) == (patient, doctor)
    assert amendment.vitals.pulse == 92 and amendment.vitals.weight_kg == Decimal("61.50")
    assert amendment.vitals.pk != original.vitals.pk
    assert [(d.text, d.icd10_code) for d in amendment.diagnoses.all()] == [
        ("Acute pharyngitis, unspecified", "J02.9")
    ]
    assert [p.name for p in amendment.procedures.all()] == ["Throat swab"]
    copy = Prescription.objects.get(visit=amendment)
    assert copy.status == PrescriptionStatus.DRAFT and copy.signed_at is None
    [item] = copy.items.all()
    [old_item] = Prescription.objects.get(visit=original).items.all()
    assert item.pk != old_item.pk
    assert (item.generic_name, item.frequency, item.schedule) == (
        "PARACETAMOL",
        "1-0-1",
        {"times": ["08:00", "20:00"], "per_day": 2},
    )
    # The signed original is untouched and still the current version.
    original.refresh_from_db()
    assert original.is_signed and original.is_current
    assert Prescription.objects.get(visit=original).status == PrescriptionStatus.SIGNED
    assert original.diagnoses.count() == 1 and original.vitals.pulse == 92
    [event] = events(Actions.VISIT_AMENDED)
    assert event.patient_id == patient.pk and event.target_id == str(amendment.pk)
    assert event.data == {"amends_visit_id": original.pk, "version": 2}
    assert "wrong" not in json.dumps(event.data).lower()


def test_the_amendment_is_editable_while_the_original_stays_as_signed(draft, doctor):
    original = _signed_full_visit(draft, doctor)
    amendment = visit_amend(visit=original, **by(doctor), reason="Diagnosis")
    diagnosis_remove(diagnosis=amendment.diagnoses.get(), **by(doctor))
    diagnosis_add(visit=amendment, **by(doctor), text="Tonsillitis", icd10_code="J03.9")
    vitals_record(visit=amendment, **by(doctor), pulse=96)
    original.refresh_from_db()
    assert [d.icd10_code for d in original.diagnoses.all()] == ["J02.9"]
    assert original.vitals.pulse == 92


def test_signing_the_amendment_supersedes_the_original(draft, doctor):
    original = _signed_full_visit(draft, doctor)
    signed_at = original.signed_at
    amendment = visit_amend(visit=original, **by(doctor), reason="Advice")
    visit_update_notes(visit=amendment, **by(doctor), advice="Gargles and rest")
    amendment = visit_sign(visit=amendment, **by(doctor))
    original.refresh_from_db()
    assert original.is_signed and not original.is_current
    assert original.superseded_at == amendment.signed_at
    assert original.signed_at == signed_at and original.advice == "Warm saline gargles"
    assert Prescription.objects.get(visit=amendment).status == PrescriptionStatus.SIGNED
    assert amendment.is_current
    # Both versions stay readable.
    assert Visit.objects.filter(patient=original.patient).count() == 2
    event = events(Actions.VISIT_SIGNED)[-1]
    assert event.data["version"] == 2 and event.data["superseded_visit_id"] == original.pk
    # And the next correction starts from version 2.
    v3 = visit_amend(visit=amendment, **by(doctor), reason="Follow-up date")
    assert (v3.version, v3.amends) == (3, amendment)


def test_a_superseded_version_cannot_be_amended(draft, doctor):
    original = _signed_full_visit(draft, doctor)
    amendment = visit_amend(visit=original, **by(doctor), reason="Advice")
    visit_sign(visit=amendment, **by(doctor))
    with pytest.raises(DomainError, match="Amend the latest version"):
        visit_amend(visit=original, **by(doctor), reason="Again")


def test_only_one_open_amendment_at_a_time(draft, doctor):
    original = _signed_full_visit(draft, doctor)
    visit_amend(visit=original, **by(doctor), reason="Advice")
    with pytest.raises(DomainError, match=r"version 2\) is already open"):
        visit_amend(visit=original, **by(doctor), reason="Something else")
    assert Visit.objects.count() == 2


def test_amend_needs_a_signed_visit_a_reason_and_the_visits_doctor(draft, doctor, other_doctor):
    diagnosis_add(visit=draft, **by(doctor), text=DIAGNOSIS)
    with pytest.raises(DomainError, match="still a draft"):
        visit_amend(visit=draft, **by(doctor), reason="Typo")
    visit_sign(visit=draft, **by(doctor))
    with pytest.raises(ValidationFailed) as exc:
        visit_amend(visit=draft, **by(doctor), reason="  ")
    assert "reason" in exc.value.errors
    with pytest.raises(NotAllowed, match="the doctor of this visit"):
        visit_amend(visit=draft, **by(other_doctor), reason="Typo")
    assert Visit.objects.count() == 1


def test_follow_up_on_an_amendment_is_checked_against_the_original_visit_date(draft, doctor):
    original = _signed_full_visit(draft, doctor)
    # The patient was seen three days ago; the correction is made today.
    Visit.objects.filter(pk=original.pk).update(created_at=timezone.now() - timedelta(days=3))
    original.refresh_from_db()
    amendment = visit_amend(visit=original, **by(doctor), reason="Follow-up")
    day_after_the_visit = seen_on(original) + timedelta(days=1)  # before the amendment's date
    visit = visit_update_notes(visit=amendment, **by(doctor), follow_up_date=day_after_the_visit)
    assert visit.follow_up_date == day_after_the_visit
    with pytest.raises(ValidationFailed):
        visit_update_notes(
            visit=amendment, **by(doctor), follow_up_date=seen_on(original) - timedelta(days=1)
        )


# ---------------------------------------------------------------------------------------------
# Concurrency (PostgreSQL: real row locks)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_doctors_clicks_at_once_open_one_amendment():
    clinic = ClinicFactory()
    with clinic_scope(clinic):
        doctor = DoctorProfileFactory(membership__clinic=clinic).membership
        visit = start(clinic, doctor, PatientFactory(clinic=clinic))
        diagnosis_add(visit=visit, **by(doctor), text=DIAGNOSIS)
        visit_sign(visit=visit, **by(doctor))
    outcomes: list[object] = []
    barrier = threading.Barrier(2)

    def amend() -> None:
        try:
            barrier.wait()
            with clinic_scope(clinic):
                outcomes.append(visit_amend(visit=visit, **by(doctor), reason="Correction"))
        except Exception as exc:  # collected and checked below
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=amend) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(refused) == 1 and "already open" in refused[0].message
    with clinic_scope(clinic):
        assert Visit.objects.filter(amends=visit).count() == 1


def test_picking_a_code_stores_its_title_not_the_search_text(draft, doctor):
    """Typing "pharyng" and picking J02.9 prints "Acute pharyngitis, unspecified (J02.9)"."""
    diagnosis = diagnosis_add(visit=draft, **by(doctor), text="pharyng", icd10_code="J02.9")
    assert (diagnosis.text, diagnosis.qualifier) == ("Acute pharyngitis, unspecified", "")
    assert str(diagnosis) == "Acute pharyngitis, unspecified (J02.9)"


def test_the_doctors_own_words_stay_beside_the_code(draft, doctor):
    typed = diagnosis_add(visit=draft, **by(doctor), text="Viral, recurrent", icd10_code="J03.9")
    assert (typed.text, typed.qualifier) == ("Acute tonsillitis, unspecified", "Viral, recurrent")
    noted = diagnosis_add(
        visit=draft, **by(doctor), text="otitis", icd10_code="H66.9", qualifier=" left  ear "
    )
    assert (noted.text, noted.qualifier) == ("Otitis media, unspecified", "left ear")
    assert str(noted) == "Otitis media, unspecified (H66.9) — left ear"
    with pytest.raises(ValidationFailed) as exc:
        diagnosis_add(visit=draft, **by(doctor), text="", icd10_code="R05", qualifier="x" * 201)
    assert exc.value.errors["qualifier"] == [
        "Keep the note beside the diagnosis to 200 characters."
    ]
