"""Two copies of one request, sent at the same moment with the same Idempotency-Key."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from clinics.roles import Role
from clinics.tenancy import clinic_scope
from patients.models import Patient
from tests.api.conftest import LIST_URL
from tests.factories import ClinicFactory, make_api_key

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

VALID = {
    "full_name": "Lakshmi Iyer",
    "sex": "F",
    "phone": "98450 12345",
    "date_of_birth": "1980-01-01",
}


def test_racing_retries_register_the_patient_once():
    clinic = ClinicFactory()
    _, token = make_api_key(clinic, role=Role.OWNER)
    start = threading.Barrier(3)
    answers, errors = [], []

    def send() -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            start.wait()
            answers.append(
                client.post(LIST_URL, VALID, format="json", HTTP_IDEMPOTENCY_KEY="race-1")
            )
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert len({a.json()["id"] for a in answers}) == 1
    with clinic_scope(clinic):
        assert Patient.objects.count() == 1
