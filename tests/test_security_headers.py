"""Pages load nothing from other sites, and the browser is told to refuse it anyway."""

import re

import pytest

from clinics.roles import Role

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/password_reset/"])
def test_public_pages_are_self_contained(client, db, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert not EXTERNAL.search(response.content.decode())


def test_clinic_pages_are_self_contained(clinic, member_factory, client_for):
    client = client_for(member_factory(clinic, Role.OWNER))
    for path in ("/c/asha/", "/c/asha/patients/", "/c/asha/patients/new/", "/c/asha/staff/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert not EXTERNAL.search(response.content.decode()), path
        assert "default-src 'self'" in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"


def test_api_docs_work_offline(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert not EXTERNAL.search(response.content.decode())
    assert "/static/drf_spectacular_sidecar/" in response.content.decode()


def test_benchmark_headers_only_when_asked(db, settings):
    from django.test import Client

    assert "X-Query-Count" not in Client().get("/accounts/login/")
    settings.QUERY_COUNT_HEADER = True
    response = Client().get("/accounts/login/")
    assert int(response["X-Query-Count"]) >= 0
    assert float(response["X-Server-Time-Ms"]) > 0
