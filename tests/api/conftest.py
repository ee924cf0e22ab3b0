from __future__ import annotations

import pytest

from clinics.roles import Role
from clinics.tenancy import clinic_scope
from tests.factories import PatientFactory

LIST_URL = "/api/v1/patients/"
ERROR_KEYS = {"type", "code", "detail", "fields"}


def detail_url(patient_id: int, suffix: str = "") -> str:
    return f"/api/v1/patients/{patient_id}/{suffix}"


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The response is the API's one error shape, with this status (and code)."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert body["type"] and body["code"] and body["detail"]
    assert isinstance(body["fields"], dict)
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.fixture
def api(clinic, api_client_for):
    """An owner's read-write API key at `clinic`."""
    return api_client_for(clinic, role=Role.OWNER)


@pytest.fixture
def make_patient(clinic):
    def make(target=None, **kwargs):
        target = target or clinic
        with clinic_scope(target):
            return PatientFactory(clinic=target, **kwargs)

    return make
