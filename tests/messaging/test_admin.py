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
