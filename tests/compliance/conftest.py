"""Fixtures for the export and erasure tests."""

from __future__ import annotations

import pytest

from clinics.roles import Role
from compliance.personal_data import personal_data
from tests.compliance.history import make_history, make_patient
from tests.compliance.rights_kinds import KINDS


@pytest.fixture
def rights_registry():
    """The test registry (tests/compliance/rights_kinds.py) in place of the real one."""
    saved = dict(personal_data._entries)
    personal_data._entries.clear()
    for kind in KINDS:
        personal_data.register(kind)
    yield personal_data
    personal_data._entries.clear()
    personal_data._entries.update(saved)


@pytest.fixture
def doctor(clinic, member_factory):
    return member_factory(clinic, Role.DOCTOR)


@pytest.fixture
def history_patient(scoped, doctor, rights_registry):
    """A patient with 10 years of history whose last visit was 11 years ago (so nothing must
    be kept), or recent with `recent=True` through `make_recent_patient`."""
    from datetime import timedelta

    from django.utils import timezone

    patient = make_patient(scoped)
    make_history(
        scoped,
        patient,
        doctor,
        visits=6,
        messages=12,
        documents=2,
        start=timezone.now() - timedelta(days=11 * 365),
    )
    return patient


@pytest.fixture
def recent_patient(scoped, doctor, rights_registry):
    patient = make_patient(scoped, number=902)
    make_history(scoped, patient, doctor, visits=4, messages=6, documents=1)
    return patient
