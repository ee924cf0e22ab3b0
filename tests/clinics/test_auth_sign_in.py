"""Signing in (the real form), the two-factor step, lock-out, signing out, password reset."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp

from clinics.audit import Actions
from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from clinics.two_factor import AuthenticatorApp, BackupCode, BackupCodes, backup_code_digest
from clinics.views.auth import PENDING_SIGN_IN_KEY

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's password


def current_code(device: AuthenticatorApp) -> str:
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{code:0{device.digits}d}"


def sign_in(client: Client, email: str, password: str = PASSWORD, **extra):
    return client.post(reverse("login"), {"username": email, "password": password, **extra})


def signed_in_user_id(client: Client):
    return client.session.get("_auth_user_id")


@pytest.fixture
def front_desk(clinic, member_factory):
    return member_factory(clinic, Role.FRONT_DESK)


def test_sign_in_page_has_the_form_and_a_reset_link(client):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="username"' in html and 'name="password"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert reverse("password_reset") in html


def test_sign_in_with_one_clinic_goes_straight_to_its_dashboard(client, front_desk):
    response = sign_in(client, front_desk.user.email.upper())
    assert response.status_code == 302
    assert response.url == reverse("clinic-switch")
    dashboard = client.get(response.url, follow=True)
    assert dashboard.redirect_chain[-1][0] == reverse("dashboard", args=["asha"])
    assert "Asha Family Clinic" in dashboard.content.decode()
    assert signed_in_user_id(client) == str(front_desk.user.pk)


def test_sign_in_with_two_clinics_shows_the_switcher(client, front_desk, other_clinic):
    from tests.factories import MembershipFactory

    MembershipFactory(clinic=other_clinic, user=front_desk.user, role=Role.DOCTOR)
    page = client.get(sign_in(client, front_desk.user.email).url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Asha Family Clinic" in html and "Other Clinic" in html
    assert "Front desk" in html and "Doctor" in html


def test_wrong_password_is_refused_with_a_clear_message(client, front_desk):
    response = sign_in(client, front_desk.user.email, "not the password")
    assert response.status_code == 200
    assert "That email and password do not match" in response.content.decode()
    assert signed_in_user_id(client) is None


def test_safe_next_is_followed_and_an_outside_next_is_ignored(client, front_desk):
    staff = reverse("staff-list", args=["asha"])
    assert sign_in(client, front_desk.user.email, next=staff).url == staff
    other = Client()
    response = sign_in(other, front_desk.user.email, next="https://evil.example/steal")
    assert response.url == reverse("clinic-switch")


def test_five_wrong_passwords_lock_the_account_out(client, front_desk):
    for _ in range(4):
        assert sign_in(client, front_desk.user.email, "guess").status_code == 200
    locked = sign_in(client, front_desk.user.email, "guess")
    assert locked.status_code == 429
    assert "Sign-in paused" in locked.content.decode()
    assert "too many wrong sign-in attempts" in locked.content.decode()
    # Even the right password does not get in while the lock lasts.
    again = sign_in(client, front_desk.user.email)
    assert again.status_code == 429
    assert signed_in_user_id(client) is None


def test_sign_out_is_post_only(client, front_desk):
    client.force_login(front_desk.user)
    assert client.get(reverse("logout")).status_code == 405
    assert signed_in_user_id(client) == str(front_desk.user.pk)
    response = client.post(reverse("logout"), follow=True)
    assert signed_in_user_id(client) is None
    assert "You have signed out." in response.content.decode()


# ---------------------------------------------------------------------------------------------
# Two-factor step


@pytest.fixture
def with_app(front_desk):
    return AuthenticatorApp.objects.create(user=front_desk.user, name="Phone", confirmed=True)


def test_a_user_with_an_authenticator_app_must_enter_a_code(client, front_desk, with_app):
    response = sign_in(client, front_desk.user.email)
    assert response.url == reverse("login-otp")
    # Not signed in yet: clinic pages still send them to the sign-in page.
    assert signed_in_user_id(client) is None
    assert client.get(reverse("dashboard", args=["asha"])).status_code == 302
    assert "Enter your code" in client.get(reverse("login-otp")).content.decode()


def test_wrong_code_is_refused(client, front_desk, with_app):
    sign_in(client, front_desk.user.email)
    wrong = "000000" if current_code(with_app) != "000000" else "111111"
    response = client.post(reverse("login-otp"), {"token": wrong})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert signed_in_user_id(client) is None


def test_right_code_signs_in_and_verifies_the_session(client, clinic, front_desk, with_app):
    clinic.require_two_factor = True
    clinic.save()
    sign_in(client, front_desk.user.email, next=reverse("staff-list", args=["asha"]))
    response = client.post(reverse("login-otp"), {"token": current_code(with_app)})
    assert response.url == reverse("staff-list", args=["asha"])
    assert signed_in_user_id(client) == str(front_desk.user.pk)
    assert PENDING_SIGN_IN_KEY not in client.session
    # The clinic requires two-factor; a verified session goes straight in.
    assert client.get(reverse("dashboard", args=["asha"])).status_code == 200


def test_a_backup_code_works_once(client, front_desk, with_app):
    backup = BackupCodes.objects.create(user=front_desk.user, name="Backup codes")
    BackupCode.objects.create(device=backup, digest=backup_code_digest("abcd2345"))
    sign_in(client, front_desk.user.email)
    assert client.post(reverse("login-otp"), {"token": "abcd 2345"}).status_code == 302
    assert signed_in_user_id(client) == str(front_desk.user.pk)
    assert not BackupCode.objects.filter(device=backup).exists()


def test_code_step_without_a_password_first_goes_back_to_sign_in(client):
    response = client.post(reverse("login-otp"), {"token": "123456"})
    assert response.url == reverse("login")


def test_half_signed_in_state_expires(client, front_desk, with_app):
    sign_in(client, front_desk.user.email)
    session = client.session
    session[PENDING_SIGN_IN_KEY]["started"] -= 10 * 60
    session.save()
    response = client.post(reverse("login-otp"), {"token": current_code(with_app)})
    assert response.url == reverse("login")
    assert signed_in_user_id(client) is None


def test_too_many_wrong_codes_start_sign_in_again(client, front_desk, with_app):
    sign_in(client, front_desk.user.email)
    wrong = "000000" if current_code(with_app) != "000000" else "111111"
    for _ in range(4):
        assert client.post(reverse("login-otp"), {"token": wrong}).status_code == 200
    response = client.post(reverse("login-otp"), {"token": wrong})
    assert response.url == reverse("login")
    assert PENDING_SIGN_IN_KEY not in client.session


# ---------------------------------------------------------------------------------------------
# Password reset


def test_password_reset_sends_a_link_that_sets_a_new_password(client, front_desk, settings):
    settings.SITE_URL = "https://clinic.example.in"
    # Locked out by wrong guesses first: the reset lifts the lock.
    for _ in range(5):
        sign_in(Client(), front_desk.user.email, "guess")
    assert sign_in(Client(), front_desk.user.email).status_code == 429
    response = client.post(
        reverse("password_reset"), {"email": front_desk.user.email}, HTTP_HOST="localhost"
    )
    assert response.url == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [front_desk.user.email]
    assert message.subject == "Choose a new password for Vaidya"
    # The link uses SITE_URL, whatever Host header the request carried.
    link = re.search(r"https://clinic.example.in(/accounts/reset/\S+)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    new = "monsoon-lantern-42"
    done = client.post(set_url, {"new_password1": new, "new_password2": new})
    assert done.url == reverse("password_reset_complete")
    assert sign_in(Client(), front_desk.user.email, new).status_code == 302
    with clinic_scope(front_desk.clinic):
        assert AuditEvent.objects.filter(action=Actions.STAFF_PASSWORD_RESET).count() == 1


def test_sign_in_is_on_the_audit_trail(client, front_desk):
    sign_in(client, front_desk.user.email, "guess")
    sign_in(client, front_desk.user.email)
    with clinic_scope(front_desk.clinic):
        event = AuditEvent.objects.get(action=Actions.STAFF_SIGNED_IN)
    assert event.actor == front_desk.user and event.data == {"two_factor": False}


def test_password_reset_for_an_unknown_email_says_the_same_and_sends_nothing(client, db):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.in"}, follow=True)
    assert "Check your email" in response.content.decode()
    assert mail.outbox == []


def test_sign_in_needs_the_csrf_token(front_desk):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        reverse("login"), {"username": front_desk.user.email, "password": PASSWORD}
    )
    assert response.status_code == 403
    assert strict.session.get("_auth_user_id") is None
    page = strict.get(reverse("login"))
    token = page.cookies["csrftoken"].value
    response = strict.post(
        reverse("login"),
        {"username": front_desk.user.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
