"""factory-boy factories. Clinic-owned objects need a clinic: pass one or let a SubFactory."""

from __future__ import annotations

import itertools
from datetime import date

import factory
from django.utils import timezone

from clinics.models import ApiKey, Clinic, DoctorProfile, Membership, User
from clinics.roles import Role
from clinics.sequences import counter_next
from clinics.services import api_key_digest
from clinics.tenancy import clinic_scope
from patients.models import Guardian, Patient, Sex, normalise_name

_mobile = itertools.count(9000000001)


def next_mobile() -> str:
    """A valid, unique Indian mobile number in E.164."""
    return f"+91{next(_mobile)}"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"staff{n}@example.in")
    full_name = factory.Faker("name", locale="en_IN")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")
    state_code = "29"
    city = "Bengaluru"
    address = "12, 4th Cross, Jayanagar"
    phone = "+918041234567"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    clinic = factory.SubFactory(ClinicFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.FRONT_DESK


class DoctorProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DoctorProfile

    membership = factory.SubFactory(MembershipFactory, role=Role.DOCTOR)
    clinic = factory.SelfAttribute("membership.clinic")
    qualifications = "MBBS, MD (General Medicine)"
    medical_council = "Karnataka Medical Council"
    registration_number = factory.Sequence(lambda n: f"KMC-{40000 + n}")


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    clinic = factory.SubFactory(ClinicFactory)
    full_name = factory.Faker("name", locale="en_IN")
    search_name = factory.LazyAttribute(lambda o: normalise_name(o.full_name))
    date_of_birth = date(1985, 6, 15)
    sex = Sex.FEMALE
    phone = factory.LazyFunction(next_mobile)
    created_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        clinic = kwargs["clinic"]
        if "number" not in kwargs:
            with clinic_scope(clinic):
                kwargs["number"] = counter_next(clinic_id=clinic.pk, name="patient")
        return super()._create(model_class, *args, **kwargs)


class GuardianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guardian

    patient = factory.SubFactory(PatientFactory)
    clinic = factory.SelfAttribute("patient.clinic")
    name = factory.Faker("name", locale="en_IN")
    relation = "mother"
    phone = factory.LazyFunction(next_mobile)


def make_api_key(clinic: Clinic, *, role: str = Role.FRONT_DESK, read_only: bool = False):
    """An API key and its token, created directly (no audit event)."""
    token = f"vdy_test{next(_mobile)}"
    key = ApiKey.objects.create(
        clinic=clinic,
        name="Test key",
        prefix=token[:12],
        digest=api_key_digest(token),
        role=role,
        read_only=read_only,
    )
    return key, token
