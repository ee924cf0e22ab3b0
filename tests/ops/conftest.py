from __future__ import annotations

import pytest
from django.test import Client

from clinics.models import User


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser(
        "root@example.in", "correct horse battery", full_name="Root"
    )


@pytest.fixture
def admin_client_for_superuser(superuser):
    client = Client()
    client.force_login(superuser)
    return client
