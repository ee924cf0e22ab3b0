"""Prescriptions: the drug list, items on a visit, templates and the printed prescription."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinics.audit import Actions
from clinics.errors import Conflict, DomainError, NotAllowed, ValidationFailed
from clinics.models import AuditEvent, DoctorProfile
from clinics.roles import Role
from patients.dosing import parse_frequency, to_json
from patients.models import (
    Diagnosis,
    Drug,
    Prescription,
    PrescriptionItem,
    PrescriptionStatus,
    PrescriptionTemplate,
    Visit,
    VisitMode,
    VisitStatus,
)
from patients.selectors.prescriptions import doctor_templates, drug_search, prescription_document
from patients.services.prescriptions import (
    SIGNED_MESSAGE,
    drug_add,
    drug_deactivate,
    drug_set_favourite,
    drug_update,
    prescription_for_visit,
    prescription_item_add,
    prescription_item_remove,
    prescription_item_stop,
    prescription_item_update,
    prescription_template_apply,
    prescription_template_delete,
    prescription_template_save,
)
from tests.factories import DoctorProfileFactory, PatientFactory

D = Decimal
# 11 Jan 2027, 20:00 UTC is already 12 Jan 2027 (01:30) in Kolkata.
LATE_EVENING_UTC = datetime(2027, 1, 11, 20, 0, tzinfo=UTC)


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def doctor(scoped, member_factory):
    membership = member_factory(scoped, Role.DOCTOR, user__full_name="Anil Rao")
    DoctorProfileFactory(membership=membership, registration_number="KMC-12345")
    return membership


@pytest.fixture
def colleague(scoped, member_factory):
    membership = member_factory(scoped, Role.DOCTOR)
    DoctorProfileFactory(membership=membership)
    return membership


@pytest.fixture
def patient(scoped):
    return PatientFactory(
        clinic=scoped,
        full_name="Meena Kumari",
        date_of_birth=date(1980, 3, 2),
        sex="F",
        phone="+919845012345",
        address="44, 2nd Main, Basavanagudi",
        city="Bengaluru",
        pincode="560004",
        abha_number="91123456789012",
    )


def _visit(doctor, patient, **fields) -> Visit:
    fields.setdefault("created_at", LATE_EVENING_UTC)
    return Visit.objects.create(
        clinic_id=doctor.clinic_id, patient=patient, doctor=doctor, created_by=doctor.user, **fields
    )


@pytest.fixture
def visit(doctor, patient):
    return _visit(doctor, patient)


@pytest.fixture
def tele_visit(doctor, patient):
    return _visit(doctor, patient, mode=VisitMode.TELECONSULTATION)


@pytest.fixture
def paracetamol(scoped, doctor):
    return drug_add(
        clinic=scoped,
        actor=doctor.user,
        generic_name="paracetamol",
        strength="500mg",
        form="tablet",
        route="oral",
        default_frequency="1-0-1",
        default_duration_days=5,
        default_timing="after_food",
    )


@pytest.fixture
def alprazolam(scoped, doctor):
    return drug_add(
        clinic=scoped,
        actor=doctor.user,
        generic_name="Alprazolam",
        strength="0.25 mg",
        form="tablet",
        route="oral",
        is_narcotic=True,
    )


def _add(visit, doctor, **fields) -> PrescriptionItem:
    defaults = {
        "generic_name": "Amoxicillin",
        "strength": "500 mg",
        "form": "capsule",
        "frequency": "1-1-1",
        "duration_days": 5,
    }
    if "drug" in fields:
        defaults = {}
    return prescription_item_add(
        visit=visit, actor=doctor.user, actor_membership=doctor, **{**defaults, **fields}
    )


def _errors(excinfo) -> dict[str, list[str]]:
    return excinfo.value.errors


def _events(action: str):
    return AuditEvent.objects.filter(action=action)


def _sign(visit: Visit, doctor) -> None:
    """What visit_sign does to the rows (a separate module); set directly here."""
    now = timezone.now()
    Visit.objects.filter(pk=visit.pk).update(
        status=VisitStatus.SIGNED, signed_at=now, signed_by=doctor.user
    )
    Prescription.objects.filter(visit=visit).update(status=PrescriptionStatus.SIGNED, signed_at=now)


# --- the drug list ---------------------------------------------------------------------------


def test_drug_add_keeps_generic_names_in_capitals_and_audits_ids_only(paracetamol, doctor):
    assert paracetamol.generic_name == "PARACETAMOL"
    assert paracetamol.strength == "500 mg"
    assert paracetamol.default_frequency == "1-0-1"
    event = _events(Actions.DRUG_ADDED).get()
    assert event.actor == doctor.user and event.data["drug_id"] == paracetamol.pk
    assert "PARACETAMOL" not in str(event.data).upper()


def test_drug_add_single_spaces_the_name(scoped, doctor):
    drug = drug_add(
        clinic=scoped,
        actor=doctor.user,
        generic_name="  amoxicillin   +  clavulanic acid ",
        strength="625 mg",
        form="tablet",
        route="oral",
    )
    assert drug.generic_name == "AMOXICILLIN + CLAVULANIC ACID"


def test_drug_add_refuses_the_same_name_strength_and_form_twice(scoped, doctor, paracetamol):
    with pytest.raises(Conflict, match="PARACETAMOL 500 mg Tablet is already on the drug list"):
        drug_add(
            clinic=scoped,
            actor=doctor.user,
            generic_name="Paracetamol ",
            strength="500mg",
            form="tablet",
            route="oral",
        )
    # Another strength or form is another drug.
    drug_add(
        clinic=scoped,
        actor=doctor.user,
        generic_name="paracetamol",
        strength="250 mg/5 ml",
        form="syrup",
        route="oral",
    )
    assert Drug.objects.filter(generic_name="PARACETAMOL").count() == 2


def test_drug_add_refuses_a_default_frequency_it_cannot_read(scoped, doctor):
    with pytest.raises(ValidationFailed) as excinfo:
        drug_add(
            clinic=scoped,
            actor=doctor.user,
            generic_name="cetirizine",
            strength="10 mg",
            form="tablet",
            route="oral",
            default_frequency="1-O-1",
            default_duration_days=400,
        )
    errors = _errors(excinfo)
    assert "'1-O-1'" in errors["default_frequency"][0]
    assert "did you mean 1-0-1" in errors["default_frequency"][0]
    assert "1 to 365" in errors["default_duration_days"][0]
    assert not Drug.objects.exists() and not _events(Actions.DRUG_ADDED).exists()


@pytest.mark.parametrize("role", [Role.ASSISTANT, Role.FRONT_DESK, Role.BILLING])
def test_only_prescribers_edit_the_drug_list(scoped, member_factory, role, paracetamol):
    staff = member_factory(scoped, role)
    with pytest.raises(NotAllowed):
        drug_add(
            clinic=scoped,
            actor=staff.user,
            generic_name="cetirizine",
            form="tablet",
            route="oral",
        )
    with pytest.raises(NotAllowed):
        drug_deactivate(drug=paracetamol, actor=staff.user)
    assert Drug.objects.count() == 1 and Drug.objects.get().is_active


def test_drug_update_favourite_and_deactivate(scoped, doctor, paracetamol):
    drug = drug_update(drug=paracetamol, actor=doctor.user, strength="650mg", default_dose="1")
    assert drug.strength == "650 mg"
    assert _events(Actions.DRUG_UPDATED).get().data["fields"] == ["default_dose", "strength"]
    drug_add(
        clinic=scoped,
        actor=doctor.user,
        generic_name="paracetamol",
        strength="500 mg",
        form="tablet",
        route="oral",
    )
    with pytest.raises(Conflict):
        drug_update(drug=drug, actor=doctor.user, strength="500 mg")
    with pytest.raises(ValidationFailed) as excinfo:
        drug_update(drug=drug, actor=doctor.user, default_frequency="twice or so")
    assert "'twice or so'" in _errors(excinfo)["default_frequency"][0]
    drug.refresh_from_db()
    assert (drug.strength, drug.default_frequency) == ("650 mg", "1-0-1")

    drug_set_favourite(drug=drug, actor=doctor.user, is_favourite=True)
    drug.refresh_from_db()
    assert drug.is_favourite
    drug_deactivate(drug=drug, actor=doctor.user)
    drug.refresh_from_db()
    assert not drug.is_active
    assert _events(Actions.DRUG_FAVOURITE_SET).count() == 1
    assert _events(Actions.DRUG_DEACTIVATED).count() == 1


def test_drug_search_is_a_prefix_match_with_favourites_first_and_active_only(scoped, doctor):
    def add(name, strength="", favourite=False):
        return drug_add(
            clinic=scoped,
            actor=doctor.user,
            generic_name=name,
            strength=strength,
            form="tablet",
            route="oral",
            is_favourite=favourite,
        )

    add("Paracetamol", "500 mg")
    favourite = add("Pantoprazole", "40 mg", favourite=True)
    add("Paracetamol", "650 mg")
    gone = add("Papaverine", "40 mg")
    drug_deactivate(drug=gone, actor=doctor.user)
    add("Amoxicillin", "500 mg")

    with CaptureQueriesContext(connection) as queries:
        found = drug_search("pa")
    assert len(queries) == 1
    assert [(d.generic_name, d.strength) for d in found] == [
        ("PANTOPRAZOLE", "40 mg"),
        ("PARACETAMOL", "500 mg"),
        ("PARACETAMOL", "650 mg"),
    ]
    assert found[0] == favourite
    assert [d.generic_name for d in drug_search("parac", limit=1)] == ["PARACETAMOL"]
    assert drug_search("cetamol") == []


def test_drug_search_stays_in_the_clinic(scoped, doctor, other_clinic, paracetamol):
    from clinics.tenancy import clinic_scope

    with clinic_scope(other_clinic):
        assert drug_search("para") == []


# --- adding items ----------------------------------------------------------------------------


def test_item_from_the_drug_list_takes_its_names_and_defaults(visit, doctor, paracetamol):
    item = _add(visit, doctor, drug=paracetamol)
    assert (item.generic_name, item.strength, item.form, item.route) == (
        "PARACETAMOL",
        "500 mg",
        "tablet",
        "oral",
    )
    assert item.frequency == "1-0-1" and item.duration_days == 5
    assert item.timing == "after_food" and item.dose_amount == D(1)
    assert item.schedule == to_json(parse_frequency("1-0-1"))
    assert item.quantity == D(10)  # 1-0-1 for 5 days: 10 tablets
    assert item.starts_on == date(2027, 1, 12)  # the visit's date in Kolkata, not UTC
    prescription = item.prescription
    assert (prescription.patient_id, prescription.doctor_id) == (visit.patient_id, doctor.pk)
    assert prescription.status == PrescriptionStatus.DRAFT
    event = _events(Actions.PRESCRIPTION_ITEM_ADDED).get()
    assert event.patient_id == visit.patient_id and event.data["drug_id"] == paracetamol.pk
    assert event.data["prescription_created"] is True
    assert "PARACETAMOL" not in str(event.data).upper()


def test_typed_item_is_capitalised_and_linked_to_the_list(visit, doctor, paracetamol):
    item = _add(
        visit,
        doctor,
        generic_name="  paracetamol ",
        strength="500mg",
        form="tablet",
        frequency="t.d.s",
        duration_days=3,
        dose_amount=D("0.5"),
        timing="before_food",
    )
    assert (item.generic_name, item.strength, item.frequency) == ("PARACETAMOL", "500 mg", "TDS")
    assert item.drug == paracetamol
    assert item.timing == "before_food"  # what was given, not the drug's default
    assert item.quantity == D(5)  # 1/2 tablet three times a day for 3 days: 4.5, rounded up
    assert item.schedule["label"] == "Three times a day"


def test_a_second_item_keeps_the_same_prescription_and_comes_after(visit, doctor, paracetamol):
    first = _add(visit, doctor, drug=paracetamol)
    second = _add(visit, doctor)
    assert second.prescription_id == first.prescription_id
    assert second.position > first.position
    assert Prescription.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "quantity", "duration"),
    [
        ({"frequency": "SOS", "duration_days": None}, None, None),
        ({"frequency": "sos", "duration_days": 3}, None, 3),
        ({"frequency": "STAT", "duration_days": None, "dose_amount": D(2)}, D(2), None),
        (
            {"form": "syrup", "frequency": "1-1-1", "dose_amount": D(5), "dose_unit": "ml"},
            None,
            5,
        ),
        ({"form": "tablet", "frequency": "1/2-0-1/2", "duration_days": 5}, D(5), 5),
        ({"form": "injection", "frequency": "OD", "duration_days": 3}, D(3), 3),
    ],
)
def test_quantity_is_counted_only_where_it_can_be(visit, doctor, fields, quantity, duration):
    item = _add(visit, doctor, **fields)
    assert item.quantity == quantity
    assert item.duration_days == duration
    assert item.schedule == to_json(parse_frequency(fields["frequency"]))


def test_bad_frequency_names_the_input_and_saves_nothing(visit, doctor):
    with pytest.raises(ValidationFailed) as excinfo:
        _add(visit, doctor, frequency="thrice in a while")
    message = _errors(excinfo)["frequency"][0]
    assert "'thrice in a while'" in message and "1-0-1" in message
    assert not PrescriptionItem.objects.exists()
    assert not Prescription.objects.exists()  # the draft prescription was not left behind
    assert not _events(Actions.PRESCRIPTION_ITEM_ADDED).exists()


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"dose_amount": 0.5}, "dose_amount", "not a floating-point number"),
        ({"dose_amount": D(0)}, "dose_amount", "more than zero"),
        ({"dose_amount": D("-1")}, "dose_amount", "more than zero"),
        ({"dose_amount": D("0.333")}, "dose_amount", "two decimal places"),
        ({"dose_amount": "one"}, "dose_amount", "as a number"),
        ({"frequency": "2-0-2", "dose_amount": D(2)}, "dose_amount", "already gives the amount"),
        ({"duration_days": 0}, "duration_days", "1 to 365"),
        ({"duration_days": 366}, "duration_days", "1 to 365"),
        ({"duration_days": None}, "duration_days", "Only SOS and STAT"),
        ({"duration_days": 2.5}, "duration_days", "whole number"),
        ({"generic_name": "   "}, "generic_name", "generic name"),
        ({"form": ""}, "form", "Choose the form"),
        ({"form": "pill"}, "form", "Choose the form"),
        ({"route": "by post"}, "route", "how it is taken"),
        ({"timing": "at noon"}, "timing", "before food"),
        ({"instructions": "x" * 301}, "instructions", "under 300"),
        ({"starts_on": date(2027, 1, 11)}, "starts_on", "before the date of the visit"),
        ({"starts_on": "tomorrow"}, "starts_on", "as a date"),
    ],
)
def test_item_rules_refuse_with_a_clear_message(visit, doctor, fields, field, words):
    with pytest.raises(ValidationFailed) as excinfo:
        _add(visit, doctor, **fields)
    assert words in " ".join(_errors(excinfo)[field])
    assert not PrescriptionItem.objects.exists()


def test_the_same_drug_is_not_added_twice(visit, doctor, paracetamol):
    _add(visit, doctor, drug=paracetamol)
    with pytest.raises(Conflict, match="PARACETAMOL 500 mg Tablet is already on this"):
        _add(
            visit,
            doctor,
            generic_name="Paracetamol",
            strength="500mg",
            form="tablet",
            frequency="SOS",
            duration_days=None,
        )
    assert PrescriptionItem.objects.count() == 1


def test_a_deactivated_drug_cannot_be_prescribed_from_the_list(visit, doctor, paracetamol):
    drug_deactivate(drug=paracetamol, actor=doctor.user)
    with pytest.raises(DomainError, match="no longer on the clinic's drug list"):
        _add(visit, doctor, drug=paracetamol)
    assert not PrescriptionItem.objects.exists()


def test_schedule_x_and_narcotics_are_refused_by_teleconsultation(
    tele_visit, visit, doctor, alprazolam
):
    with pytest.raises(DomainError, match="Telemedicine Practice Guidelines") as excinfo:
        _add(tele_visit, doctor, drug=alprazolam, frequency="HS", duration_days=7)
    assert excinfo.value.code == "teleconsultation_restricted"
    # Typing the name instead of picking it from the list does not get round the rule.
    with pytest.raises(DomainError, match="ALPRAZOLAM is a Schedule X or narcotic drug"):
        _add(
            tele_visit,
            doctor,
            generic_name="alprazolam",
            strength="0.5 mg",
            form="tablet",
            frequency="HS",
            duration_days=7,
        )
    assert not PrescriptionItem.objects.exists()
    # Ordinary drugs are fine by teleconsultation, and the restricted one in person.
    assert _add(tele_visit, doctor).generic_name == "AMOXICILLIN"
    in_person = _add(visit, doctor, drug=alprazolam, frequency="HS", duration_days=7)
    assert in_person.quantity == D(7)


def test_schedule_x_drug_is_refused_by_teleconsultation_too(scoped, tele_visit, doctor):
    drug = drug_add(
        clinic=scoped,
        actor=doctor.user,
        generic_name="Methylphenidate",
        strength="10 mg",
        form="tablet",
        route="oral",
        is_schedule_x=True,
    )
    with pytest.raises(DomainError, match="Schedule X"):
        _add(tele_visit, doctor, drug=drug, frequency="OD", duration_days=10)
    assert not PrescriptionItem.objects.exists()


# --- who may write ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ASSISTANT, Role.FRONT_DESK, Role.BILLING])
def test_only_doctors_write_prescriptions(scoped, member_factory, visit, role):
    staff = member_factory(scoped, role)
    with pytest.raises(NotAllowed, match="Only doctors"):
        _add(visit, staff)
    with pytest.raises(NotAllowed):
        prescription_for_visit(visit=visit, actor=staff.user)
    assert not PrescriptionItem.objects.exists() and not Prescription.objects.exists()


def test_a_doctor_cannot_write_on_a_colleagues_prescription(visit, doctor, colleague):
    item = _add(visit, doctor)
    with pytest.raises(NotAllowed, match="Only the doctor of this visit"):
        _add(visit, colleague, generic_name="Cetirizine", strength="10 mg", form="tablet")
    with pytest.raises(NotAllowed):
        prescription_item_update(
            item=item, actor=colleague.user, actor_membership=colleague, duration_days=3
        )
    with pytest.raises(NotAllowed):
        prescription_item_remove(item=item, actor=colleague.user, actor_membership=colleague)
    item.refresh_from_db()
    assert item.duration_days == 5 and PrescriptionItem.objects.count() == 1


def test_the_membership_must_be_the_actors_own(visit, doctor, colleague):
    with pytest.raises(NotAllowed):
        prescription_item_add(
            visit=visit,
            actor=colleague.user,
            actor_membership=doctor,
            generic_name="Cetirizine",
            form="tablet",
            frequency="HS",
            duration_days=5,
        )
    assert not PrescriptionItem.objects.exists()


def test_an_owner_who_practises_writes_on_their_own_visits(scoped, owner, patient):
    own_visit = _visit(owner, patient)
    assert _add(own_visit, owner).prescription.doctor_id == owner.pk


# --- the prescription of a visit -------------------------------------------------------------


def test_prescription_for_visit_creates_one_draft_once(visit, doctor):
    prescription = prescription_for_visit(visit=visit, actor=doctor.user)
    again = prescription_for_visit(visit=visit, actor=doctor.user)
    assert prescription == again
    assert (prescription.patient_id, prescription.doctor_id) == (visit.patient_id, doctor.pk)
    assert prescription.status == PrescriptionStatus.DRAFT
    event = _events(Actions.PRESCRIPTION_CREATED).get()
    assert event.patient_id == visit.patient_id


def test_a_signed_visit_is_frozen(visit, doctor, paracetamol):
    item = _add(visit, doctor, drug=paracetamol)
    _sign(visit, doctor)
    with pytest.raises(DomainError, match=SIGNED_MESSAGE):
        _add(visit, doctor)
    with pytest.raises(DomainError, match=SIGNED_MESSAGE):
        prescription_item_update(
            item=item, actor=doctor.user, actor_membership=doctor, dose_amount=2
        )
    with pytest.raises(DomainError, match=SIGNED_MESSAGE):
        prescription_item_remove(item=item, actor=doctor.user, actor_membership=doctor)
    item.refresh_from_db()
    assert item.dose_amount == D(1) and PrescriptionItem.objects.count() == 1


def test_a_signed_visit_without_a_prescription_gets_none(visit, doctor):
    _sign(visit, doctor)
    with pytest.raises(DomainError, match=SIGNED_MESSAGE):
        prescription_for_visit(visit=visit, actor=doctor.user)
    with pytest.raises(DomainError, match=SIGNED_MESSAGE):
        _add(visit, doctor)
    assert not Prescription.objects.exists()


def test_a_medicine_on_a_signed_prescription_can_be_stopped(visit, doctor, colleague):
    item = _add(visit, doctor)
    _sign(visit, doctor)
    # The patient's next doctor may stop it.
    stopped = prescription_item_stop(item=item, actor=colleague.user, reason="side_effect")
    assert stopped.stopped_at is not None
    item.refresh_from_db()
    assert item.stopped_at == stopped.stopped_at
    event = _events(Actions.PRESCRIPTION_ITEM_STOPPED).get()
    assert event.patient_id == visit.patient_id
    assert event.data == {
        "visit_id": visit.pk,
        "prescription_id": item.prescription_id,
        "drug_id": None,
        "reason": "side_effect",
    }
    with pytest.raises(Conflict, match="already stopped"):
        prescription_item_stop(item=item, actor=doctor.user, reason="completed")
    assert _events(Actions.PRESCRIPTION_ITEM_STOPPED).count() == 1


def test_stopping_needs_a_reason_and_a_prescriber(scoped, member_factory, visit, doctor):
    item = _add(visit, doctor)
    with pytest.raises(ValidationFailed) as excinfo:
        prescription_item_stop(item=item, actor=doctor.user, reason="because")
    assert "why" in _errors(excinfo)["reason"][0]
    assistant = member_factory(scoped, Role.ASSISTANT)
    with pytest.raises(NotAllowed):
        prescription_item_stop(item=item, actor=assistant.user, reason="completed")
    item.refresh_from_db()
    assert item.stopped_at is None


# --- changing and removing items -------------------------------------------------------------


def test_update_checks_again_and_recomputes_schedule_and_quantity(visit, doctor, paracetamol):
    item = _add(visit, doctor, drug=paracetamol)
    updated = prescription_item_update(
        item=item, actor=doctor.user, actor_membership=doctor, frequency="1-1-1", duration_days=3
    )
    assert updated.frequency == "1-1-1" and updated.quantity == D(9)
    assert updated.schedule == to_json(parse_frequency("1-1-1"))
    assert updated.drug == paracetamol
    event = _events(Actions.PRESCRIPTION_ITEM_UPDATED).get()
    assert event.data["fields"] == ["duration_days", "frequency", "quantity"]

    with pytest.raises(ValidationFailed) as excinfo:
        prescription_item_update(
            item=item, actor=doctor.user, actor_membership=doctor, frequency="1-1", dose_amount=1.0
        )
    errors = _errors(excinfo)
    assert "'1-1'" in errors["frequency"][0] and "floating-point" in errors["dose_amount"][0]
    item.refresh_from_db()
    assert (item.frequency, item.quantity) == ("1-1-1", D(9))

    # Renaming unlinks it from the list entry it no longer names.
    renamed = prescription_item_update(
        item=item, actor=doctor.user, actor_membership=doctor, strength="650 mg"
    )
    assert renamed.drug is None and renamed.strength == "650 mg"


def test_update_refuses_a_duplicate_and_a_restricted_drug(tele_visit, doctor, alprazolam):
    _add(tele_visit, doctor)
    other = _add(tele_visit, doctor, generic_name="Cetirizine", strength="10 mg", form="tablet")
    with pytest.raises(Conflict, match="already on this prescription"):
        prescription_item_update(
            item=other,
            actor=doctor.user,
            actor_membership=doctor,
            generic_name="amoxicillin",
            strength="500 mg",
            form="capsule",
        )
    with pytest.raises(DomainError, match="teleconsultation"):
        prescription_item_update(
            item=other, actor=doctor.user, actor_membership=doctor, generic_name="Alprazolam"
        )
    other.refresh_from_db()
    assert other.generic_name == "CETIRIZINE"


def test_update_refuses_unknown_fields(visit, doctor):
    item = _add(visit, doctor)
    with pytest.raises(DomainError, match="Unknown prescription item fields: quantity"):
        prescription_item_update(
            item=item, actor=doctor.user, actor_membership=doctor, quantity=D(100)
        )


def test_remove_takes_the_item_off(visit, doctor):
    item = _add(visit, doctor)
    prescription_item_remove(item=item, actor=doctor.user, actor_membership=doctor)
    assert not PrescriptionItem.objects.exists()
    event = _events(Actions.PRESCRIPTION_ITEM_REMOVED).get()
    assert event.patient_id == visit.patient_id and event.target_id == str(item.pk)


# --- templates -------------------------------------------------------------------------------

FEVER = [
    {
        "generic_name": "paracetamol",
        "strength": "650 mg",
        "form": "tablet",
        "frequency": "1-1-1",
        "duration_days": 3,
        "timing": "after_food",
    },
    {
        "generic_name": "cetirizine",
        "strength": "10 mg",
        "form": "tablet",
        "frequency": "HS",
        "duration_days": 5,
        "dose_amount": "1",
    },
    {
        "generic_name": "ORS",
        "form": "sachet",
        "frequency": "SOS",
        "dose_amount": D("0.5"),
        "instructions": "Dissolve in one litre of water",
    },
]


def _save_template(doctor, name="Viral fever, adult", items=FEVER, **kwargs):
    return prescription_template_save(
        doctor=doctor, actor=doctor.user, name=name, items=items, **kwargs
    )


def test_template_is_stored_as_plain_json(doctor, paracetamol):
    items = [{"drug": paracetamol}, *FEVER[1:]]
    template = _save_template(doctor, items=items)
    template.refresh_from_db()
    assert template.items[0] == {
        "drug_id": paracetamol.pk,
        "generic_name": "PARACETAMOL",
        "strength": "500 mg",
        "form": "tablet",
        "route": "oral",
        "dose_amount": "1",
        "dose_unit": "",
        "frequency": "1-0-1",
        "duration_days": 5,
        "timing": "after_food",
        "instructions": "",
    }
    assert template.items[2]["dose_amount"] == "0.5"
    assert template.items[2]["duration_days"] is None
    assert list(doctor_templates(doctor)) == [template]
    event = _events(Actions.PRESCRIPTION_TEMPLATE_SAVED).get()
    assert event.data == {"template_id": template.pk, "created": True, "items": 3}


def test_template_with_one_bad_item_is_not_saved(doctor):
    items = [*FEVER, {"generic_name": "Ibuprofen", "form": "tablet", "frequency": "1-0-0-0-1"}]
    with pytest.raises(ValidationFailed) as excinfo:
        _save_template(doctor, items=items)
    messages = _errors(excinfo)["items"]
    assert messages[0].startswith("Line 4 (IBUPROFEN): Frequency '1-0-0-0-1' has 5 positions")
    assert not PrescriptionTemplate.objects.exists()


def test_template_refuses_floats_duplicates_and_unknown_fields(doctor):
    cases = [
        ({**FEVER[0], "dose_amount": 1.0}, "floating-point"),
        ({**FEVER[0], "colour": "red"}, "unknown fields colour"),
    ]
    for bad, words in cases:
        with pytest.raises(ValidationFailed) as excinfo:
            _save_template(doctor, items=[FEVER[1], bad])
        assert words in " ".join(_errors(excinfo)["items"])
    with pytest.raises(ValidationFailed) as excinfo:
        _save_template(doctor, items=[FEVER[0], {**FEVER[0], "generic_name": "PARACETAMOL "}])
    assert _errors(excinfo)["items"] == [
        "Line 2 (PARACETAMOL): PARACETAMOL 650 mg Tablet is already in this template. "
        "Change that line instead."
    ]
    with pytest.raises(ValidationFailed):
        _save_template(doctor, items=[])
    assert not PrescriptionTemplate.objects.exists()


def test_template_names_are_unique_per_doctor(doctor, colleague):
    first = _save_template(doctor)
    with pytest.raises(Conflict, match="already have a template named 'viral fever, ADULT'"):
        _save_template(doctor, name=" viral fever,  ADULT")
    _save_template(colleague)  # another doctor may use the same name
    # Saving over the same template keeps its name.
    again = _save_template(doctor, items=FEVER[:1], template=first)
    assert again.pk == first.pk and len(again.items) == 1
    assert PrescriptionTemplate.objects.count() == 2


def test_templates_are_each_doctors_own(doctor, colleague, visit):
    with pytest.raises(NotAllowed):
        prescription_template_save(doctor=doctor, actor=colleague.user, name="Mine", items=FEVER)
    template = _save_template(doctor)
    with pytest.raises(NotAllowed):
        prescription_template_delete(template=template, actor=colleague.user)
    colleague_visit = _visit(colleague, visit.patient)
    with pytest.raises(NotAllowed):
        prescription_template_apply(
            template=template,
            visit=colleague_visit,
            actor=colleague.user,
            actor_membership=colleague,
        )
    prescription_template_delete(template=template, actor=doctor.user)
    assert not PrescriptionTemplate.objects.exists()
    assert _events(Actions.PRESCRIPTION_TEMPLATE_DELETED).count() == 1


def test_applying_a_template_adds_every_item_with_one_event(visit, doctor):
    template = _save_template(doctor)
    items = prescription_template_apply(
        template=template, visit=visit, actor=doctor.user, actor_membership=doctor
    )
    assert [i.generic_name for i in items] == ["PARACETAMOL", "CETIRIZINE", "ORS"]
    saved = list(PrescriptionItem.objects.order_by("position"))
    assert [i.generic_name for i in saved] == ["PARACETAMOL", "CETIRIZINE", "ORS"]
    assert [i.quantity for i in saved] == [D(9), D(5), None]
    assert saved[2].dose_amount == D("0.5") and saved[2].starts_on == date(2027, 1, 12)
    assert saved[0].schedule == to_json(parse_frequency("1-1-1"))
    event = _events(Actions.PRESCRIPTION_TEMPLATE_APPLIED).get()
    assert event.patient_id == visit.patient_id and event.data["items"] == 3
    assert not _events(Actions.PRESCRIPTION_ITEM_ADDED).exists()


def test_applying_a_template_is_all_or_nothing(visit, doctor):
    template = _save_template(doctor)
    _add(visit, doctor, generic_name="Cetirizine", strength="10 mg", form="tablet", frequency="OD")
    with pytest.raises(ValidationFailed) as excinfo:
        prescription_template_apply(
            template=template, visit=visit, actor=doctor.user, actor_membership=doctor
        )
    assert excinfo.value.message == "The template could not be added."
    assert _errors(excinfo)["items"] == [
        "Line 2 (CETIRIZINE): CETIRIZINE 10 mg Tablet is already on this prescription. "
        "Change that line instead."
    ]
    assert PrescriptionItem.objects.count() == 1
    assert not _events(Actions.PRESCRIPTION_TEMPLATE_APPLIED).exists()


def test_a_stored_template_item_that_no_longer_passes_adds_nothing(visit, doctor):
    template = _save_template(doctor)
    broken = [*template.items]
    broken[1] = {**broken[1], "frequency": "every full moon"}
    PrescriptionTemplate.objects.filter(pk=template.pk).update(items=broken)
    template.refresh_from_db()
    with pytest.raises(ValidationFailed) as excinfo:
        prescription_template_apply(
            template=template, visit=visit, actor=doctor.user, actor_membership=doctor
        )
    assert "'every full moon'" in _errors(excinfo)["items"][0]
    assert not PrescriptionItem.objects.exists() and not Prescription.objects.exists()


def test_a_template_at_a_teleconsultation_refuses_restricted_drugs(tele_visit, doctor, alprazolam):
    restricted = {"drug": alprazolam, "frequency": "HS", "duration_days": 7}
    template = _save_template(doctor, name="Anxiety", items=[FEVER[0], restricted])
    with pytest.raises(ValidationFailed) as excinfo:
        prescription_template_apply(
            template=template, visit=tele_visit, actor=doctor.user, actor_membership=doctor
        )
    assert "Line 2 (ALPRAZOLAM)" in _errors(excinfo)["items"][0]
    assert not PrescriptionItem.objects.exists()


def test_a_template_cannot_be_applied_to_a_signed_visit(visit, doctor):
    template = _save_template(doctor)
    _sign(visit, doctor)
    with pytest.raises(DomainError, match=SIGNED_MESSAGE):
        prescription_template_apply(
            template=template, visit=visit, actor=doctor.user, actor_membership=doctor
        )


# --- the printed prescription ----------------------------------------------------------------


def _fill_visit(visit: Visit) -> None:
    Visit.objects.filter(pk=visit.pk).update(
        chief_complaints="Fever for 3 days",
        examination="Throat congested",
        investigations_advised="CBC",
        advice="Plenty of fluids",
        follow_up_date=date(2027, 1, 15),
    )
    Diagnosis.objects.create(
        clinic_id=visit.clinic_id,
        visit=visit,
        text="Viral fever",
        icd10_code="B34.9",
        is_provisional=True,
        position=1,
    )
    Diagnosis.objects.create(clinic_id=visit.clinic_id, visit=visit, text="Pharyngitis", position=2)


def test_prescription_document_carries_what_the_law_asks(scoped, visit, doctor, paracetamol):
    _fill_visit(visit)
    _add(visit, doctor, drug=paracetamol)
    _add(visit, doctor, form="syrup", strength="125 mg/5 ml", frequency="1/2-0-1/2")
    _add(visit, doctor, generic_name="ORS", form="sachet", frequency="SOS", duration_days=None)
    doc = prescription_document(visit=visit)

    assert doc["clinic"]["name"] == "Asha Family Clinic"
    assert doc["clinic"]["address"] == "12, 4th Cross, Jayanagar, Bengaluru, Karnataka"
    assert doc["clinic"]["phone"] == "+91 80 4123 4567"
    assert doc["doctor"] == {
        "name": "Dr Anil Rao",
        "qualifications": "MBBS, MD (General Medicine)",
        "specialisation": "",
        "registration_number": "KMC-12345",
        "medical_council": "Karnataka Medical Council",
        "signature_file": "",
    }
    patient = doc["patient"]
    assert (patient["name"], patient["age"], patient["sex"]) == (
        "Meena Kumari",
        "46 years",
        "Female",
    )
    assert patient["patient_number"].startswith("P-")
    assert patient["address"] == "44, 2nd Main, Basavanagudi, Bengaluru, 560004"
    assert patient["phone"] == "+91 98450 12345"
    assert patient["abha_number"] == "91-1234-5678-9012"
    assert doc["date"] == date(2027, 1, 12) and doc["date_display"] == "12 Jan 2027"
    assert doc["complaints"] == "Fever for 3 days" and doc["findings"] == "Throat congested"
    assert [d["display"] for d in doc["diagnoses"]] == [
        "Viral fever (B34.9) (provisional)",
        "Pharyngitis",
    ]
    first, syrup, ors = doc["items"]
    assert first == {
        "number": 1,
        "generic_name": "PARACETAMOL",
        "brand_name": "",
        "strength": "500 mg",
        "form": "Tablet",
        "route": "By mouth",
        "dose": "1 tablet",
        "dose_amount": "1",
        "dose_unit": "",
        "frequency": "1-0-1",
        "frequency_label": "Morning and night",
        "timing": "After food",
        "duration_days": 5,
        "duration": "5 days",
        "quantity": "10",
        "instructions": "",
        "starts_on": date(2027, 1, 12),
        "stopped": False,
        "stopped_on": None,
    }
    assert (syrup["frequency"], syrup["frequency_label"]) == (
        "1/2-0-1/2",
        "½ in the morning and ½ at night",
    )
    assert syrup["quantity"] == "" and syrup["generic_name"] == "AMOXICILLIN"
    assert (ors["frequency_label"], ors["duration"], ors["quantity"]) == ("When needed", "", "")
    assert doc["investigations"] == "CBC" and doc["advice"] == "Plenty of fluids"
    assert doc["follow_up_date"] == date(2027, 1, 15)
    assert doc["follow_up_display"] == "15 Jan 2027"
    assert doc["is_draft"] and doc["draft_mark"] == "DRAFT"
    assert doc["signature_line"] == "DRAFT" and doc["signed_by"] == ""


def test_signed_prescription_document_names_who_signed_and_when(visit, doctor):
    _add(visit, doctor)
    _sign(visit, doctor)
    signed_at = datetime(2027, 1, 12, 5, 0, tzinfo=UTC)  # 10:30 in Kolkata
    Visit.objects.filter(pk=visit.pk).update(signed_at=signed_at)
    doc = prescription_document(visit=visit)
    assert not doc["is_draft"] and doc["draft_mark"] == ""
    assert doc["signed_by"] == "Dr Anil Rao"
    assert doc["signed_at_display"] == "12 Jan 2027, 10:30 am"
    assert doc["signature_line"] == "Signed by Dr Anil Rao, 12 Jan 2027, 10:30 am"


def test_prescription_document_refuses_without_a_registration_number(visit, doctor):
    DoctorProfile.objects.filter(membership=doctor).update(registration_number=" ")
    with pytest.raises(DomainError, match="Dr Anil Rao has no medical registration number"):
        prescription_document(visit=visit)
    DoctorProfile.objects.filter(membership=doctor).delete()
    with pytest.raises(DomainError, match="must be on every prescription"):
        prescription_document(visit=visit)


def test_prescription_document_without_medicines(visit):
    doc = prescription_document(visit=visit)
    assert doc["items"] == [] and doc["diagnoses"] == []


def _document_queries(visit: Visit) -> int:
    with CaptureQueriesContext(connection) as queries:
        doc = prescription_document(visit=visit)
    assert doc["items"]
    return len(queries)


def test_prescription_document_query_count_does_not_grow_with_items(doctor, patient):
    names = ["Drug A", "Drug B", "Drug C", "Drug D", "Drug E", "Drug F", "Drug G", "Drug H"]
    small, large = _visit(doctor, patient), _visit(doctor, patient)
    for visit, count in ((small, 2), (large, 10)):
        _fill_visit(visit)
        for name in [*names, "Drug I", "Drug J"][:count]:
            _add(visit, doctor, generic_name=name, form="tablet", frequency="BD")
    assert _document_queries(small) == _document_queries(large) == 3


def test_document_shows_stopped_medicines(visit, doctor):
    item = _add(visit, doctor)
    _sign(visit, doctor)
    prescription_item_stop(item=item, actor=doctor.user, reason="completed")
    row = prescription_document(visit=visit)["items"][0]
    assert row["stopped"] and row["stopped_on"] == timezone.localdate()


def test_an_item_copied_into_a_later_amendment_can_still_be_changed(doctor, patient):
    first = _visit(doctor, patient)
    item = _add(first, doctor)
    _sign(first, doctor)
    # What visit_amend does (a separate module): a draft copy, days later, with the items.
    three_days_later = LATE_EVENING_UTC + timedelta(days=3)
    amendment = _visit(doctor, patient, amends=first, version=2, created_at=three_days_later)
    copy = Prescription.objects.create(
        clinic_id=amendment.clinic_id, visit=amendment, patient=patient, doctor=doctor
    )
    item.pk, item.prescription = None, copy
    item.save()
    updated = prescription_item_update(
        item=item, actor=doctor.user, actor_membership=doctor, dose_amount=D(2)
    )
    assert updated.dose_amount == D(2) and updated.starts_on == date(2027, 1, 12)
    with pytest.raises(ValidationFailed) as excinfo:
        prescription_item_update(
            item=item, actor=doctor.user, actor_membership=doctor, starts_on=date(2027, 1, 12)
        )
    assert "before the date of the visit" in _errors(excinfo)["starts_on"][0]


def test_a_drug_of_another_clinic_is_refused(visit, doctor, other_clinic, member_factory):
    from clinics.tenancy import clinic_scope

    with clinic_scope(other_clinic):
        elsewhere = member_factory(other_clinic, Role.DOCTOR)
        foreign = drug_add(
            clinic=other_clinic,
            actor=elsewhere.user,
            generic_name="Paracetamol",
            form="tablet",
            route="oral",
        )
    with pytest.raises(DomainError, match="Choose a drug from this clinic's list"):
        _add(visit, doctor, drug=foreign, frequency="OD", duration_days=3)
    assert not PrescriptionItem.objects.exists()
