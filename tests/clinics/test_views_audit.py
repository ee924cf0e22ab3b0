"""The audit trail page: filters, paging, patient numbers, and that reading it is recorded."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.urls import reverse

from clinics.audit import Actions
from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from tests.factories import PatientFactory

AUDIT = reverse("audit-list", args=["asha"])


def event(clinic, *, action, actor=None, patient=None, when=None, ip="10.0.0.7"):
    fields = {
        "clinic": clinic,
        "action": action,
        "actor": actor,
        "actor_label": actor.full_name if actor else "system",
        "patient_id": patient.pk if patient else None,
        "ip": ip,
    }
    if when:
        fields["created_at"] = when
    e = AuditEvent(**fields)
    e.save(force_insert=True)
    return e


def ist(y, m, d, hh=12):
    return datetime(y, m, d, hh, tzinfo=__import__("zoneinfo").ZoneInfo("Asia/Kolkata"))


@pytest.fixture
def trail(clinic, owner, member_factory):
    """Events by two people about two patients on different days."""
    doctor = member_factory(clinic, Role.DOCTOR)
    lakshmi = PatientFactory(clinic=clinic, full_name="Lakshmi Iyer")
    ravi = PatientFactory(clinic=clinic, full_name="Ravi Shankar")
    event(
        clinic,
        action=Actions.PATIENT_CREATED,
        actor=owner.user,
        patient=lakshmi,
        when=ist(2026, 1, 5),
    )
    event(
        clinic,
        action=Actions.PATIENT_VIEWED,
        actor=doctor.user,
        patient=lakshmi,
        when=ist(2026, 1, 10),
    )
    event(
        clinic,
        action=Actions.PATIENT_CREATED,
        actor=owner.user,
        patient=ravi,
        when=ist(2026, 1, 15),
    )
    event(clinic, action=Actions.INVITATION_CREATED, actor=owner.user, when=ist(2026, 1, 20))
    return {"doctor": doctor, "lakshmi": lakshmi, "ravi": ravi}


@pytest.fixture
def owner_client(owner, client_for):
    return client_for(owner)


def rows(response) -> list[dict]:
    return response.context["rows"]


def test_the_trail_shows_time_who_action_patient_number_and_ip(owner_client, trail):
    response = owner_client.get(AUDIT)
    assert response.status_code == 200
    html = response.content.decode()
    assert len(rows(response)) == 4
    assert "10 Jan 2026, 12:00 pm" in html
    assert trail["doctor"].user.full_name in html
    assert "Patient viewed" in html
    assert trail["lakshmi"].patient_number in html and trail["ravi"].patient_number in html
    assert "10.0.0.7" in html


def test_filter_by_patient_number(owner_client, trail):
    number = trail["lakshmi"].patient_number
    response = owner_client.get(AUDIT, {"patient": number.lower().replace("-", "")})
    assert [r["patient_number"] for r in rows(response)] == [number, number]


def test_filter_by_patient_id(owner_client, trail):
    response = owner_client.get(AUDIT, {"patient": str(trail["ravi"].pk)})
    assert [r["event"].action for r in rows(response)] == [Actions.PATIENT_CREATED]


def test_an_unknown_patient_number_is_an_error_not_everything(owner_client, trail):
    response = owner_client.get(AUDIT, {"patient": "P-999999"})
    assert "No patient has the number P-999999." in response.content.decode()
    assert rows(response) == []


def test_filter_by_staff_member_action_and_dates(owner_client, trail, owner):
    by_doctor = owner_client.get(AUDIT, {"actor": trail["doctor"].user_id})
    assert [r["event"].action for r in rows(by_doctor)] == [Actions.PATIENT_VIEWED]

    created = owner_client.get(AUDIT, {"action": Actions.PATIENT_CREATED})
    assert len(rows(created)) == 2

    window = owner_client.get(AUDIT, {"date_from": "2026-01-10", "date_to": "2026-01-15"})
    assert [r["event"].created_at.date().day for r in rows(window)] == [15, 10]


def test_dates_the_wrong_way_round_are_an_error(owner_client, trail):
    response = owner_client.get(AUDIT, {"date_from": "2026-01-15", "date_to": "2026-01-10"})
    assert "The end date is before the start date." in response.content.decode()


def test_the_trail_is_paged_25_at_a_time(owner_client, clinic, owner):
    for day in range(1, 31):
        event(clinic, action=Actions.CLINIC_UPDATED, actor=owner.user, when=ist(2026, 3, day))
    first = owner_client.get(AUDIT)
    assert len(rows(first)) == 25
    assert "Page 1 of 2" in first.content.decode()
    # 30 events, and the first look at the trail is now on it too.
    second = owner_client.get(AUDIT, {"page": 2})
    assert len(rows(second)) == 6
    assert rows(second)[-1]["event"].created_at == ist(2026, 3, 1)


def test_filters_survive_paging(owner_client, clinic, owner):
    for day in range(1, 31):
        event(clinic, action=Actions.CLINIC_UPDATED, actor=owner.user, when=ist(2026, 3, day))
    page = owner_client.get(AUDIT, {"action": Actions.CLINIC_UPDATED}).content.decode()
    assert "action=clinics.clinic.updated&amp;page=2" in page


def test_reading_the_trail_is_recorded_with_its_filters(owner_client, clinic, owner, trail):
    owner_client.get(AUDIT, {"patient": trail["lakshmi"].patient_number, "date_from": "2026-01-01"})
    with clinic_scope(clinic):
        viewed = AuditEvent.objects.get(action=Actions.AUDIT_VIEWED)
    assert viewed.actor == owner.user
    assert viewed.patient_id == trail["lakshmi"].pk
    assert viewed.data["filters"] == {
        "patient_id": trail["lakshmi"].pk,
        "date_from": "2026-01-01",
    }


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.DOCTOR, Role.ASSISTANT])
def test_other_roles_cannot_read_the_trail(client_for, clinic, member_factory, role):
    response = client_for(member_factory(clinic, role)).get(AUDIT)
    assert response.status_code == 403
    with clinic_scope(clinic):
        assert not AuditEvent.objects.filter(action=Actions.AUDIT_VIEWED).exists()


def test_entries_say_what_changed_for_whom(owner_client, clinic, owner, member_factory):
    """Not "clinics.membership #1": the owner reads whose role changed, from what to what."""
    doctor = member_factory(clinic, Role.DOCTOR)
    doctor.user.full_name = "Meera Rao"
    doctor.user.save()
    owner_client.post(
        reverse("membership-role", args=["asha", doctor.pk]), {"role": Role.ASSISTANT}
    )
    owner_client.post(reverse("clinic-settings", args=["asha"]), {})  # a refused save: no entry
    owner_client.post(
        reverse("api-key-create", args=["asha"]), {"name": "Lab system", "role": Role.FRONT_DESK}
    )
    html = owner_client.get(AUDIT).content.decode()
    assert "clinics.membership #" not in html and "clinics.apikey #" not in html
    assert "Staff member Meera Rao" in html
    assert "role: Doctor → Assistant" in html
    assert "API key Lab system" in html


def test_the_page_costs_the_same_however_many_kinds_of_entry(
    owner_client, clinic, owner, member_factory, django_assert_max_num_queries
):
    for _ in range(30):
        member = member_factory(clinic, Role.DOCTOR)
        AuditEvent(
            clinic=clinic,
            action=Actions.MEMBERSHIP_ROLE_CHANGED,
            actor=owner.user,
            target_type="clinics.membership",
            target_id=str(member.pk),
            data={"user_id": member.user_id, "from": "doctor", "to": "owner"},
        ).save(force_insert=True)
    with django_assert_max_num_queries(20):
        assert owner_client.get(AUDIT).status_code == 200
