"""The personal-data registry's own rules (the entries themselves are tested with their apps)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from compliance.checks import check_personal_data_registry
from compliance.personal_data import (
    ANONYMISE,
    CLINICAL,
    MESSAGE_BODY,
    PATIENT,
    RETENTION_CLASSES,
    PersonalData,
    RetentionClass,
    personal_data,
)


def test_every_retention_class_keeps_its_default_at_or_above_its_floor():
    assert RETENTION_CLASSES[CLINICAL].default_days == 3650
    assert RETENTION_CLASSES[MESSAGE_BODY].default_days == 90
    for c in RETENTION_CLASSES.values():
        assert c.default_days >= c.floor_days >= 0
        assert c.basis and c.counts_from
    with pytest.raises(ValueError, match="below the floor"):
        RetentionClass("x", "X", default_days=1, floor_days=2, counts_from="-", basis="-")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"subject": "someone"}, "subject"),
        ({"retention": "forever"}, "retention class"),
        ({"erasure": ANONYMISE}, "anonymise"),
        ({"patient_path": None}, "patient_path"),
        ({"fields": ()}, "fields"),
    ],
)
def test_an_entry_that_cannot_be_acted_on_is_refused_when_it_is_written(kwargs, message):
    base = {
        "name": "t.thing",
        "order": 1,
        "model": "patients.Patient",
        "subject": PATIENT,
        "description": "A thing",
        "fields": ("full_name",),
        "retention": CLINICAL,
        "patient_path": "id",
    }
    with pytest.raises(ValueError, match=message):
        PersonalData(**{**base, **kwargs})


def test_the_system_check_names_a_missing_field_and_a_path_that_does_not_resolve():
    entry = PersonalData(
        name="t.broken",
        order=999,
        model="patients.Visit",
        subject=PATIENT,
        description="Broken on purpose",
        fields=("chief_complaints", "no_such_field"),
        retention=CLINICAL,
        patient_path="patient__nowhere",
    )
    personal_data.register(entry)
    try:
        messages = [e.msg for e in check_personal_data_registry()]
    finally:
        personal_data.unregister(entry.name)
    assert "t.broken: patients.Visit has no field 'no_such_field'" in messages
    assert "t.broken: the path 'patient__nowhere' does not resolve on patients.Visit" in messages
    assert not [m for m in check_personal_data_registry()]


@pytest.mark.django_db
def test_erase_rows_deletes_the_rows_and_their_files_only_when_the_erasure_commits(
    scoped, django_capture_on_commit_callbacks
):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from compliance.personal_data import DELETE, erase_rows, kind_rows
    from tests.factories import PatientFactory

    name = default_storage.save("erasure-test/file.txt", ContentFile(b"planted"))
    patient = PatientFactory(clinic=scoped)
    kind = PersonalData(
        name="t.patient",
        order=1,
        model="patients.Patient",
        subject=PATIENT,
        description="A patient",
        fields=("full_name",),
        retention=CLINICAL,
        erasure=DELETE,
        patient_path="id",
        files=lambda row: [SimpleNamespace(storage=default_storage, name=name)],
    )
    rows = kind_rows(kind, patient.id)
    assert rows.count() == 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert erase_rows(kind, rows) >= 1
    assert default_storage.exists(name)  # not before the commit
    for callback in callbacks:
        callback()
    assert not default_storage.exists(name)
    assert not kind_rows(kind, patient.id).exists()
