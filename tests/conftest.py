from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from clinics.roles import Role
from clinics.tenancy import clinic_scope
from tests.factories import ClinicFactory, MembershipFactory, make_api_key

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def pytest_sessionstart(session):
    """Compile the translation catalogues the way `make install` does, when a .po is newer than
    its .mo (running pytest directly after editing a catalogue)."""
    for po in LOCALE.glob("*/LC_MESSAGES/django.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        msgfmt = shutil.which("msgfmt")
        if msgfmt is None:
            pytest.exit(f"{mo} is missing or stale and msgfmt is not installed: install gettext.")
        subprocess.run([msgfmt, "--check", "--output-file", str(mo), str(po)], check=True)  # noqa: S603


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL; on SQLite they are skipped."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _media_and_cache(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            # The embedded default: local files, encrypted at rest.
            "BACKEND": "clinics.storage.EncryptedFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def clinic(db):
    return ClinicFactory(name="Asha Family Clinic", slug="asha")


@pytest.fixture
def other_clinic(db):
    return ClinicFactory(name="Other Clinic", slug="other")


@pytest.fixture
def scoped(clinic):
    """Run the test body inside `clinic`'s scope."""
    with clinic_scope(clinic):
        yield clinic


@pytest.fixture
def member_factory(db):
    def make(clinic, role=Role.FRONT_DESK, **kwargs):
        return MembershipFactory(clinic=clinic, role=role, **kwargs)

    return make


@pytest.fixture
def owner(clinic, member_factory):
    return member_factory(clinic, Role.OWNER)


@pytest.fixture
def client_for(db):
    """A logged-in web client for a membership: client_for(membership)."""

    def make(membership):
        client = Client()
        client.force_login(membership.user)
        return client

    return make


@pytest.fixture
def api_client_for(db):
    """An API client with a key of the clinic: api_client_for(clinic, role=..., read_only=...)."""

    def make(clinic, role=Role.OWNER, read_only=False):
        key, token = make_api_key(clinic, role=role, read_only=read_only)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        client.api_key = key
        return client

    return make


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"
