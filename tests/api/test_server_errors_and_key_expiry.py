from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from clinics.models import IdempotencyRecord
from clinics.tasks import idempotency_purge_expired
from clinics.tenancy import clinic_scope

BODY = {"full_name": "Kavya Rao", "sex": "F", "phone": "98450 11111", "date_of_birth": "1990-01-01"}


def test_an_unexpected_api_failure_keeps_the_error_shape(clinic, api_client_for, monkeypatch):
    import patients.api.views as views

    def broken(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(views, "patient_list", broken)
    api = api_client_for(clinic)
    api.raise_request_exception = False
    response = api.get("/api/v1/patients/")
    assert response.status_code == 500
    body = response.json()
    assert body["type"] == "server_error" and set(body) == {"type", "code", "detail", "fields"}
    assert "database on fire" not in response.content.decode()


def test_a_page_failure_shows_the_plain_500_page(clinic, member_factory, monkeypatch):
    import patients.selectors

    def broken(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(patients.selectors, "patient_list", broken)
    client = Client(raise_request_exception=False)
    client.force_login(member_factory(clinic, "owner").user)
    response = client.get("/c/asha/patients/")
    assert response.status_code == 500
    assert b"<html" in response.content and b"database on fire" not in response.content


def test_keys_are_forgotten_after_the_window(clinic, api_client_for, settings):
    settings.IDEMPOTENCY_KEY_HOURS = 24
    api = api_client_for(clinic)
    first = api.post("/api/v1/patients/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    with clinic_scope(clinic):
        IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    # After the window the same key is a new request: a changed body is not "reused".
    again = api.post(
        "/api/v1/patients/",
        {**BODY, "full_name": "Someone Else", "phone": "98450 22222"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]


@pytest.mark.parametrize(("age_hours", "kept"), [(23, 1), (25, 0)])
def test_purge_deletes_only_expired_records(clinic, api_client_for, age_hours, kept):
    api = api_client_for(clinic)
    api.post("/api/v1/patients/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    with clinic_scope(clinic):
        IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=age_hours))
    idempotency_purge_expired()
    with clinic_scope(clinic):
        assert IdempotencyRecord.objects.count() == kept
