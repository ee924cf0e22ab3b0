"""The retention settings page and API: owners lengthen periods (never below the floor), set
and lift legal holds; doctors read; others are refused."""

from __future__ import annotations

import pytest

from clinics.audit import Actions
from clinics.models import AuditEvent
from clinics.roles import Role
from compliance.models import LegalHold, RetentionPolicy
from compliance.retention import retention_periods
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def url(clinic, suffix=""):
    return f"/c/{clinic.slug}/compliance/retention/{suffix}"


def test_an_owner_lengthens_a_period_and_it_is_audited(scoped, owner, client_for):
    clinic = scoped
    web = client_for(owner)
    page = web.get(url(clinic))
    assert page.status_code == 200 and b"WhatsApp message texts" in page.content
    answer = web.post(url(clinic, "period/"), {"record_class": "message_body", "days": "180"})
    assert answer.status_code == 302
    assert retention_periods(clinic_id=clinic.pk)["message_body"] == 180
    event = AuditEvent.objects.get(action=Actions.RETENTION_POLICY_CHANGED)
    assert event.data == {"record_class": "message_body", "days": 180, "was": 90}


def test_a_period_below_the_floor_is_refused_on_the_form(scoped, owner, client_for):
    clinic = scoped
    web = client_for(owner)
    answer = web.post(url(clinic, "period/"), {"record_class": "message_body", "days": "10"})
    assert answer.status_code == 400
    assert b"at least 30 days" in answer.content
    answer = web.post(url(clinic, "period/"), {"record_class": "message_body", "days": "abc"})
    assert answer.status_code == 400
    assert not RetentionPolicy.objects.exists()


def test_doctors_read_the_page_and_front_desk_cannot(clinic, member_factory, client_for):
    doctor = client_for(member_factory(clinic, Role.DOCTOR))
    assert doctor.get(url(clinic)).status_code == 200
    refused = doctor.post(url(clinic, "period/"), {"record_class": "message_body", "days": "99"})
    assert refused.status_code == 403
    desk = client_for(member_factory(clinic, Role.FRONT_DESK))
    assert desk.get(url(clinic)).status_code == 403


def test_an_owner_sets_and_lifts_a_hold_with_reasons(scoped, owner, client_for):
    clinic = scoped
    web = client_for(owner)
    patient = PatientFactory(clinic=clinic, full_name="Meera Iyer")
    answer = web.post(url(clinic, "holds/"), {"patient_number": patient.number, "reason": "MLC 4"})
    assert answer.status_code == 302
    hold = LegalHold.objects.get()
    assert (hold.patient_id, hold.reason, hold.set_by_id) == (patient.pk, "MLC 4", owner.user_id)
    assert b"Meera Iyer" in web.get(url(clinic)).content
    assert web.post(url(clinic, f"holds/{hold.pk}/lift/"), {"lift_reason": ""}).status_code == 400
    answer = web.post(url(clinic, f"holds/{hold.pk}/lift/"), {"lift_reason": "Case closed"})
    assert answer.status_code == 302
    hold.refresh_from_db()
    assert hold.lifted_at and hold.lift_reason == "Case closed"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {Actions.LEGAL_HOLD_SET, Actions.LEGAL_HOLD_LIFTED} <= actions
    again = web.post(url(clinic, f"holds/{hold.pk}/lift/"), {"lift_reason": "again"})
    assert again.status_code == 400
    assert web.post(url(clinic, "holds/999999/lift/"), {"lift_reason": "x"}).status_code == 404
    unknown = web.post(url(clinic, "holds/"), {"patient_number": 99999, "reason": "x"})
    assert unknown.status_code == 400


def test_the_api_reads_the_policy_and_refuses_a_period_below_the_floor(clinic, api_client_for):
    owner = api_client_for(clinic, role=Role.OWNER, read_only=False)
    body = owner.get("/api/v1/retention-policy/").json()
    rows = {row["record_class"]: row for row in body}
    assert rows["clinical"]["days"] == 3650 and rows["clinical"]["floor_days"] == 1095
    assert rows["message_body"]["basis"]
    refused = owner.put(
        "/api/v1/retention-policy/",
        {"record_class": "message_body", "days": 5},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert refused.json()["fields"]["days"]
    changed = owner.put(
        "/api/v1/retention-policy/",
        {"record_class": "message_body", "days": 120},
        content_type="application/json",
    )
    assert changed.status_code == 200
    assert {r["record_class"]: r["days"] for r in changed.json()}["message_body"] == 120


def test_the_api_refuses_roles_without_the_permission(clinic, api_client_for):
    desk = api_client_for(clinic, role=Role.FRONT_DESK)
    assert desk.get("/api/v1/retention-policy/").status_code == 403
    doctor_read_only = api_client_for(clinic, role=Role.DOCTOR)
    assert doctor_read_only.get("/api/v1/retention-policy/").status_code == 200
