"""Sign-in security: setting up an authenticator app, clinics that require it, turning it off."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_otp.oath import totp

from clinics.audit import Actions
from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.tenancy import clinic_scope
from clinics.two_factor import AuthenticatorApp, BackupCode, backup_code_digest

SETUP = reverse("two-factor-setup")


def current_code(device: AuthenticatorApp) -> str:
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{code:0{device.digits}d}"


@pytest.fixture
def doctor(clinic, member_factory):
    return member_factory(clinic, Role.DOCTOR)


@pytest.fixture
def doctor_client(doctor, client_for):
    return client_for(doctor)


def test_security_page_says_two_factor_is_off(doctor_client):
    page = doctor_client.get(reverse("account-security"))
    assert page.status_code == 200
    assert "You sign in with your password only." in page.content.decode()


def test_setting_up_an_authenticator_app(doctor_client, doctor, clinic):
    start_page = doctor_client.get(SETUP)
    assert 'value="start"' in start_page.content.decode()
    assert doctor_client.post(SETUP, {"action": "start"}).status_code == 302

    page = doctor_client.get(SETUP).content.decode()
    device = AuthenticatorApp.objects.get(user=doctor.user)
    assert not device.confirmed
    assert "<svg" in page and "<path" in page  # the QR code, inline
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', page).group(1)
    assert len(secret.replace(" ", "")) == 32  # 20-byte key in base32

    done = doctor_client.post(SETUP, {"action": "confirm", "token": current_code(device)})
    assert done.status_code == 200
    html = done.content.decode()
    assert "shown only this once" in html
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", html)
    assert len(codes) == 8
    assert set(
        BackupCode.objects.filter(device__user=doctor.user).values_list("digest", flat=True)
    ) == {backup_code_digest(code) for code in codes}
    device.refresh_from_db()
    assert device.confirmed
    with clinic_scope(clinic):
        assert AuditEvent.objects.filter(
            action=Actions.TWO_FACTOR_ENABLED, actor=doctor.user
        ).exists()

    # The session is verified: a clinic that requires two-factor lets this user in.
    clinic.require_two_factor = True
    clinic.save()
    assert doctor_client.get(reverse("dashboard", args=[clinic.slug])).status_code == 200
    security = doctor_client.get(reverse("account-security")).content.decode()
    assert "You sign in with your password and a code from your authenticator app" in security


def test_a_wrong_code_does_not_confirm_the_app(doctor_client, doctor):
    doctor_client.post(SETUP, {"action": "start"})
    device = AuthenticatorApp.objects.get(user=doctor.user)
    wrong = "000000" if current_code(device) != "000000" else "111111"
    response = doctor_client.post(SETUP, {"action": "confirm", "token": wrong})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert not BackupCode.objects.filter(device__user=doctor.user).exists()


def test_a_clinic_that_requires_two_factor_sends_unverified_staff_to_set_up(doctor_client, clinic):
    clinic.require_two_factor = True
    clinic.save()
    response = doctor_client.get(reverse("patient-list", args=[clinic.slug]) + "?q=ravi&page=2")
    assert response.status_code == 302
    # Where they were going, query string included, comes back after set-up.
    assert response.url == f"{SETUP}?next=%2Fc%2F{clinic.slug}%2Fpatients%2F%3Fq%3Dravi%26page%3D2"
    response = doctor_client.get(reverse("dashboard", args=[clinic.slug]))
    assert response.url == f"{SETUP}?next=%2Fc%2F{clinic.slug}%2F"
    page = doctor_client.get(response.url).content.decode()
    assert "This clinic asks everyone to use two-factor sign-in." in page
    assert 'name="next" value="/c/asha/"' in page


def test_after_set_up_the_user_returns_to_the_clinic(doctor_client, doctor, clinic):
    clinic.require_two_factor = True
    clinic.save()
    doctor_client.post(SETUP + "?next=/c/asha/", {"action": "start"})
    device = AuthenticatorApp.objects.get(user=doctor.user)
    done = doctor_client.post(
        SETUP, {"action": "confirm", "token": current_code(device), "next": "/c/asha/"}
    )
    assert 'href="/c/asha/"' in done.content.decode()
    assert doctor_client.get("/c/asha/").status_code == 200


def test_an_unverified_session_with_an_app_is_asked_for_a_code(doctor_client, doctor, clinic):
    device = AuthenticatorApp.objects.create(user=doctor.user, name="Phone", confirmed=True)
    clinic.require_two_factor = True
    clinic.save()
    response = doctor_client.get("/c/asha/", follow=True)
    assert "Enter your code" in response.content.decode()
    verified = doctor_client.post(
        SETUP, {"action": "verify", "token": current_code(device), "next": "/c/asha/"}
    )
    assert verified.url == "/c/asha/"
    assert doctor_client.get("/c/asha/").status_code == 200


def test_turning_two_factor_off(doctor_client, doctor):
    AuthenticatorApp.objects.create(user=doctor.user, name="Phone", confirmed=True)
    response = doctor_client.post(reverse("two-factor-disable"), follow=True)
    assert "Two-factor sign-in is off" in response.content.decode()
    assert not AuthenticatorApp.objects.filter(user=doctor.user).exists()


def test_turning_two_factor_off_is_refused_where_a_clinic_requires_it(
    doctor_client, doctor, clinic
):
    device = AuthenticatorApp.objects.create(user=doctor.user, name="Phone", confirmed=True)
    clinic.require_two_factor = True
    clinic.save()
    doctor_client.post(SETUP, {"action": "verify", "token": current_code(device)})
    page = doctor_client.get(reverse("account-security")).content.decode()
    assert "cannot be turned off" in page
    assert reverse("two-factor-disable") not in page
    response = doctor_client.post(reverse("two-factor-disable"), follow=True)
    assert "A clinic you work at requires two-factor sign-in." in response.content.decode()
    assert AuthenticatorApp.objects.filter(user=doctor.user).exists()


def test_disable_is_post_only(doctor_client):
    assert doctor_client.get(reverse("two-factor-disable")).status_code == 405
