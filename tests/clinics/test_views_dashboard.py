"""The clinic switcher and the dashboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinics.roles import Role
from clinics.services import invitation_create
from clinics.tenancy import clinic_scope
from tests.factories import MembershipFactory, PatientFactory


def stat(html: str, name: str) -> str:
    marker = f'id="stat-{name}">'
    start = html.index(marker) + len(marker)
    return html[start : html.index("<", start)]


def test_home_sends_a_signed_out_visitor_to_sign_in(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_switcher_lists_clinics_with_the_role(client_for, clinic, other_clinic, owner):
    MembershipFactory(clinic=other_clinic, user=owner.user, role=Role.BILLING)
    page = client_for(owner).get(reverse("clinic-switch"))
    html = page.content.decode()
    assert "Asha Family Clinic" in html and "Owner" in html
    assert "Other Clinic" in html and "Billing" in html
    assert reverse("dashboard", args=["other"]) in html


def test_switcher_goes_straight_to_the_only_clinic_unless_asked_to_stay(client_for, owner):
    client = client_for(owner)
    assert client.get(reverse("clinic-switch")).url == reverse("dashboard", args=["asha"])
    assert client.get(reverse("clinic-switch") + "?stay=1").status_code == 200


def test_switcher_explains_when_someone_has_no_clinic(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    assert (
        "You are not part of any clinic yet."
        in client.get(reverse("clinic-switch")).content.decode()
    )


def test_dashboard_counts_todays_and_active_patients(client_for, clinic, other_clinic, owner):
    now = timezone.now()
    PatientFactory.create_batch(2, clinic=clinic)
    PatientFactory(clinic=clinic, archived_at=now)  # registered today, archived since
    PatientFactory(clinic=clinic, created_at=now - timedelta(days=3))
    PatientFactory(clinic=other_clinic)  # another clinic's: never counted
    with clinic_scope(clinic):
        invitation_create(clinic=clinic, actor=owner.user, email="new@example.in", role=Role.DOCTOR)
    MembershipFactory(clinic=clinic, role=Role.DOCTOR)
    MembershipFactory(clinic=clinic, role=Role.ASSISTANT, is_active=False)

    page = client_for(owner).get(reverse("dashboard", args=["asha"]))
    html = page.content.decode()
    assert page.status_code == 200
    assert stat(html, "patients-today") == "3"
    assert stat(html, "active-patients") == "3"
    assert stat(html, "staff") == "2"
    assert stat(html, "invitations") == "1"
    assert f'action="{reverse("patient-list", args=["asha"])}"' in html
    assert 'name="q"' in html


def test_dashboard_lists_the_eight_newest_patients(client_for, clinic, owner):
    patients = [PatientFactory(clinic=clinic) for _ in range(10)]
    html = client_for(owner).get(reverse("dashboard", args=["asha"])).content.decode()
    for patient in patients[2:]:
        assert patient.patient_number in html
    for patient in patients[:2]:
        assert patient.patient_number not in html


def test_front_desk_sees_patients_but_not_staff_numbers_or_the_audit_trail(
    client_for, clinic, member_factory
):
    front_desk = member_factory(clinic, Role.FRONT_DESK)
    html = client_for(front_desk).get(reverse("dashboard", args=["asha"])).content.decode()
    assert 'id="stat-patients-today"' in html
    assert 'id="stat-staff"' not in html
    assert 'id="stat-invitations"' not in html
    assert "Latest activity" not in html


def test_owner_sees_the_latest_audit_events(client_for, clinic, owner):
    with clinic_scope(clinic):
        invitation_create(clinic=clinic, actor=owner.user, email="new@example.in", role=Role.DOCTOR)
    html = client_for(owner).get(reverse("dashboard", args=["asha"])).content.decode()
    assert "Latest activity" in html
    assert "Invitation created" in html


@pytest.mark.parametrize("role", [Role.OWNER, Role.FRONT_DESK])
def test_dashboard_query_count_does_not_grow_with_data(client_for, clinic, member_factory, role):
    member = member_factory(clinic, role)
    client = client_for(member)
    url = reverse("dashboard", args=["asha"])
    PatientFactory(clinic=clinic)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    PatientFactory.create_batch(12, clinic=clinic)
    for _ in range(5):
        MembershipFactory(clinic=clinic, role=Role.DOCTOR)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_page_views_do_not_rewrite_the_session_until_the_clinic_changes(
    client_for, clinic, other_clinic, owner
):
    MembershipFactory(clinic=other_clinic, user=owner.user, role=Role.DOCTOR)
    client = client_for(owner)

    def session_writes(path: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return sum(
            1
            for q in queries
            if "django_session" in q["sql"] and q["sql"].lstrip().upper().startswith("UPDATE")
        )

    assert session_writes(f"/c/{clinic.slug}/") == 1  # remembers the clinic
    assert session_writes(f"/c/{clinic.slug}/patients/") == 0
    assert session_writes(f"/c/{clinic.slug}/") == 0
    assert session_writes(f"/c/{other_clinic.slug}/") == 1  # switched
    assert client.session["last_clinic"] == other_clinic.slug
