"""The secure document link in "your document is ready" messages (/d/<token>/)."""

from __future__ import annotations

import base64
import time
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client

from clinics.audit import Actions
from clinics.models import AuditEvent
from clinics.roles import Role
from messaging.links import SALT, document_link
from patients.models import DocumentKind
from patients.services.documents import document_upload
from tests.clinics.test_storage_local import _pdf_with_text
from tests.factories import MembershipFactory, PatientFactory

NAME = "Kavya Raghunathan"
PHONE = "+91 98450 12345"


@pytest.fixture
def document(scoped):
    doctor = MembershipFactory(clinic=scoped, role=Role.DOCTOR)
    patient = PatientFactory(clinic=scoped, full_name=NAME, phone=PHONE)
    return document_upload(
        patient=patient,
        kind=DocumentKind.LAB_REPORT,
        title="CBC report",
        data=_pdf_with_text("Haemoglobin 12.1 g/dL"),
        original_name=f"{NAME}.pdf",
        actor=doctor.user,
        actor_membership=doctor,
    )


def _path(url: str) -> str:
    return urlsplit(url).path


def test_link_is_absolute_and_names_no_personal_data(document, settings):
    settings.SITE_URL = "https://clinic.example.in"
    url = document_link(document)
    assert url.startswith("https://clinic.example.in/d/")
    token = url.rstrip("/").rsplit("/", 1)[1]
    payload = token.split(":")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert set(signing.loads(token, salt=SALT)) == {"d", "n"}
    for personal in (NAME, "Kavya", "98450", "12345", "CBC"):
        assert personal not in url and personal not in decoded
    assert document_link(document) != url  # a fresh nonce each time


def _verified_browser(document) -> Client:
    """A browser that typed the WhatsApp code back (the code itself: test_link_verification)."""
    web = Client()
    session = web.session
    session[f"document-link:{document.pk}"] = time.time() + 600
    session.save()
    return web


def test_valid_link_downloads_the_file_and_is_audited(document):
    response = Client().get(_path(document_link(document)))
    assert b"Send me a code on WhatsApp" in response.content  # the link alone is not enough
    assert not AuditEvent.objects.filter(action=Actions.DOCUMENT_DOWNLOADED).exists()
    response = _verified_browser(document).get(_path(document_link(document)))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert (
        b"".join(response.streaming_content if response.streaming else [response.content])[:5]
        == b"%PDF-"
    )
    assert NAME not in response["Content-Disposition"]
    assert response["Cache-Control"].startswith("private")
    event = AuditEvent.objects.get(action=Actions.DOCUMENT_DOWNLOADED)
    assert event.actor_id is None and event.api_key_id is None
    assert event.actor_label == "patient (WhatsApp link, code verified)"
    assert event.patient_id == document.patient_id
    assert event.data["via"] == "whatsapp link"


def test_expired_link_is_refused_with_410(document, settings, monkeypatch):
    settings.DOCUMENT_SHARE_LINK_HOURS = 72
    real = time.time
    with monkeypatch.context() as patched:
        # Made 73 hours ago.
        patched.setattr(time, "time", lambda: real() - 73 * 3600)
        url = document_link(document)
    response = Client().get(_path(url))
    assert response.status_code == 410
    assert b"This link has expired" in response.content
    assert not AuditEvent.objects.filter(action=Actions.DOCUMENT_DOWNLOADED).exists()

    with monkeypatch.context() as patched:
        patched.setattr(time, "time", lambda: real() - 71 * 3600)
        url = document_link(document)
    assert _verified_browser(document).get(_path(url))["Content-Type"] == "application/pdf"


@pytest.mark.parametrize("tamper", ["payload", "signature", "garbage", "other_salt"])
def test_tampered_link_is_refused_with_404(document, tamper):
    url = document_link(document)
    token = url.rstrip("/").rsplit("/", 1)[1]
    if tamper == "payload":
        forged = signing.dumps({"d": document.pk + 1, "n": "x"}, salt=SALT).split(":")[0]
        token = ":".join([forged, *token.split(":")[1:]])
    elif tamper == "signature":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif tamper == "garbage":
        token = "not-a-token-at-all"
    else:
        token = signing.dumps({"d": document.pk, "n": "x"}, salt="something-else")
    response = Client().get(f"/d/{token}/")
    assert response.status_code == 404
    assert b"This link does not work" in response.content
    assert NAME.encode() not in response.content
    assert not AuditEvent.objects.filter(action=Actions.DOCUMENT_DOWNLOADED).exists()


def test_withdrawn_document_is_no_longer_served(document):
    from django.utils import timezone

    url = document_link(document)
    document.revoked_at = timezone.now()
    document.save(update_fields=["revoked_at"])
    response = Client().get(_path(url))
    assert response.status_code == 410
    assert b"no longer available" in response.content
