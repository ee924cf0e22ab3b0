"""Error pages and who may open which clinic page."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from clinics.roles import Role


def test_404_page_is_friendly(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_a_clinic_someone_does_not_work_at_is_404(client_for, owner, other_clinic):
    response = client_for(owner).get(reverse("dashboard", args=[other_clinic.slug]))
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_500_page_renders_without_any_context():
    html = render_to_string("500.html")
    assert "Something went wrong" in html
    assert "<html" in html


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.OWNER, {"staff-list", "clinic-settings", "audit-list", "api-key-list"}),
        (Role.DOCTOR, {"staff-list"}),
        (Role.FRONT_DESK, {"staff-list"}),
        (Role.BILLING, {"staff-list"}),
    ],
)
def test_clinic_pages_follow_the_permission_matrix(
    client_for, clinic, member_factory, role, allowed
):
    client = client_for(member_factory(clinic, role))
    for name in ("staff-list", "clinic-settings", "audit-list", "api-key-list", "dashboard"):
        status = client.get(reverse(name, args=["asha"])).status_code
        expected = 200 if name in allowed | {"dashboard"} else 403
        assert status == expected, f"{role} {name}: {status}"


def test_nav_shows_only_what_the_role_may_open(client_for, clinic, member_factory):
    html = client_for(member_factory(clinic, Role.FRONT_DESK)).get("/c/asha/").content.decode()
    assert reverse("staff-list", args=["asha"]) in html
    assert reverse("clinic-settings", args=["asha"]) not in html
    assert reverse("audit-list", args=["asha"]) not in html
