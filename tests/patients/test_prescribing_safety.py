"""The safety checks as a doctor meets them through the services: an allergy or a duplicate or
a dose above the maximum stops a medicine until the doctor gives a reason; templates and the
repeated last prescription are reviewed line by line; allergies are recorded as entries; the
starter formulary arrives with a new clinic and an owner imports another from CSV."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from clinics.audit import Actions
from clinics.errors import NotAllowed, ValidationFailed
from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.services import clinic_create
from clinics.tenancy import clinic_scope
from patients.models import (
    Drug,
    DrugBrand,
    PatientAllergy,
    Prescription,
    PrescriptionItem,
    PrescriptionStatus,
    Visit,
    VisitStatus,
)
from patients.selectors.prescriptions import drug_search
from patients.services import (
    formulary_import,
    formulary_starter_load,
    patient_allergy_add,
    patient_allergy_remove,
    prescription_item_add,
    prescription_item_update,
    prescription_repeat_last,
    prescription_template_apply,
    prescription_template_save,
)
from patients.services.prescriptions import PrescribingCheckFailed, ReviewNeeded
from tests.factories import DoctorProfileFactory, PatientFactory, UserFactory

REASON = "Tolerated it last year under observation; short course."


@pytest.fixture
def doctor(scoped, member_factory):
    membership = member_factory(scoped, Role.DOCTOR, user__full_name="Anil Rao")
    DoctorProfileFactory(membership=membership, registration_number="KMC-12345")
    return membership


@pytest.fixture
def patient(scoped):
    return PatientFactory(clinic=scoped, full_name="Meena Kumari", date_of_birth=date(1980, 3, 2))


@pytest.fixture
def formulary(scoped):
    formulary_starter_load(clinic=scoped)


@pytest.fixture
def visit(doctor, patient):
    return Visit.objects.create(
        clinic_id=doctor.clinic_id, patient=patient, doctor=doctor, created_by=doctor.user
    )


def _drug(name, strength, form="tablet"):
    return Drug.objects.get(generic_name=name, strength=strength, form=form)


def _add(visit, doctor, drug, **fields):
    fields.setdefault("frequency", "1-0-1")
    fields.setdefault("duration_days", 3)
    return prescription_item_add(
        visit=visit, actor=doctor.user, actor_membership=doctor, drug=drug, **fields
    )


def _nsaid_allergy(patient, doctor):
    return patient_allergy_add(
        patient=patient,
        actor=doctor.user,
        drug_class="nsaids",
        reaction="Swelling of lips",
        severity="severe",
    )


# --- one medicine -----------------------------------------------------------------------------


def test_an_allergy_stops_the_medicine_and_nothing_is_added(formulary, visit, doctor, patient):
    _nsaid_allergy(patient, doctor)
    with pytest.raises(PrescribingCheckFailed) as excinfo:
        _add(visit, doctor, _drug("IBUPROFEN", "400 mg"))
    assert excinfo.value.code == "prescribing_check"
    assert [f.key for f in excinfo.value.findings] == ["allergy:nsaids"]
    assert "allergic to NSAIDs (incl. aspirin) (Swelling of lips, Severe)" in excinfo.value.message
    assert not PrescriptionItem.objects.exists()
    assert not AuditEvent.objects.filter(action=Actions.PRESCRIPTION_ITEM_ADDED).exists()


def test_the_old_free_text_allergy_is_checked_too(formulary, visit, doctor, patient):
    patient.allergies = "Ibuprofen and other NSAIDs"
    patient.save(update_fields=["allergies"])
    with pytest.raises(PrescribingCheckFailed):
        _add(visit, doctor, _drug("IBUPROFEN", "400 mg"))


def test_an_override_with_a_reason_is_kept_on_the_item_and_audited_as_codes(
    formulary, visit, doctor, patient
):
    _nsaid_allergy(patient, doctor)
    item = _add(visit, doctor, _drug("IBUPROFEN", "400 mg"), override_reason=f"  {REASON} ")
    assert item.override_reason == REASON
    assert item.override_findings == ["allergy:nsaids"]
    assert item.override_labels == ["Allergy: NSAIDs (incl. aspirin)"]
    event = AuditEvent.objects.get(action=Actions.PRESCRIPTION_ITEM_ADDED)
    assert event.data["overridden"] == ["allergy:nsaids"]
    assert "Tolerated" not in str(event.data) and "IBUPROFEN" not in str(event.data)


def test_a_substance_name_in_the_audit_is_left_out(formulary, visit, doctor, patient):
    patient_allergy_add(patient=patient, actor=doctor.user, substance="Ibuprofen")
    _add(visit, doctor, _drug("IBUPROFEN", "400 mg"), override_reason=REASON)
    event = AuditEvent.objects.get(action=Actions.PRESCRIPTION_ITEM_ADDED)
    assert event.data["overridden"] == ["allergy"]


@pytest.mark.parametrize("reason", ["x" * 301, "Fine\u202eenif"])
def test_a_bad_override_reason_is_refused(formulary, visit, doctor, patient, reason):
    _nsaid_allergy(patient, doctor)
    with pytest.raises(ValidationFailed) as excinfo:
        _add(visit, doctor, _drug("IBUPROFEN", "400 mg"), override_reason=reason)
    assert list(excinfo.value.errors) == ["override_reason"]
    assert not PrescriptionItem.objects.exists()


def test_paracetamol_passes_an_nsaid_allergy(formulary, visit, doctor, patient):
    _nsaid_allergy(patient, doctor)
    item = _add(visit, doctor, _drug("PARACETAMOL", "650 mg"))
    assert item.override_reason == "" and item.override_findings == []


def test_duplicate_therapy_stops_the_second_drug_of_a_class(formulary, visit, doctor):
    _add(visit, doctor, _drug("PANTOPRAZOLE", "40 mg"), frequency="1-0-0")
    with pytest.raises(PrescribingCheckFailed) as excinfo:
        _add(visit, doctor, _drug("RABEPRAZOLE", "20 mg"), frequency="1-0-0")
    assert [f.key for f in excinfo.value.findings] == ["duplicate_class:ppis"]


def test_a_dose_above_the_maximum_stops_and_a_change_to_it_is_checked_again(
    formulary, visit, doctor
):
    dolo = _drug("PARACETAMOL", "650 mg")
    with pytest.raises(PrescribingCheckFailed) as excinfo:
        _add(visit, doctor, dolo, dose_amount=Decimal(2), frequency="QID")
    assert "5200 mg a day of PARACETAMOL; the most is 4000 mg a day" in excinfo.value.message
    item = _add(visit, doctor, dolo, frequency="TDS")
    with pytest.raises(PrescribingCheckFailed):
        prescription_item_update(
            item=item, actor=doctor.user, actor_membership=doctor, dose_amount=Decimal(3)
        )
    item.refresh_from_db()
    assert item.dose_amount == 1
    changed = prescription_item_update(
        item=item,
        actor=doctor.user,
        actor_membership=doctor,
        dose_amount=Decimal(3),
        override_reason=REASON,
    )
    assert changed.override_findings == ["over_max_dose"]
    # The same finding does not ask again when something else changes.
    again = prescription_item_update(
        item=changed, actor=doctor.user, actor_membership=doctor, instructions="After food"
    )
    assert again.override_reason == REASON


def test_a_removed_allergy_no_longer_stops(formulary, visit, doctor, patient):
    allergy = _nsaid_allergy(patient, doctor)
    patient_allergy_remove(allergy=allergy, actor=doctor.user)
    allergy.refresh_from_db()
    assert allergy.removed_at is not None
    _add(visit, doctor, _drug("IBUPROFEN", "400 mg"))


# --- several at once ---------------------------------------------------------------------------


def _template(doctor):
    return prescription_template_save(
        doctor=doctor,
        actor=doctor.user,
        name="Fever and body ache",
        items=[
            {
                "drug_id": _drug("PARACETAMOL", "650 mg").pk,
                "frequency": "1-1-1",
                "duration_days": 3,
            },
            {"drug_id": _drug("IBUPROFEN", "400 mg").pk, "frequency": "SOS"},
            {"drug_id": _drug("CETIRIZINE", "10 mg").pk, "frequency": "0-0-1", "duration_days": 5},
        ],
    )


def _apply(template, visit, doctor, **answers):
    return prescription_template_apply(
        template=template, visit=visit, actor=doctor.user, actor_membership=doctor, **answers
    )


def test_a_template_is_reviewed_line_by_line_against_the_patients_allergies(
    formulary, visit, doctor, patient
):
    template = _template(doctor)
    _nsaid_allergy(patient, doctor)
    with pytest.raises(ReviewNeeded) as excinfo:
        _apply(template, visit, doctor)
    [line] = excinfo.value.lines
    assert (line.number, line.label) == (2, "IBUPROFEN")
    assert [f.key for f in line.findings] == ["allergy:nsaids"]
    assert not PrescriptionItem.objects.exists()

    items = _apply(template, visit, doctor, leave_out={2})
    assert [i.generic_name for i in items] == ["PARACETAMOL", "CETIRIZINE"]


def test_a_template_line_overridden_with_a_reason_is_added(formulary, visit, doctor, patient):
    template = _template(doctor)
    _nsaid_allergy(patient, doctor)
    items = _apply(template, visit, doctor, overrides={2: REASON})
    assert [(i.generic_name, i.override_reason) for i in items] == [
        ("PARACETAMOL", ""),
        ("IBUPROFEN", REASON),
        ("CETIRIZINE", ""),
    ]
    event = AuditEvent.objects.get(action=Actions.PRESCRIPTION_TEMPLATE_APPLIED)
    assert event.data["overridden"] == ["allergy:nsaids"]


def _signed_earlier_visit(doctor, patient):
    earlier = Visit.objects.create(
        clinic_id=doctor.clinic_id, patient=patient, doctor=doctor, created_by=doctor.user
    )
    _add(earlier, doctor, _drug("AMOXICILLIN", "500 mg", "capsule"), frequency="1-1-1")
    _add(earlier, doctor, _drug("PARACETAMOL", "650 mg"), frequency="SOS", duration_days=None)
    stopped = _add(earlier, doctor, _drug("CETIRIZINE", "10 mg"), frequency="0-0-1")
    now = timezone.now()
    Visit.objects.filter(pk=earlier.pk).update(status=VisitStatus.SIGNED, signed_at=now)
    Prescription.objects.filter(visit=earlier).update(
        status=PrescriptionStatus.SIGNED, signed_at=now
    )
    PrescriptionItem.objects.filter(pk=stopped.pk).update(stopped_at=now)
    return earlier


def test_repeating_the_last_prescription_adds_its_current_medicines(formulary, doctor, patient):
    _signed_earlier_visit(doctor, patient)
    today = Visit.objects.create(
        clinic_id=doctor.clinic_id, patient=patient, doctor=doctor, created_by=doctor.user
    )
    items = prescription_repeat_last(visit=today, actor=doctor.user, actor_membership=doctor)
    assert [(i.generic_name, i.frequency) for i in items] == [
        ("AMOXICILLIN", "1-1-1"),
        ("PARACETAMOL", "SOS"),
    ]
    assert all(i.prescription.visit_id == today.pk for i in items)
    assert AuditEvent.objects.filter(action=Actions.PRESCRIPTION_REPEATED).count() == 1


def test_repeating_checks_each_medicine_against_todays_allergies(formulary, doctor, patient):
    _signed_earlier_visit(doctor, patient)
    patient_allergy_add(patient=patient, actor=doctor.user, drug_class="penicillins")
    today = Visit.objects.create(
        clinic_id=doctor.clinic_id, patient=patient, doctor=doctor, created_by=doctor.user
    )
    with pytest.raises(ReviewNeeded) as excinfo:
        prescription_repeat_last(visit=today, actor=doctor.user, actor_membership=doctor)
    assert [(ln.number, ln.label) for ln in excinfo.value.lines] == [(1, "AMOXICILLIN")]
    assert not PrescriptionItem.objects.filter(prescription__visit=today).exists()
    items = prescription_repeat_last(
        visit=today, actor=doctor.user, actor_membership=doctor, leave_out={1}
    )
    assert [i.generic_name for i in items] == ["PARACETAMOL"]


def test_nothing_to_repeat_says_so(formulary, visit, doctor):
    with pytest.raises(Exception, match="no earlier signed prescription"):
        prescription_repeat_last(visit=visit, actor=doctor.user, actor_membership=doctor)


# --- allergies ---------------------------------------------------------------------------------


def test_allergies_are_recorded_by_clinical_staff_only(scoped, patient, member_factory):
    desk = member_factory(scoped, Role.FRONT_DESK)
    with pytest.raises(NotAllowed):
        patient_allergy_add(patient=patient, actor=desk.user, substance="Peanuts")
    nurse = member_factory(scoped, Role.ASSISTANT)
    entry = patient_allergy_add(
        patient=patient, actor=nurse.user, substance="  Peanuts ", reaction="Hives"
    )
    assert (entry.substance, entry.recorded_by) == ("Peanuts", nurse)
    event = AuditEvent.objects.get(action=Actions.PATIENT_ALLERGY_ADDED)
    assert "Peanuts" not in str(event.data) and "Hives" not in str(event.data)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "substance"),
        ({"substance": "Latex", "drug_class": "nsaids"}, "drug_class"),
        ({"drug_class": "vitamins"}, "drug_class"),
        ({"substance": "Latex", "severity": "deadly"}, "severity"),
        ({"substance": "x" * 101}, "substance"),
    ],
)
def test_a_bad_allergy_is_refused_with_a_clear_message(patient, doctor, fields, field):
    with pytest.raises(ValidationFailed) as excinfo:
        patient_allergy_add(patient=patient, actor=doctor.user, **fields)
    assert field in excinfo.value.errors
    assert not PatientAllergy.objects.exists()


# --- the formulary ------------------------------------------------------------------------------


def test_a_new_clinic_starts_with_the_starter_formulary_and_its_brands(db):
    clinic = clinic_create(name="Shanti Clinic", state_code="29", owner=UserFactory())
    with clinic_scope(clinic):
        assert Drug.objects.count() >= 300
        assert DrugBrand.objects.count() >= 500
        [found] = drug_search("dolo 650")
        assert (found.generic_name, found.strength, found.matched_brand) == (
            "PARACETAMOL",
            "650 mg",
            "Dolo 650",
        )
        assert found.max_daily_dose_mg == 4000 and found.atc_code == "N02BE01"


def test_search_finds_generics_before_brands(formulary):
    found = drug_search("para", limit=50)
    assert found[0].generic_name.startswith("PARA") and found[0].matched_brand == ""
    assert {d.matched_brand for d in drug_search("augmentin")} == {
        "Augmentin 625",
        "Augmentin 1 g",
        "Augmentin Duo",
    }
    assert drug_search("taxim-o")[0].generic_name == "CEFIXIME"


def test_a_brand_chosen_in_the_search_is_kept_and_printed(formulary, visit, doctor):
    [dolo] = drug_search("Dolo 650")
    item = _add(visit, doctor, dolo, brand_name="dolo 650")
    assert item.brand_name == "Dolo 650"
    with pytest.raises(Exception, match="not a brand of this drug"):
        _add(visit, doctor, _drug("CETIRIZINE", "10 mg"), brand_name="Dolo 650")


def test_an_owner_imports_a_formulary_all_or_nothing(scoped, owner, doctor):
    good = (
        "generic_name,strength,form,route,atc_code,max_daily_dose_mg,brand_names\n"
        "Paracetamol,500 mg,tablet,oral,N02BE01,4000,Crocin; Calpol 500\n"
        "IBUPROFEN,400 mg,tablet,oral,M01AE01,2400,Brufen 400\n"
    )
    bad = good + "CETIRIZINE,10 mg,pill,oral,R06AE07,,\n"
    with pytest.raises(ValidationFailed) as excinfo:
        formulary_import(clinic=scoped, actor=owner.user, text=bad)
    assert excinfo.value.errors["file"] == [
        "Line 4: form must be one of capsule, cream, drops, gel, inhaler, injection, lotion, "
        "ointment, other, powder, sachet, spray, suppository, suspension, syrup, tablet."
    ]
    assert not Drug.objects.exists()
    with pytest.raises(NotAllowed):
        formulary_import(clinic=scoped, actor=doctor.user, text=good)
    assert formulary_import(clinic=scoped, actor=owner.user, text=good) == (2, 0)
    assert formulary_import(clinic=scoped, actor=owner.user, text=good) == (0, 2)
    assert DrugBrand.objects.count() == 3
    assert [d.generic_name for d in drug_search("calpol")] == ["PARACETAMOL"]
