"""Fixtures shared by the patients tests (a module's own fixture of the same name wins)."""

from __future__ import annotations

import pytest

from clinics.roles import Role
from patients import services
from tests.factories import DoctorProfileFactory, MembershipFactory, PatientFactory

COMPLAINT = "Fever and sore throat for three days"


def by(member):
    return {"actor": member.user, "actor_membership": member}


@pytest.fixture
def doctor(scoped):
    profile = DoctorProfileFactory(
        membership__clinic=scoped,
        membership__user__full_name="Anita Rao",
        registration_number="KMC-45678",
        medical_council="Karnataka Medical Council",
        qualifications="MBBS, MD (General Medicine)",
    )
    return profile.membership


@pytest.fixture
def assistant(scoped):
    return MembershipFactory(clinic=scoped, role=Role.ASSISTANT)


@pytest.fixture
def front_desk(scoped):
    return MembershipFactory(clinic=scoped, role=Role.FRONT_DESK)


@pytest.fixture
def patient(scoped):
    return PatientFactory(
        clinic=scoped,
        full_name="Kavya Reddy",
        phone="+919845012345",
        abha_number="91123456789012",
    )


@pytest.fixture
def signed_visit(scoped, doctor, patient, django_capture_on_commit_callbacks):
    """A signed visit with one medicine; its PDFs are rendered (tasks run inline in tests)."""
    with django_capture_on_commit_callbacks(execute=True):
        visit = services.visit_start(clinic=scoped, **by(doctor), patient=patient, doctor=doctor)
        visit = services.visit_update_notes(visit=visit, **by(doctor), chief_complaints=COMPLAINT)
        services.prescription_item_add(
            visit=visit,
            **by(doctor),
            drug=None,
            generic_name="AMOXICILLIN",
            strength="500 mg",
            form="capsule",
            frequency="1-0-1",
            duration_days=5,
        )
        visit = services.visit_sign(visit=visit, **by(doctor))
    return visit
