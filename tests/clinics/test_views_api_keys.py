"""API keys: created and shown once, listed without the token, revoked."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from clinics.models import ApiKey
from clinics.roles import Role
from clinics.services import api_key_digest
from clinics.tenancy import clinic_scope

KEYS = reverse("api-key-list", args=["asha"])
CREATE = reverse("api-key-create", args=["asha"])


@pytest.fixture
def owner_client(owner, client_for):
    return client_for(owner)


def test_a_new_key_is_shown_once(owner_client, clinic):
    response = owner_client.post(
        CREATE, {"name": "Lab results import", "role": Role.ASSISTANT, "read_only": "on"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "It is shown only this once" in html
    assert "no-store" in response["Cache-Control"]
    token = re.search(r'value="(vdy_[^"]+)"', html).group(1)
    with clinic_scope(clinic):
        key = ApiKey.objects.get()
    assert key.digest == api_key_digest(token)
    assert (key.name, key.role, key.read_only) == ("Lab results import", Role.ASSISTANT, True)

    listing = owner_client.get(KEYS).content.decode()
    assert "Lab results import" in listing and key.prefix in listing
    assert token not in listing


def test_read_only_unticked_makes_a_read_write_key(owner_client, clinic):
    owner_client.post(CREATE, {"name": "Website booking", "role": Role.FRONT_DESK})
    with clinic_scope(clinic):
        assert ApiKey.objects.get().read_only is False


def test_a_key_needs_a_name(owner_client, clinic):
    response = owner_client.post(CREATE, {"name": "  ", "role": Role.FRONT_DESK})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    with clinic_scope(clinic):
        assert not ApiKey.objects.exists()


def test_revoking_a_key_stops_it_working(owner_client, clinic):
    html = owner_client.post(CREATE, {"name": "Old system", "role": Role.OWNER}).content.decode()
    token = re.search(r'value="(vdy_[^"]+)"', html).group(1)
    with clinic_scope(clinic):
        key = ApiKey.objects.get()
    response = owner_client.post(reverse("api-key-revoke", args=["asha", key.pk]), follow=True)
    assert "The key Old system was revoked." in response.content.decode()
    assert "Revoked" in response.content.decode()
    with clinic_scope(clinic):
        key.refresh_from_db()
    assert key.revoked_at is not None

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/clinic/").status_code == 401


def test_key_writes_are_post_only(owner_client):
    assert owner_client.get(CREATE).status_code == 405


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.DOCTOR, Role.BILLING])
def test_other_roles_cannot_manage_keys(client_for, clinic, member_factory, role):
    client = client_for(member_factory(clinic, role))
    assert client.get(KEYS).status_code == 403
    assert client.post(CREATE, {"name": "Sneaky", "role": Role.OWNER}).status_code == 403
    with clinic_scope(clinic):
        assert not ApiKey.objects.exists()


def test_revoking_a_key_asks_first_and_says_what_stops(owner_client, clinic):
    owner_client.post(CREATE, {"name": "Lab system", "role": Role.FRONT_DESK})
    with clinic_scope(clinic):
        key = ApiKey.objects.get()
    confirm_url = reverse("api-key-revoke-confirm", args=["asha", key.pk])
    revoke_url = reverse("api-key-revoke", args=["asha", key.pk])
    listing = owner_client.get(reverse("api-key-list", args=["asha"])).content.decode()
    assert f'action="{revoke_url}"' not in listing
    assert confirm_url in listing

    html = owner_client.get(confirm_url).content.decode()
    assert "Revoke the key Lab system?" in html
    assert f"starting {key.prefix} stops reaching this clinic" in html
    assert f'action="{revoke_url}"' in html
    with clinic_scope(clinic):
        key.refresh_from_db()
    assert key.revoked_at is None

    owner_client.post(revoke_url)
    assert owner_client.get(confirm_url).status_code == 404
