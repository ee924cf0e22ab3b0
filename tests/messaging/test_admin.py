"""The messaging admin: superusers look things up; secrets never appear."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from clinics.models import User
from tests.messaging.conftest import APP_SECRET, TOKEN, VERIFY_TOKEN

pytestmark = pytest.mark.django_db


@pytest.fixture
def root_client(db):
    root = User.objects.create_superuser("root@example.in", "correct horse battery")
    client = Client()
    client.force_login(root)
    return client


def test_the_account_page_never_shows_its_secrets(wa_account, root_client):
    for url in (
        reverse("admin:messaging_whatsappaccount_changelist"),
        reverse("admin:messaging_whatsappaccount_change", args=[wa_account.pk]),
    ):
        response = root_client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert wa_account.display_number in html
        for secret in (TOKEN, APP_SECRET, VERIFY_TOKEN):
            assert secret not in html


def test_staff_alert_choices_are_listed_without_the_doctors_number(wa_account, root_client):
    from clinics.roles import Role
    from messaging.models import WhatsAppAlertOptIn
    from tests.factories import MembershipFactory

    doctor = MembershipFactory(clinic=wa_account.clinic, role=Role.DOCTOR)
    choice = WhatsAppAlertOptIn.objects.create(
        clinic=wa_account.clinic, membership=doctor, phone="+919812345678", enabled=True
    )
    for url in (
        reverse("admin:messaging_whatsappalertoptin_changelist"),
        reverse("admin:messaging_whatsappalertoptin_change", args=[choice.pk]),
        reverse("admin:messaging_escalationalert_changelist"),
    ):
        response = root_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "9812345678" not in html and "98123 45678" not in html
