"""The exports API: create, status with a signed link, download; roles, tenancy and the one
error shape."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core import signing

from clinics.roles import Role
from compliance.exports.models import DataExport, ExportStatus

pytestmark = pytest.mark.django_db


def _create(api, patient_id, **extra):
    return api.post("/api/v1/exports/", {"patient_id": patient_id, **extra}, format="json")


def test_create_status_and_download(
    scoped, api_client_for, recent_patient, django_capture_on_commit_callbacks
):
    api = api_client_for(scoped, role=Role.OWNER)
    with django_capture_on_commit_callbacks(execute=True):
        created = _create(api, recent_patient.pk, request_reference="DR-0001")
    assert created.status_code == 202, created.content
    assert created.json()["status"] == "preparing" and created.json()["download"] is None
    status = api.get(f"/api/v1/exports/{created.json()['id']}/")
    body = status.json()
    assert body["status"] == "ready" and body["request_reference"] == "DR-0001"
    assert body["counts"]["messaging.message"] == 6
    url = body["download"]["url"]
    assert url.startswith("http://testserver/api/v1/exports/download/")
    download = api.get(url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(b"".join(download)))
    assert json.loads(zf.read("data.json"))["kinds"]["messaging.message"]["count"] == 6


def test_roles_and_tenancy(scoped, api_client_for, recent_patient, other_clinic):
    desk = api_client_for(scoped, role=Role.FRONT_DESK)
    refused = _create(desk, recent_patient.pk)
    assert refused.status_code == 403 and refused.json()["type"]
    other = api_client_for(other_clinic, role=Role.OWNER)
    missing = _create(other, recent_patient.pk)
    assert missing.status_code == 400
    assert missing.json()["fields"] == {"patient_id": ["No such patient at this clinic."]}
    export = DataExport.objects.create(clinic=scoped, subject="patient", patient=recent_patient)
    assert other.get(f"/api/v1/exports/{export.pk}/").status_code == 404


def test_a_link_after_expiry_or_from_another_clinic_is_refused_in_the_error_shape(
    scoped, api_client_for, recent_patient, other_clinic
):
    export = DataExport.objects.create(
        clinic=scoped,
        subject="patient",
        patient=recent_patient,
        status=ExportStatus.READY,
        file="clinics/1/exports/x.zip",
    )
    owner_api = api_client_for(scoped, role=Role.OWNER)
    body = owner_api.get(f"/api/v1/exports/{export.pk}/").json()
    path = body["download"]["url"].removeprefix("http://testserver")
    elsewhere = api_client_for(other_clinic, role=Role.OWNER).get(path)
    assert elsewhere.status_code == 404
    assert set(elsewhere.json()) == {"type", "code", "detail", "fields"}
    real_time = signing.time.time
    signing.time.time = lambda: real_time() - 16 * 60
    try:
        token = signing.dumps(
            {"e": export.pk, "c": scoped.pk}, salt="vaidya.compliance.export-link", compress=True
        )
    finally:
        signing.time.time = real_time
    expired = owner_api.get(f"/api/v1/exports/download/{token}/")
    assert expired.status_code == 410
    assert expired.json()["code"] == "gone" and "expired" in expired.json()["detail"]
    bad = owner_api.post("/api/v1/exports/", {"patient_id": "x"}, format="json")
    assert bad.status_code == 400 and "patient_id" in bad.json()["fields"]
