"""Reads whose SQL is built once: the same answers as the ORM, inside the tenancy rules."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import ScopeError

from clinics.api.authentication import key_by_digest
from clinics.prepared import PreparedRead
from clinics.roles import Role
from clinics.services import api_key_digest
from clinics.tenancy import clinic_scope, scopes_disabled
from patients.models import Patient
from patients.selectors import patient_with_guardians
from tests.factories import GuardianFactory, PatientFactory, make_api_key

NAMES = PreparedRead(
    lambda number: Patient.objects.filter(number=number).values_list("full_name", "date_of_birth"),
    arg_types=(int,),
    scoped=True,
)


def test_a_prepared_read_answers_as_the_orm_does_with_one_query(clinic):
    patient = PatientFactory(clinic=clinic, whatsapp_phone="+919845000001")
    GuardianFactory(patient=patient, clinic=clinic)
    with clinic_scope(clinic):
        expected = Patient.objects.get(pk=patient.pk)
        with CaptureQueriesContext(connection) as queries:
            rows = NAMES.rows(patient.number)
        assert rows == [(patient.full_name, patient.date_of_birth)]
        assert len(queries.captured_queries) == 1
        record = patient_with_guardians(patient_id=patient.pk)
    for field in Patient._meta.concrete_fields:
        assert getattr(record, field.attname) == getattr(expected, field.attname), field.name
    assert record.has_guardians is True
    assert len(record.guardians.all()) == 1


def test_it_reads_only_the_scopes_clinic(clinic, other_clinic):
    theirs = PatientFactory(clinic=other_clinic)
    with clinic_scope(clinic):
        assert NAMES.rows(theirs.number) == []
        with pytest.raises(Patient.DoesNotExist):
            patient_with_guardians(patient_id=theirs.pk)
    with clinic_scope(other_clinic):
        assert patient_with_guardians(patient_id=theirs.pk).pk == theirs.pk


def test_it_refuses_to_read_clinic_data_outside_a_scope(clinic):
    patient = PatientFactory(clinic=clinic)
    with pytest.raises(ScopeError):
        NAMES.rows(patient.number)
    with scopes_disabled(), pytest.raises(ScopeError):
        NAMES.rows(patient.number)


def test_an_id_beyond_the_columns_range_finds_nothing(clinic):
    with clinic_scope(clinic), pytest.raises(Patient.DoesNotExist):
        patient_with_guardians(patient_id=2**70)


def test_a_read_may_take_only_its_arguments(clinic):
    fixed = PreparedRead(
        lambda number: Patient.objects.filter(number=number, sex="F").values_list("id"),
        arg_types=(int,),
        scoped=True,
    )
    with clinic_scope(clinic), pytest.raises(ValueError, match="only take its arguments"):
        fixed.rows(1)


def test_the_key_lookup_reads_the_key_and_its_clinic_and_sees_a_revocation_at_once(clinic):
    key, token = make_api_key(clinic, role=Role.DOCTOR, read_only=True)
    found = key_by_digest(api_key_digest(token))
    assert (found.pk, found.role, found.read_only) == (key.pk, "doctor", True)
    assert found.is_active
    assert (found.clinic.pk, found.clinic.slug, found.clinic.tzinfo) == (
        clinic.pk,
        clinic.slug,
        clinic.tzinfo,
    )
    assert found.clinic.state_code == clinic.state_code  # any other column is read when asked
    with scopes_disabled():
        type(key).objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    assert key_by_digest(api_key_digest(token)).is_active is False
    assert key_by_digest(api_key_digest("vdy_unknown")) is None
