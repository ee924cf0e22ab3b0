"""The WhatsApp notice 48 hours before a patient's whole record is erased by the purge."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from compliance.models import ErasureNotice
from compliance.purge import purge_clinic
from messaging.models import Message
from patients.models import Patient
from tests.messaging.conftest import make_patient, make_template

pytestmark = pytest.mark.django_db


def _expired(patient):
    Patient.objects.filter(pk=patient.pk).update(created_at=timezone.now() - timedelta(days=4000))


def test_a_patient_who_agreed_to_messages_is_told_on_whatsapp(scoped, wa_account):
    make_template(
        scoped,
        name="vaidya_record_erasure_notice",
        purpose="record_erasure_notice",
        body="Hello {{1}}, {{2}} will erase your records on {{3}}. Call {{4}} to keep them.",
    )
    patient = make_patient(scoped, full_name="Meera Iyer")
    _expired(patient)
    counts = purge_clinic(clinic_id=scoped.pk)
    assert counts["records"]["noticed"] == 1
    assert ErasureNotice.objects.get(patient=patient).channel == "whatsapp"
    message = Message.objects.get(patient=patient)
    assert message.template_name == "vaidya_record_erasure_notice"
    assert message.parameters["body"][:2] == ["Meera", scoped.name]


def test_without_an_approved_template_the_notice_says_there_was_no_channel(scoped, wa_account):
    patient = make_patient(scoped)
    _expired(patient)
    purge_clinic(clinic_id=scoped.pk)
    assert ErasureNotice.objects.get(patient=patient).channel == ""
    assert not Message.objects.filter(patient=patient).exists()
