"""Accepting an invitation from the emailed link."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinics.models import Invitation, Membership
from clinics.roles import Role
from clinics.services import invitation_create, invitation_revoke
from clinics.tenancy import clinic_scope
from tests.factories import UserFactory


@pytest.fixture
def invitation(clinic, owner):
    with clinic_scope(clinic):
        return invitation_create(
            clinic=clinic, actor=owner.user, email="meera.rao@example.in", role=Role.DOCTOR
        )


def link(invitation) -> str:
    return reverse("invitation-accept", args=[invitation.token])


def test_the_link_shows_the_clinic_and_the_role(client, invitation):
    html = client.get(link(invitation)).content.decode()
    assert "Join Asha Family Clinic" in html
    assert "meera.rao@example.in" in html and "Doctor" in html
    assert 'name="full_name"' in html


def test_a_new_person_creates_an_account_joins_and_is_signed_in(client, clinic, invitation):
    response = client.post(
        link(invitation),
        {
            "full_name": "Meera Rao",
            "password": "tulsi-courtyard-81",
            "password_confirm": "tulsi-courtyard-81",
        },
    )
    assert response.url == reverse("dashboard", args=["asha"])
    with clinic_scope(clinic):
        membership = Membership.objects.select_related("user").get(user__email=invitation.email)
        assert Invitation.objects.get(pk=invitation.pk).accepted_at is not None
    assert (membership.role, membership.user.full_name) == (Role.DOCTOR, "Meera Rao")
    dashboard = client.get(response.url)
    assert dashboard.status_code == 200
    assert "Welcome to Asha Family Clinic. You joined as Doctor." in dashboard.content.decode()
    # The new password works for signing in later.
    fresh = Client()
    fresh.post(reverse("login"), {"username": invitation.email, "password": "tulsi-courtyard-81"})
    assert fresh.session.get("_auth_user_id") == str(membership.user.pk)


def test_passwords_must_match_and_be_strong(client, clinic, invitation):
    mismatch = client.post(
        link(invitation),
        {"full_name": "Meera", "password": "tulsi-courtyard-81", "password_confirm": "other-1"},
    )
    assert "The two passwords are not the same." in mismatch.content.decode()
    weak = client.post(
        link(invitation),
        {"full_name": "Meera", "password": "12345", "password_confirm": "12345"},
    )
    assert "This password is too short." in weak.content.decode()
    with clinic_scope(clinic):
        assert not Membership.objects.filter(user__email=invitation.email).exists()


def test_a_signed_in_user_with_the_invited_email_accepts_with_one_button(
    client, clinic, invitation
):
    user = UserFactory(email=invitation.email)
    client.force_login(user)
    page = client.get(link(invitation)).content.decode()
    assert "Join Asha Family Clinic</button>" in page
    assert 'name="password"' not in page
    response = client.post(link(invitation))
    assert response.url == reverse("dashboard", args=["asha"])
    with clinic_scope(clinic):
        assert Membership.objects.get(user=user).role == Role.DOCTOR


def test_a_signed_in_user_with_another_email_is_told_so(client, clinic, invitation):
    client.force_login(UserFactory(email="someone.else@example.in"))
    page = client.get(link(invitation)).content.decode()
    assert "this invitation is for" in page
    response = client.post(link(invitation), follow=True)
    assert "This invitation is for meera.rao@example.in." in response.content.decode()
    with clinic_scope(clinic):
        assert Membership.objects.count() == 1  # only the owner


def test_an_existing_account_is_asked_to_sign_in(client, invitation):
    UserFactory(email=invitation.email)
    response = client.post(
        link(invitation),
        {
            "full_name": "M",
            "password": "tulsi-courtyard-81",
            "password_confirm": "tulsi-courtyard-81",
        },
    )
    assert "An account with this email exists: sign in to accept." in response.content.decode()


def test_a_used_link_shows_a_friendly_page(client, invitation):
    client.post(
        link(invitation),
        {
            "full_name": "Meera Rao",
            "password": "tulsi-courtyard-81",
            "password_confirm": "tulsi-courtyard-81",
        },
    )
    again = Client().get(link(invitation))
    assert again.status_code == 410
    assert "This invitation link does not work any more" in again.content.decode()


def test_expired_revoked_and_made_up_links_show_the_friendly_page(client, clinic, owner):
    with clinic_scope(clinic):
        expired = invitation_create(
            clinic=clinic, actor=owner.user, email="a@example.in", role=Role.BILLING
        )
        Invitation.objects.filter(pk=expired.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
        revoked = invitation_create(
            clinic=clinic, actor=owner.user, email="b@example.in", role=Role.BILLING
        )
        invitation_revoke(invitation=revoked, actor=owner.user)
    for url in (link(expired), link(revoked), reverse("invitation-accept", args=["made-up"])):
        response = client.get(url)
        assert response.status_code == 410, url
        assert "Ask the clinic's owner to send you a new invitation." in response.content.decode()
