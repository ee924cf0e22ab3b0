"""The audit trail holds ids, action names and field names, never a patient's personal values,
so erasing a patient leaves it as it was and its chain still verifies."""

from __future__ import annotations

import json

import pytest

from clinics.audit import audit_seal, audit_verify
from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from compliance.erasure.expired import patient_record_erase_expired
from compliance.purge import purge_clinic
from compliance.retention import legal_hold_lift, legal_hold_set
from patients.models import Patient
from patients.services.appointments import appointment_walk_in
from tests.factories import DoctorProfileFactory

pytestmark = pytest.mark.django_db

PLANTED = {
    "full_name": "Zebulon Quartermaine",
    "phone": "98450 12345",
    "whatsapp_phone": "+91 98450 99999",
    "email": "zebulon.q@example.in",
    "abha_number": "91-1234-5678-9012",
    "address": "17 Jacaranda Lane, Mysuru",
    "emergency_contact_name": "Philomena Quartermaine",
    "emergency_contact_phone": "98450 11111",
    "allergies": "Planted-allergy-text",
}
NEEDLES = [
    "Zebulon", "Quartermaine", "9845012345", "98450 12345", "9845099999", "zebulon.q",
    "91123456789012", "1234-5678", "Jacaranda", "Philomena", "9845011111", "Planted",
    "Secret-override", "Secret-note", "Secret-hold", "Secret-cancel", "Secret-visit-reason",
]  # fmt: skip


def _audit_text(clinic) -> str:
    with clinic_scope(clinic):
        rows = AuditEvent.objects.values_list("action", "target_id", "data")
        return json.dumps([list(r) for r in rows])


def test_the_main_flows_leave_no_personal_value_in_the_audit_trail(clinic, api_client_for):
    api = api_client_for(clinic, role=Role.OWNER, read_only=False)
    doctor = DoctorProfileFactory(membership__clinic=clinic).membership
    answer = api.post(
        "/api/v1/patients/", {**PLANTED, "sex": "M", "date_of_birth": "1970-05-01"}, format="json"
    )
    assert answer.status_code == 201, answer.content
    patient_id = answer.json()["id"]
    changed = api.patch(
        f"/api/v1/patients/{patient_id}/",
        {"address": "18 Jacaranda Lane", "email": "zebulon.q2@example.in"},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    with clinic_scope(clinic):
        walk_in = appointment_walk_in(
            patient=Patient.objects.get(pk=patient_id),
            doctor=doctor,
            actor=doctor.user,
            reason="Secret-visit-reason",
            override_reason="Secret-override",
        )
    cancelled = api.post(
        f"/api/v1/appointments/{walk_in.pk}/cancel/",
        {"reason": "Secret-cancel", "patient_note": "Secret-note"},
        format="json",
    )
    assert cancelled.status_code == 200, cancelled.content
    consent = api.post(
        f"/api/v1/patients/{patient_id}/consent/",
        {"purpose": "whatsapp_care", "action": "grant"},
        format="json",
    )
    assert consent.status_code in (200, 400), consent.content
    with clinic_scope(clinic):
        hold = legal_hold_set(
            clinic_id=clinic.pk, actor=None, reason="Secret-hold", patient_id=patient_id
        )
        legal_hold_lift(hold_id=hold.pk, actor=None, reason="Secret-hold over")
        purge_clinic(clinic_id=clinic.pk)
        assert api.get(f"/api/v1/patients/{patient_id}/").status_code == 200

    text = _audit_text(clinic)
    assert len(json.loads(text)) >= 5
    found = [needle for needle in NEEDLES if needle.lower() in text.lower()]
    assert found == []

    # Erasing the patient's whole record leaves the sealed chain verifying.
    audit_seal(clinic_id=clinic.pk)
    with clinic_scope(clinic):
        patient_record_erase_expired(patient_id=patient_id, reason="retention")
        assert not Patient.objects.filter(pk=patient_id).exists()
    audit_seal(clinic_id=clinic.pk)
    assert audit_verify(clinic_id=clinic.pk).ok
