from __future__ import annotations

from io import StringIO

import phonenumbers
import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from stdnum.in_ import gstin

from clinics.audit import Actions, audit_verify
from clinics.demo import DEMO_PASSWORD, DEMO_STAFF
from clinics.models import AuditEvent, Clinic, DoctorProfile, Membership, User
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.models import Guardian, Patient


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_seed_demo_creates_a_realistic_clinic(db):
    out = seed("--patients", "40")
    clinic = Clinic.objects.get(slug="demo")
    assert clinic.name == "Sanjeevani Family Clinic"
    assert (clinic.state_code, clinic.city) == ("29", "Bengaluru")
    assert gstin.is_valid(clinic.gstin) and clinic.gstin.startswith("29")

    with clinic_scope(clinic):
        staff = list(Membership.objects.select_related("user"))
        profiles = list(DoctorProfile.objects.select_related("membership"))
        patients = list(Patient.objects.prefetch_related("guardians"))
        guardians = list(Guardian.objects.all())
        created_events = AuditEvent.objects.filter(action=Actions.PATIENT_CREATED).count()
        unsealed = AuditEvent.objects.filter(hash="").count()

    # Six staff: an owner who practises, two doctors, an assistant, front desk and billing.
    assert len(staff) == 6 and all(m.is_active for m in staff)
    assert sorted(m.role for m in staff) == sorted(
        [Role.OWNER, Role.DOCTOR, Role.DOCTOR, Role.ASSISTANT, Role.FRONT_DESK, Role.BILLING]
    )
    assert {p.membership.role for p in profiles} == {Role.OWNER, Role.DOCTOR}
    assert len(profiles) == 3
    assert all(p.medical_council == "Karnataka Medical Council" for p in profiles)
    for member in staff:
        assert member.user.check_password(DEMO_PASSWORD)
        assert member.user.email in out
    assert DEMO_PASSWORD in out

    # Patients: numbered, valid Indian mobiles, families sharing phones, minors with guardians.
    assert len(patients) == 40
    assert sorted(p.number for p in patients) == list(range(1, 41))
    for patient in patients:
        number = phonenumbers.parse(str(patient.phone))
        national = str(number.national_number)
        assert number.country_code == 91 and len(national) == 10 and national[0] in "6789"
    minors = [p for p in patients if p.is_minor]
    assert minors, "the demo has children"
    assert all(p.guardians.all() for p in minors)
    assert len(guardians) == len(minors)
    phones = [str(p.phone) for p in patients]
    assert len(set(phones)) < len(phones), "some families share a phone"
    assert any(p.dob_estimated for p in patients), "some know only their age"
    assert any(p.allergies for p in patients) or any(p.chronic_conditions for p in patients)
    assert any(p.is_archived for p in patients)
    assert created_events == 40  # registered through the service: a real audit trail

    # The trail is sealed and verifies.
    assert unsealed == 0
    assert audit_verify(clinic_id=clinic.pk).ok


def test_seed_demo_if_missing_is_a_no_op_the_second_time(db):
    seed("--patients", "5")
    clinic = Clinic.objects.get(slug="demo")
    with clinic_scope(clinic):
        before = (Patient.objects.count(), AuditEvent.objects.count())
    out = seed("--if-missing", "--patients", "30")
    assert "exists already: nothing created" in out
    assert all(s.email in out for s in DEMO_STAFF) and DEMO_PASSWORD in out
    with clinic_scope(clinic):
        assert (Patient.objects.count(), AuditEvent.objects.count()) == before
    assert Clinic.objects.filter(slug="demo").count() == 1


def test_seed_demo_refuses_to_seed_twice_without_a_flag(db):
    seed("--patients", "0")
    with pytest.raises(CommandError, match=r"exists already\. Use --if-missing"):
        seed()


def test_seed_demo_reset_passwords(db):
    seed("--patients", "0")
    user = User.objects.get(email=DEMO_STAFF[0].email)
    user.set_password("something the owner chose")
    user.save()
    out = seed("--reset-passwords")
    assert "Reset the password of 6 demo account(s)" in out
    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)


def test_seed_demo_refuses_a_negative_count(db):
    with pytest.raises(CommandError, match="--patients must be"):
        seed("--patients", "-1")
    assert not Clinic.objects.exists()


def test_seed_demo_is_deterministic(db):
    def seeded_people():
        seed("--patients", "15")
        with clinic_scope(Clinic.objects.get(slug="demo")):
            return list(Patient.objects.order_by("number").values_list("full_name", "phone", "sex"))

    with transaction.atomic():
        first = seeded_people()
        transaction.set_rollback(True)
    assert not Clinic.objects.exists()
    assert seeded_people() == first


def test_membership_add_records_the_event_and_refuses_a_second_membership(clinic, owner):
    from clinics.errors import Conflict
    from clinics.services import membership_add

    nurse = User.objects.create_user("nurse@example.in", "x", full_name="Nurse Naik")
    membership = membership_add(clinic=clinic, actor=owner.user, user=nurse, role=Role.ASSISTANT)
    with clinic_scope(clinic):
        event = AuditEvent.objects.get(action=Actions.MEMBERSHIP_CREATED, target_id=membership.pk)
    assert event.data == {"role": Role.ASSISTANT, "user_id": nurse.pk}
    with pytest.raises(Conflict, match="already works at this clinic"):
        membership_add(clinic=clinic, actor=owner.user, user=nurse, role=Role.DOCTOR)


def test_seed_demo_fills_the_clinic_day(db):
    call_command("seed_demo", "--patients", "40", stdout=StringIO())
    from patients.models import (
        Appointment,
        AppointmentKind,
        AppointmentStatus,
        Drug,
        Visit,
        VisitStatus,
        WorkingHours,
    )

    clinic = Clinic.objects.get(slug="demo")
    with clinic_scope(clinic):
        assert WorkingHours.objects.values("doctor").distinct().count() == 3
        assert Drug.objects.filter(generic_name="PARACETAMOL").exists()
        assert Drug.objects.filter(is_narcotic=True).exists()
        walk_ins = Appointment.objects.filter(kind=AppointmentKind.WALK_IN).order_by("token_number")
        assert [a.token_number for a in walk_ins] == [1, 2, 3, 4, 5]
        assert walk_ins[0].status == AppointmentStatus.IN_CONSULTATION
        assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() > 10
        signed = Visit.objects.filter(status=VisitStatus.SIGNED)
        assert signed.count() == 12
        assert all(v.prescription.items.exists() and v.vitals.bmi for v in signed)
    assert audit_verify(clinic_id=clinic.pk).ok
