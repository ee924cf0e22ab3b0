"""Documents on the embedded default storage: local files encrypted at rest.

A copied disk (or a backup of the media folder) must not give away a patient's records, and
changing the encryption key must not lose them. These tests read the files on disk directly,
the way someone holding the disk would.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from clinics import crypto
from clinics.crypto import DecryptionFailed
from clinics.storage import MAGIC, EncryptedFileSystemStorage, storage
from patients.models import Document, DocumentKind, DocumentStatus
from patients.services.documents import document_upload
from tests.patients import conftest as patient_fixtures

# The patients app's fixtures (patient "Kavya Reddy", a signed visit rendered inline).
doctor = patient_fixtures.doctor
patient = patient_fixtures.patient
signed_visit = patient_fixtures.signed_visit

NAME = "Kavya Reddy"


def _pdf_with_text(text: str) -> bytes:
    """A small, valid one-page PDF whose content stream holds `text` in plain."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _on_disk(name: str) -> bytes:
    return Path(storage().path(name)).read_bytes()


def test_default_storage_is_the_encrypted_local_storage():
    assert isinstance(storage(), EncryptedFileSystemStorage)


def test_a_generated_pdf_is_encrypted_on_disk_and_opens_through_storage(
    signed_visit, doctor, client_for, scoped
):
    document = Document.objects.get(visit=signed_visit, kind=DocumentKind.PRESCRIPTION)
    assert document.status == DocumentStatus.READY
    raw = _on_disk(document.file.name)
    assert raw.startswith(MAGIC)
    assert b"%PDF" not in raw
    assert NAME.encode() not in raw
    assert b"AMOXICILLIN" not in raw

    with storage().open(document.file.name, "rb") as fh:
        plain = fh.read()
    assert plain.startswith(b"%PDF-")
    assert hashlib.sha256(plain).hexdigest() == document.sha256
    assert storage().size(document.file.name) == document.size == len(plain)

    # Staff get the plain PDF through the open view, streamed (no URL to the file).
    response = client_for(doctor).get(reverse("document-open", args=[scoped.slug, document.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response) == plain


def test_an_uploaded_report_naming_the_patient_is_unreadable_on_disk(patient, doctor):
    data = _pdf_with_text(f"Patient: {NAME}  Haemoglobin 9.1 g/dL")
    assert NAME.encode() in data  # the plain file does name her
    document = document_upload(
        patient=patient,
        kind=DocumentKind.LAB_REPORT,
        title="CBC",
        data=data,
        original_name="report.pdf",
        actor=doctor.user,
        actor_membership=doctor,
    )
    raw = _on_disk(document.file.name)
    assert NAME.encode() not in raw
    assert b"Haemoglobin" not in raw
    assert b"%PDF" not in raw
    with storage().open(document.file.name) as fh:
        assert fh.read() == data


def test_files_survive_a_key_rotation(settings):
    old_key, new_key = crypto.generate_key(), crypto.generate_key()
    data = _pdf_with_text(NAME)
    settings.ENCRYPTION_KEYS = [old_key]
    name = storage().save("clinics/1/lab_report/rotation-test.pdf", ContentFile(data))
    written_with_old = _on_disk(name)

    # A new key is put first; the old one stays until rotation is done.
    settings.ENCRYPTION_KEYS = [new_key, old_key]
    with storage().open(name) as fh:
        assert fh.read() == data
    backend = storage()
    assert isinstance(backend, EncryptedFileSystemStorage)
    assert backend.rotate_all() == (1, 0)
    assert _on_disk(name) != written_with_old
    assert backend.rotate_all() == (0, 1)  # nothing left to do

    # The old key can now be retired.
    settings.ENCRYPTION_KEYS = [new_key]
    with storage().open(name) as fh:
        assert fh.read() == data

    # And the file really moved to the new key: the old key alone no longer opens it.
    settings.ENCRYPTION_KEYS = [old_key]
    with pytest.raises(DecryptionFailed):
        storage().open(name)


def test_a_wrong_key_list_fails_loudly_instead_of_returning_garbage(settings):
    data = _pdf_with_text(NAME)
    name = storage().save("clinics/1/lab_report/wrong-key-test.pdf", ContentFile(data))
    settings.ENCRYPTION_KEYS = [crypto.generate_key(), crypto.generate_key()]
    with pytest.raises(DecryptionFailed) as caught:
        storage().open(name)
    with pytest.raises(DecryptionFailed):
        storage().size(name)
    # The message names no key.
    for key in settings.ENCRYPTION_KEYS:
        assert key not in str(caught.value)


def test_a_file_stored_before_encryption_is_read_and_then_encrypted_by_rotation():
    backend = storage()
    plain = _pdf_with_text(NAME)
    path = Path(backend.path("clinics/1/scan/legacy.pdf"))
    path.parent.mkdir(parents=True)
    path.write_bytes(plain)
    with backend.open("clinics/1/scan/legacy.pdf") as fh:
        assert fh.read() == plain
    assert backend.rotate_all() == (1, 0)
    raw = path.read_bytes()
    assert raw.startswith(MAGIC)
    assert NAME.encode() not in raw
    with backend.open("clinics/1/scan/legacy.pdf") as fh:
        assert fh.read() == plain
