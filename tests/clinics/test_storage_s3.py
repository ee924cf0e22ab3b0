"""Documents on S3-compatible storage (Cloudflare R2 in production), against a real server.

`rclone serve s3` runs on loopback (tests/s3server.py): it checks SigV4 signatures and the
expiry of presigned URLs, and accepts region "auto" as R2 does. The storage is configured by
running config/settings.py with the S3 variables an operator sets for R2, so these tests use
the production configuration, server-side encryption header included (rclone accepts it and
reports it back; it stores plain files, so the header is checked here, not the encryption).
Everything goes over real HTTP: no mocks.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import time_machine
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from clinics.audit import Actions
from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.storage import storage
from clinics.tenancy import scopes_disabled
from patients import tasks
from patients.models import Document, DocumentKind, DocumentStatus
from patients.services.documents import document_render, document_upload
from tests.factories import MembershipFactory
from tests.patients import conftest as patient_fixtures
from tests.s3server import ServerMissing, running_s3_server

# The patients app's fixtures (doctor "Anita Rao", patient "Kavya Reddy", a signed visit whose
# PDFs are rendered inline), shared rather than copied.
doctor = patient_fixtures.doctor
patient = patient_fixtures.patient
signed_visit = patient_fixtures.signed_visit

HEX32 = r"[0-9a-f]{32}"


@pytest.fixture(scope="session")
def s3_server():
    try:
        with running_s3_server() as server:
            yield server
    except ServerMissing as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"S3 storage tests cannot run in CI: {exc}")
        pytest.skip(f"S3 storage tests need a local S3 server: {exc}")


class Bucket:
    def __init__(self, server, name: str):
        self.server = server
        self.name = name

    def keys(self, prefix: str = "") -> list[str]:
        return self.server.keys(self.name, prefix)

    def get(self, key: str) -> dict:
        return self.server.get(self.name, key)

    def head(self, key: str) -> dict:
        return self.server.client().head_object(Bucket=self.name, Key=key)


@pytest.fixture
def bucket(s3_server, settings):
    """A fresh bucket per test, set as the default storage exactly as production sets it."""
    name = s3_server.create_bucket()
    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage_setting(name)}
    return Bucket(s3_server, name)


def _document(visit, kind=DocumentKind.PRESCRIPTION) -> Document:
    document = Document.objects.get(visit=visit, kind=kind)
    assert document.status == DocumentStatus.READY, document.problem
    return document


def _open_url(clinic, document) -> str:
    return reverse("document-open", args=[clinic.slug, document.pk])


def _presigned(client, clinic, document) -> str:
    response = client.get(_open_url(clinic, document))
    assert response.status_code == 302
    return response["Location"]


def _refused(response: requests.Response, pdf: bytes) -> None:
    assert response.status_code in (400, 403), response.status_code
    assert "AccessDenied" in response.text or "SignatureDoesNotMatch" in response.text
    assert b"%PDF" not in response.content
    assert pdf not in response.content


def test_production_settings_use_r2_style_options(s3_server, bucket):
    options = s3_server.storage_setting(bucket.name)["OPTIONS"]
    assert options["region_name"] == "auto"
    assert options["signature_version"] == "s3v4"
    assert options["addressing_style"] == "path"
    assert options["object_parameters"] == {"ServerSideEncryption": "AES256"}
    assert options["file_overwrite"] is False
    assert options["querystring_auth"] is True


def test_an_r2_endpoint_gets_no_server_side_encryption_header_unless_asked():
    """R2 encrypts every object at rest itself and does not list the SSE header as implemented:
    Vaidya does not send it there by default, so uploads are not refused for it."""
    from tests.s3server import production_storage_setting

    r2 = "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com"
    options = production_storage_setting(endpoint_url=r2, access_key="k", secret_key="s")["OPTIONS"]
    assert options["object_parameters"] == {}
    assert options["region_name"] == "auto" and options["endpoint_url"] == r2
    forced = production_storage_setting(
        endpoint_url=r2, access_key="k", secret_key="s", extra={"S3_SERVER_SIDE_ENCRYPTION": "1"}
    )["OPTIONS"]
    assert forced["object_parameters"] == {"ServerSideEncryption": "AES256"}


def test_signed_visit_pdf_lands_in_bucket_under_a_key_without_personal_data(
    bucket, scoped, signed_visit
):
    document = _document(signed_visit)
    key = document.file.name
    assert re.fullmatch(rf"clinics/{scoped.pk}/prescription/{HEX32}\.pdf", key)
    for personal in ("Kavya", "Reddy", "kavya", "reddy", "9845012345", "91123456789012"):
        assert personal not in key
    # Everything the signing wrote to the bucket has the same shape: the prescription and the
    # visit summary, nothing named after the patient.
    keys = bucket.keys()
    assert key in keys
    assert len(keys) == 2
    for stored in keys:
        # The clinic's id, the kind and a random name: no room for a name, number or phone.
        assert re.fullmatch(
            rf"clinics/{scoped.pk}/(prescription|visit_summary)/{HEX32}\.pdf", stored
        )


def test_stored_bytes_are_the_document_that_was_recorded(bucket, signed_visit):
    document = _document(signed_visit)
    stored = bucket.get(document.file.name)
    data = stored["Body"]
    assert data.startswith(b"%PDF-")
    assert hashlib.sha256(data).hexdigest() == document.sha256
    assert len(data) == document.size
    assert stored["ContentType"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "Kavya Reddy" in text
    assert "AMOXICILLIN" in text


def test_objects_are_written_with_the_server_side_encryption_header(bucket, signed_visit):
    document = _document(signed_visit)
    assert bucket.head(document.file.name)["ServerSideEncryption"] == "AES256"


def test_open_redirects_to_a_presigned_url_that_serves_the_same_pdf(
    bucket, scoped, doctor, signed_visit, client_for, settings
):
    document = _document(signed_visit)
    location = _presigned(client_for(doctor), scoped, document)
    url = urlsplit(location)
    query = parse_qs(url.query)
    assert location.startswith(f"{bucket.server.endpoint_url}/{bucket.name}/")
    assert url.path == f"/{bucket.name}/{document.file.name}"
    assert query["X-Amz-Expires"] == [str(settings.DOCUMENT_LINK_SECONDS)]
    assert query["X-Amz-Credential"][0].split("/")[2] == "auto"
    for personal in ("Kavya", "Reddy", "9845012345"):
        assert personal not in location

    response = requests.get(location, timeout=10)
    assert response.status_code == 200
    assert response.content == bucket.get(document.file.name)["Body"]
    assert hashlib.sha256(response.content).hexdigest() == document.sha256
    day = timezone.localtime(document.created_at, scoped.tzinfo).date().isoformat()
    assert response.headers["Content-Disposition"] == (
        f'inline; filename="prescription-{day}-{document.pk}.pdf"'
    )
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    # The opening is on the audit trail.
    assert AuditEvent.objects.filter(
        action=Actions.DOCUMENT_DOWNLOADED, target_id=str(document.pk)
    ).exists()


def test_a_presigned_url_is_refused_once_it_has_expired(
    bucket, scoped, doctor, signed_visit, client_for, settings
):
    document = _document(signed_visit)
    pdf = bucket.get(document.file.name)["Body"]
    settings.DOCUMENT_LINK_SECONDS = 1
    location = _presigned(client_for(doctor), scoped, document)
    assert parse_qs(urlsplit(location).query)["X-Amz-Expires"] == ["1"]
    time.sleep(2.2)  # the server checks against its real clock
    _refused(requests.get(location, timeout=10), pdf)


def test_a_link_handed_out_longer_ago_than_the_link_lifetime_is_refused(
    bucket, scoped, doctor, signed_visit, client_for, settings
):
    document = _document(signed_visit)
    pdf = bucket.get(document.file.name)["Body"]
    client = client_for(doctor)
    with time_machine.travel(
        timezone.now() - timedelta(seconds=settings.DOCUMENT_LINK_SECONDS + 60), tick=True
    ):
        location = _presigned(client, scoped, document)
    _refused(requests.get(location, timeout=10), pdf)


def _tamper_signature(location: str) -> str:
    signature = parse_qs(urlsplit(location).query)["X-Amz-Signature"][0]
    changed = ("0" if signature[0] != "0" else "1") + signature[1:]
    return location.replace(f"X-Amz-Signature={signature}", f"X-Amz-Signature={changed}")


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(_tamper_signature, id="one character of the signature"),
        pytest.param(
            lambda url: re.sub(r"X-Amz-Expires=\d+", "X-Amz-Expires=604800", url),
            id="a longer expiry",
        ),
        pytest.param(
            lambda url: url.replace("inline%3B", "attachment%3B"), id="another disposition"
        ),
    ],
)
def test_a_tampered_presigned_url_is_refused_with_403(
    bucket, scoped, doctor, signed_visit, client_for, tamper
):
    document = _document(signed_visit)
    pdf = bucket.get(document.file.name)["Body"]
    location = _presigned(client_for(doctor), scoped, document)
    tampered = tamper(location)
    assert tampered != location
    response = requests.get(tampered, timeout=10)
    assert response.status_code == 403
    assert "SignatureDoesNotMatch" in response.text
    _refused(response, pdf)


def test_a_signature_copied_onto_another_key_is_refused(
    bucket, scoped, doctor, signed_visit, client_for
):
    prescription = _document(signed_visit)
    summary = _document(signed_visit, DocumentKind.VISIT_SUMMARY)
    summary_pdf = bucket.get(summary.file.name)["Body"]
    location = _presigned(client_for(doctor), scoped, prescription)
    copied = location.replace(prescription.file.name, summary.file.name)
    assert summary.file.name in copied
    response = requests.get(copied, timeout=10)
    assert response.status_code == 403
    _refused(response, summary_pdf)


def test_an_unsigned_object_url_is_refused(bucket, signed_visit):
    document = _document(signed_visit)
    pdf = bucket.get(document.file.name)["Body"]
    url = f"{bucket.server.endpoint_url}/{bucket.name}/{document.file.name}"
    response = requests.get(url, timeout=10)
    assert response.status_code in (400, 403)
    assert pdf not in response.content


def test_another_clinics_document_is_404_and_no_url_is_handed_out(
    bucket, scoped, signed_visit, other_clinic, client_for
):
    document = _document(signed_visit)
    outsider = client_for(MembershipFactory(clinic=other_clinic, role=Role.DOCTOR))
    for slug in (other_clinic.slug, scoped.slug):
        response = outsider.get(reverse("document-open", args=[slug, document.pk]))
        assert response.status_code == 404
        assert "Location" not in response
        body = response.content.decode()
        assert bucket.server.endpoint_url not in body
        assert "X-Amz-Signature" not in body
        assert document.file.name not in body
    with scopes_disabled():
        assert not AuditEvent.objects.filter(
            action=Actions.DOCUMENT_DOWNLOADED, target_id=str(document.pk)
        ).exists()


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_upload_is_stored_in_the_bucket_under_its_kind(
    bucket, scoped, doctor, patient, client_for
):
    data = _png()
    document = document_upload(
        patient=patient,
        kind=DocumentKind.LAB_REPORT,
        title="CBC report",
        data=data,
        original_name="Kavya Reddy CBC 9845012345.png",
        actor=doctor.user,
        actor_membership=doctor,
    )
    key = document.file.name
    assert re.fullmatch(rf"clinics/{scoped.pk}/lab_report/{HEX32}\.png", key)
    assert "Kavya" not in key
    assert "9845012345" not in key
    assert bucket.keys() == [key]
    stored = bucket.get(key)
    assert stored["Body"] == data
    assert hashlib.sha256(stored["Body"]).hexdigest() == document.sha256
    assert stored["ServerSideEncryption"] == "AES256"
    # And staff open it through the same presigned route.
    location = _presigned(client_for(doctor), scoped, document)
    response = requests.get(location, timeout=10)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["Content-Type"] == "image/png"


def test_a_frozen_document_is_never_overwritten(
    bucket, scoped, signed_visit, django_capture_on_commit_callbacks
):
    document = _document(signed_visit)
    key = document.file.name
    keys_before = bucket.keys()
    head_before = bucket.head(key)
    bytes_before = bucket.get(key)["Body"]

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.render_document(document.pk) == DocumentStatus.READY
        again = document_render(document_id=document.pk)

    assert again.file.name == key
    document.refresh_from_db()
    assert document.file.name == key
    assert bucket.keys() == keys_before
    head_after = bucket.head(key)
    assert head_after["ETag"] == head_before["ETag"]
    assert head_after["LastModified"] == head_before["LastModified"]
    assert bucket.get(key)["Body"] == bytes_before

    # Even a direct save under a stored key does not replace it (file_overwrite is off).
    from django.core.files.base import ContentFile

    stored_as = storage().save(key, ContentFile(b"%PDF-1.7 not the prescription"))
    assert stored_as != key
    assert bucket.get(key)["Body"] == bytes_before
