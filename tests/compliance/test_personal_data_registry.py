"""Every installed model of Vaidya's apps is in the personal-data registry, field by field."""

from __future__ import annotations

import pytest
from django.apps.registry import Apps
from django.db import models

from compliance.personal_data import (
    ANONYMISE,
    NOBODY,
    PATIENT,
    RETAIN,
    STAFF,
    kinds_about,
    personal_data,
    registry_problems,
)
from compliance.personal_data_scan import (
    PROJECT_APPS,
    looks_personal,
    project_models,
    unregistered,
)

_scan_apps = Apps()


class ScanTestNote(models.Model):
    """A model a later change might add: a patient's free-text note, not registered."""

    title = models.CharField(max_length=100)
    note_text = models.TextField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        app_label = "scan_test"
        apps = _scan_apps

    def __str__(self) -> str:
        return self.title


def test_every_project_model_with_personal_looking_fields_is_registered():
    scanned = project_models()
    assert {m._meta.app_label for m in scanned} >= set(PROJECT_APPS) - {"billing"}
    assert unregistered(scanned) == []
    assert registry_problems() == []


def test_the_scan_fails_on_an_unregistered_model_with_a_note():
    assert unregistered([ScanTestNote]) == ["scan_test.ScanTestNote"]
    assert looks_personal(ScanTestNote._meta.get_field("title"))
    assert not looks_personal(ScanTestNote._meta.get_field("count"))


def test_the_scan_fails_on_a_registered_model_that_leaves_a_field_out_without_a_reason():
    from compliance.personal_data import CLINICAL, PersonalData

    entry = PersonalData(
        name="scan_test.note",
        order=999,
        model="scan_test.ScanTestNote",
        subject=PATIENT,
        description="A note",
        fields=("note_text",),
        retention=CLINICAL,
        erasure=RETAIN,
        rows=lambda patient_id: None,
    )
    personal_data.register(entry)
    try:
        assert unregistered([ScanTestNote]) == ["scan_test.ScanTestNote.title"]
        reasoned = PersonalData(**{**entry.__dict__, "extra": {"not_personal": {"title": "x"}}})
        personal_data.register(reasoned)
        assert unregistered([ScanTestNote]) == []
    finally:
        personal_data.unregister(entry.name)


def _kind(name):
    return next(k for k in personal_data.entries() if k.name == name)


@pytest.mark.parametrize(
    ("name", "subject", "erasure"),
    [
        ("patients.visit", PATIENT, RETAIN),
        ("patients.patient", PATIENT, RETAIN),
        ("patients.patient_contact", PATIENT, ANONYMISE),
        ("messaging.message", PATIENT, ANONYMISE),
        ("messaging.message_media", PATIENT, ANONYMISE),
        ("messaging.webhook_delivery", PATIENT, "delete"),
        ("clinics.idempotency_record", PATIENT, "delete"),
        ("compliance.verification_code", PATIENT, "delete"),
        ("clinics.user", STAFF, ANONYMISE),
        ("clinics.backup_code", STAFF, "delete"),
        ("clinics.clinic", NOBODY, "delete"),
    ],
)
def test_each_kind_says_whose_data_and_how_it_is_erased(name, subject, erasure):
    kind = _kind(name)
    assert (kind.subject, kind.erasure) == (subject, erasure)


def test_messages_and_documents_name_who_else_received_them():
    assert "Meta (WhatsApp Cloud API)" in _kind("messaging.message").processors
    assert _kind("patients.document").processors[0].startswith("Object storage")
    assert _kind("messaging.message").fhir is not None
    assert [k.name for k in kinds_about(PATIENT) if k.fhir] == ["messaging.message"]


def test_a_kind_with_a_retention_period_that_is_not_clinical_says_when_it_counts_from():
    from compliance.personal_data import CLINICAL, CONSENT_RECORD

    for kind in kinds_about(PATIENT):
        if kind.retention not in (CLINICAL, CONSENT_RECORD):
            assert kind.age_field, kind.name
        if kind.erasure == ANONYMISE and kind.age_field:
            assert "holds_data" in kind.extra, kind.name
