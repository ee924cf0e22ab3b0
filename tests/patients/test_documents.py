"""Documents: PDFs prepared when a visit is signed, opening them, the "preparing" status,
retrying a failed one, corrections that supersede, the public verification page, and uploads
checked by content."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from clinics.audit import Actions
from clinics.models import AuditEvent, DoctorProfile
from clinics.roles import Role
from clinics.storage import storage
from patients import services
from patients.models import Document, DocumentKind, DocumentStatus
from patients.services.documents import document_render
from patients.tasks import render_document
from tests.factories import DoctorProfileFactory, MembershipFactory, PatientFactory
from tests.patients.conftest import COMPLAINT, by

KEY = re.compile(r"^clinics/(\d+)/([a-z_]+)/[0-9a-f]{32}\.(pdf|png|jpg|webp)$")


def url(clinic, name, *args):
    return reverse(name, args=[clinic.slug, *args])


def pdf_text(document: Document) -> str:
    with document.file.open("rb") as fh:
        data = fh.read()
    assert data.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def png_bytes(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def sign_visit(clinic, doctor, patient, capture, *, items=1):
    with capture(execute=True):
        visit = services.visit_start(clinic=clinic, **by(doctor), patient=patient, doctor=doctor)
        visit = services.visit_update_notes(visit=visit, **by(doctor), chief_complaints=COMPLAINT)
        for n in range(items):
            services.prescription_item_add(
                visit=visit,
                **by(doctor),
                drug=None,
                generic_name=["AMOXICILLIN", "PARACETAMOL"][n % 2],
                strength="500 mg",
                form="capsule" if n % 2 == 0 else "tablet",
                frequency="1-0-1",
                duration_days=5,
            )
        return services.visit_sign(visit=visit, **by(doctor))


# ---------------------------------------------------------------------------------------------
# Signing a visit prepares its PDFs


def test_signing_a_visit_prepares_its_prescription_and_summary_pdfs(scoped, signed_visit):
    documents = {d.kind: d for d in Document.objects.filter(visit=signed_visit)}
    assert set(documents) == {DocumentKind.PRESCRIPTION, DocumentKind.VISIT_SUMMARY}
    prescription = documents[DocumentKind.PRESCRIPTION]
    assert prescription.status == DocumentStatus.READY
    assert prescription.content_type == "application/pdf"
    text = pdf_text(prescription)
    for expected in ("Kavya Reddy", "AMOXICILLIN", "KMC-45678", "Anita Rao", "Page 1 of 1"):
        assert expected in text, expected
    summary_text = pdf_text(documents[DocumentKind.VISIT_SUMMARY])
    assert COMPLAINT in summary_text


def test_a_devanagari_name_prints_as_devanagari(scoped, doctor, django_capture_on_commit_callbacks):
    patient = PatientFactory(clinic=scoped, full_name="कविता रेड्डी")
    visit = sign_visit(scoped, doctor, patient, django_capture_on_commit_callbacks)
    document = Document.objects.get(visit=visit, kind=DocumentKind.PRESCRIPTION)
    assert "कविता रेड्डी" in pdf_text(document)
    # Drawn with a Devanagari font (not as empty boxes in a Latin one).
    with document.file.open("rb") as fh:
        page = PdfReader(io.BytesIO(fh.read())).pages[0]
    fonts = {str(font.get_object()["/BaseFont"]) for font in page["/Resources"]["/Font"].values()}
    assert any("Noto-Sans-Devanagari" in name for name in fonts), fonts


def test_stored_documents_have_keys_without_personal_data_and_record_their_hash(
    scoped, signed_visit, patient
):
    import hashlib

    for document in Document.objects.filter(visit=signed_visit):
        match = KEY.match(document.file.name)
        assert match, document.file.name
        assert match.group(1) == str(scoped.pk) and match.group(2) == document.kind
        for personal in ("Kavya", "Reddy", patient.patient_number, "9845012345"):
            assert personal not in document.file.name
        with document.file.open("rb") as fh:
            data = fh.read()
        assert hashlib.sha256(data).hexdigest() == document.sha256
        assert len(data) == document.size


def test_local_files_are_encrypted_on_disk(scoped, signed_visit):
    document = Document.objects.get(visit=signed_visit, kind=DocumentKind.PRESCRIPTION)
    with open(storage().path(document.file.name), "rb") as fh:
        raw = fh.read()
    assert b"%PDF" not in raw and b"Kavya" not in raw
    with document.file.open("rb") as fh:
        assert fh.read().startswith(b"%PDF-")


def test_rendering_again_changes_nothing(scoped, signed_visit):
    document = Document.objects.get(visit=signed_visit, kind=DocumentKind.PRESCRIPTION)
    before = (document.file.name, document.sha256, document.ready_at)
    assert render_document(document.pk) == DocumentStatus.READY
    document_render(document_id=document.pk)
    document.refresh_from_db()
    assert (document.file.name, document.sha256, document.ready_at) == before
    assert Document.objects.filter(visit=signed_visit).count() == 2


def test_a_visit_without_medicines_gets_only_a_summary(
    scoped, doctor, patient, django_capture_on_commit_callbacks
):
    visit = sign_visit(scoped, doctor, patient, django_capture_on_commit_callbacks, items=0)
    kinds = set(Document.objects.filter(visit=visit).values_list("kind", flat=True))
    assert kinds == {DocumentKind.VISIT_SUMMARY}


def test_the_document_waits_in_preparing_until_a_worker_renders_it(scoped, doctor, patient):
    # Without running the after-commit callbacks, nothing has rendered yet.
    visit = services.visit_start(clinic=scoped, **by(doctor), patient=patient, doctor=doctor)
    visit = services.visit_update_notes(visit=visit, **by(doctor), chief_complaints=COMPLAINT)
    visit = services.visit_sign(visit=visit, **by(doctor))
    document = Document.objects.get(visit=visit)
    assert document.status == DocumentStatus.PREPARING and not document.file


# ---------------------------------------------------------------------------------------------
# Opening a document


def test_the_doctor_opens_the_pdf_and_the_access_is_audited(
    scoped, client_for, doctor, signed_visit
):
    document = Document.objects.get(visit=signed_visit, kind=DocumentKind.PRESCRIPTION)
    response = client_for(doctor).get(url(scoped, "document-open", document.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline;") and "prescription-" in disposition
    assert "Kavya" not in disposition
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.filter(action=Actions.DOCUMENT_DOWNLOADED).get()
    assert event.target_id == str(document.pk) and event.actor == doctor.user


def test_front_desk_and_billing_cannot_open_clinical_documents(
    scoped, client_for, signed_visit, front_desk
):
    billing = MembershipFactory(clinic=scoped, role=Role.BILLING)
    for document in Document.objects.filter(visit=signed_visit):
        for member in (front_desk, billing):
            response = client_for(member).get(url(scoped, "document-open", document.pk))
            assert response.status_code == 403
    assert not AuditEvent.objects.filter(action=Actions.DOCUMENT_DOWNLOADED).exists()


def test_an_assistant_opens_the_visit_summary(scoped, client_for, assistant, signed_visit):
    document = Document.objects.get(visit=signed_visit, kind=DocumentKind.VISIT_SUMMARY)
    response = client_for(assistant).get(url(scoped, "document-open", document.pk))
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")


def test_another_clinics_document_answers_404(
    scoped, other_clinic, client_for, signed_visit, member_factory
):
    document = Document.objects.get(visit=signed_visit, kind=DocumentKind.PRESCRIPTION)
    outsider = member_factory(other_clinic, Role.OWNER)
    client = client_for(outsider)
    assert client.get(url(other_clinic, "document-open", document.pk)).status_code == 404
    assert client.get(url(other_clinic, "document-status", document.pk)).status_code == 404


def test_a_document_still_preparing_is_not_handed_out(scoped, client_for, doctor, patient):
    visit = services.visit_start(clinic=scoped, **by(doctor), patient=patient, doctor=doctor)
    visit = services.visit_update_notes(visit=visit, **by(doctor), chief_complaints=COMPLAINT)
    visit = services.visit_sign(visit=visit, **by(doctor))
    document = Document.objects.get(visit=visit)
    response = client_for(doctor).get(url(scoped, "document-open", document.pk))
    assert response.status_code == 409
    assert "Preparing" in response.content.decode()


# ---------------------------------------------------------------------------------------------
# The status that turns into a download link, and retrying


def test_the_visit_page_shows_preparing_then_the_link_without_a_reload(
    scoped, client_for, doctor, patient
):
    visit = services.visit_start(clinic=scoped, **by(doctor), patient=patient, doctor=doctor)
    visit = services.visit_update_notes(visit=visit, **by(doctor), chief_complaints=COMPLAINT)
    visit = services.visit_sign(visit=visit, **by(doctor))
    document = Document.objects.get(visit=visit)
    client = client_for(doctor)
    page = client.get(url(scoped, "visit-detail", visit.pk)).content.decode()
    status_url = url(scoped, "document-status", document.pk)
    assert "Preparing visit summary" in page and f'hx-get="{status_url}"' in page

    render_document(document.pk)  # the worker finishes
    fragment = client.get(status_url, HTTP_HX_REQUEST="true").content.decode()
    assert url(scoped, "document-open", document.pk) in fragment
    assert "hx-get" not in fragment and "PDF" in fragment


def test_a_failed_document_says_why_and_can_be_retried_after_the_fix(
    scoped, client_for, patient, django_capture_on_commit_callbacks
):
    profile = DoctorProfileFactory(membership__clinic=scoped, registration_number="")
    doctor = profile.membership
    visit = sign_visit(scoped, doctor, patient, django_capture_on_commit_callbacks)
    document = Document.objects.get(visit=visit, kind=DocumentKind.PRESCRIPTION)
    assert document.status == DocumentStatus.FAILED
    assert "registration number" in document.problem
    client = client_for(doctor)
    fragment = client.get(url(scoped, "document-status", document.pk)).content.decode()
    assert "could not be prepared" in fragment and "Try again" in fragment

    DoctorProfile.objects.filter(pk=profile.pk).update(registration_number="TNMC-1234")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(scoped, "document-retry", document.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    document.refresh_from_db()
    assert document.status == DocumentStatus.READY
    assert "TNMC-1234" in pdf_text(document)


def test_an_older_signed_visit_gets_its_pdf_on_request(
    scoped, client_for, doctor, patient, django_capture_on_commit_callbacks
):
    visit = sign_visit(scoped, doctor, patient, django_capture_on_commit_callbacks)
    Document.objects.filter(visit=visit).delete()  # signed before documents existed
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(doctor).post(
            url(scoped, "visit-document", visit.pk, "prescription"), HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 200
    assert "Preparing prescription" in response.content.decode()
    document = Document.objects.get(visit=visit, kind=DocumentKind.PRESCRIPTION)
    assert document.status == DocumentStatus.READY  # the worker ran once the request committed


def test_a_draft_visit_has_no_pdf_to_request(scoped, client_for, doctor, patient):
    visit = services.visit_start(clinic=scoped, **by(doctor), patient=patient, doctor=doctor)
    response = client_for(doctor).post(
        url(scoped, "visit-document", visit.pk, "visit_summary"), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "not signed yet" in response.content.decode()
    assert not Document.objects.exists()


# ---------------------------------------------------------------------------------------------
# Corrections and the public verification page


def test_a_signed_correction_supersedes_the_earlier_pdfs(
    scoped, client, doctor, signed_visit, django_capture_on_commit_callbacks
):
    old = Document.objects.get(visit=signed_visit, kind=DocumentKind.PRESCRIPTION)
    with django_capture_on_commit_callbacks(execute=True):
        amendment = services.visit_amend(visit=signed_visit, **by(doctor), reason="Wrong dose")
        amendment = services.visit_sign(visit=amendment, **by(doctor))
    new = Document.objects.get(visit=amendment, kind=DocumentKind.PRESCRIPTION)
    old.refresh_from_db()
    assert new.supersedes == old and old.superseded_at is not None
    assert new.status == DocumentStatus.READY and new.file.name != old.file.name
    assert "version 2" in new.title
    old_page = client.get(reverse("document-verify", args=[old.verify_token])).content.decode()
    new_page = client.get(reverse("document-verify", args=[new.verify_token])).content.decode()
    assert "Superseded" in old_page and "Valid" in new_page


def test_the_verification_page_shows_no_patient_data(scoped, client, signed_visit, patient):
    document = Document.objects.get(visit=signed_visit, kind=DocumentKind.PRESCRIPTION)
    response = client.get(reverse("document-verify", args=[document.verify_token]))
    assert response.status_code == 200
    page = response.content.decode()
    for shown in ("Asha Family Clinic", "Prescription", "Anita Rao", "Valid"):
        assert shown in page, shown
    for hidden in ("Kavya", "Reddy", patient.patient_number, "98450", "AMOXICILLIN", COMPLAINT):
        assert hidden not in page, hidden
    assert response["Referrer-Policy"] == "no-referrer"


def test_the_verification_link_is_printed_on_the_document(scoped, signed_visit):
    document = Document.objects.get(visit=signed_visit, kind=DocumentKind.PRESCRIPTION)
    assert len(document.verify_token) >= 32
    text = pdf_text(document).replace("\n", "")
    assert f"/verify/{document.verify_token}/" in text


def test_an_unknown_or_guessed_token_answers_404(scoped, client, signed_visit):
    document = Document.objects.get(visit=signed_visit, kind=DocumentKind.PRESCRIPTION)
    for token in ("x" * 32, document.verify_token[:-1] + "A", "1", str(document.pk)):
        if token == document.verify_token:
            continue
        response = client.get(reverse("document-verify", args=[token]))
        assert response.status_code == 404
        assert "No document matches" in response.content.decode()


# ---------------------------------------------------------------------------------------------
# Uploads


def upload(client, clinic, patient, name, data, kind="lab_report", title=""):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        url(clinic, "patient-documents", patient.pk),
        {"kind": kind, "title": title, "file": SimpleUploadedFile(name, data)},
    )


def stored_files(clinic) -> list[str]:
    try:
        _, kinds = storage().listdir(f"clinics/{clinic.pk}")
    except FileNotFoundError:
        return []
    return kinds


def test_an_assistant_uploads_a_lab_report_kept_by_its_content(
    scoped, client_for, assistant, patient
):
    data = png_bytes()
    response = upload(client_for(assistant), scoped, patient, "IMG_2041.jpeg", data, title="CBC")
    assert response.status_code == 302
    document = Document.objects.get(patient=patient)
    assert document.content_type == "image/png"  # by content, not by the name
    assert KEY.match(document.file.name) and document.file.name.endswith(".png")
    assert document.original_name == "IMG_2041.jpeg" and document.title == "CBC"
    with document.file.open("rb") as fh:
        assert fh.read() == data
    assert AuditEvent.objects.filter(action=Actions.DOCUMENT_UPLOADED).count() == 1
    page = client_for(assistant).get(url(scoped, "patient-documents", patient.pk))
    assert "CBC" in page.content.decode()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("report.pdf", b"MZ\x90\x00" + b"\x00" * 200, "This file is a Windows program"),
        ("scan.jpg", b"\x7fELF" + b"\x00" * 200, "This file is a Linux program"),
        ("x-ray.png", b"PK\x03\x04" + b"\x00" * 200, "a ZIP archive"),
        ("empty.pdf", b"", "The file is empty"),
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "damaged"),
        ("cut.pdf", b"%PDF-1.7\n1 0 obj\n", "incomplete or damaged"),
    ],
)
def test_disguised_empty_and_damaged_files_are_refused_with_a_clear_error(
    scoped, client_for, assistant, patient, name, data, message
):
    response = upload(client_for(assistant), scoped, patient, name, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Document.objects.exists()
    assert stored_files(scoped) == []


def test_an_oversized_file_is_refused_before_it_is_stored(
    scoped, client_for, assistant, patient, settings
):
    settings.UPLOAD_MAX_MB = 1
    data = b"%PDF-1.7\n" + b"0" * (1024 * 1024 + 10) + b"\n%%EOF\n"
    response = upload(client_for(assistant), scoped, patient, "big.pdf", data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "The file is 1.0 MB; the limit is 1 MB" in body
    assert not Document.objects.exists() and stored_files(scoped) == []


def huge_png(size: tuple[int, int]) -> bytes:
    """A PNG of many pixels in a few KB: one bit a pixel, all black, compresses to nothing."""
    buffer = io.BytesIO()
    Image.new("1", size).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("size", "message"),
    [
        # Twice Pillow's own limit and more: refused without reading a pixel.
        ((10_000, 10_000), "more than 40 megapixels"),
        # Over Vaidya's limit, under Pillow's: refused from the size in the header.
        ((8_000, 6_000), "8000 x 6000 pixels (48 megapixels); the limit is 40 megapixels"),
    ],
)
def test_an_image_of_too_many_pixels_is_refused_before_it_is_decoded(
    scoped, client_for, assistant, patient, size, message
):
    data = huge_png(size)
    assert len(data) < 20 * 1024
    response = upload(client_for(assistant), scoped, patient, "scan.png", data)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and "Save or scan it at a lower resolution" in body
    assert not Document.objects.exists() and stored_files(scoped) == []


def test_the_pixel_limit_is_a_setting(scoped, client_for, assistant, patient, settings):
    settings.UPLOAD_MAX_PIXELS = 1_000_000
    client = client_for(assistant)
    refused = upload(client, scoped, patient, "scan.png", huge_png((1_200, 1_000)))
    assert refused.status_code == 400
    assert "1200 x 1000 pixels (1.2 megapixels); the limit is 1 megapixels" in (
        refused.content.decode()
    )
    accepted = upload(client, scoped, patient, "scan.png", huge_png((1_000, 1_000)))
    assert accepted.status_code == 302
    assert Document.objects.get(patient=patient).content_type == "image/png"


def test_front_desk_cannot_see_or_upload_documents(scoped, client_for, front_desk, patient):
    client = client_for(front_desk)
    assert client.get(url(scoped, "patient-documents", patient.pk)).status_code == 403
    assert upload(client, scoped, patient, "a.png", png_bytes()).status_code == 403
    assert not Document.objects.exists()


def test_an_archived_patients_record_takes_no_uploads(
    scoped, client_for, assistant, owner, patient
):
    services.patient_archive(patient=patient, actor=owner.user)
    response = upload(client_for(assistant), scoped, patient, "a.png", png_bytes())
    assert response.status_code == 400
    assert "archived" in response.content.decode()
    assert not Document.objects.exists()


# ---------------------------------------------------------------------------------------------
# Letterhead: the clinic's logo and the doctor's signature


def test_the_logo_and_signature_print_on_the_document(
    scoped, client_for, owner, doctor, patient, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    form = {
        "name": scoped.name,
        "state_code": scoped.state_code,
        "timezone": scoped.timezone,
        "logo": SimpleUploadedFile("logo.png", png_bytes((120, 60))),
    }
    response = client_for(owner).post(url(scoped, "clinic-settings"), form)
    assert response.status_code == 302
    scoped.refresh_from_db()
    assert KEY.match(scoped.logo.name) and "/logos/" in scoped.logo.name
    profile = doctor.doctor_profile
    profile.signature.save("sign.png", ContentFile(png_bytes((200, 80))))

    visit = sign_visit(scoped, doctor, patient, django_capture_on_commit_callbacks)
    document = Document.objects.get(visit=visit, kind=DocumentKind.PRESCRIPTION)
    with document.file.open("rb") as fh:
        images = PdfReader(io.BytesIO(fh.read())).pages[0].images
    sizes = [image.image.size for image in images]
    assert (120, 60) in sizes and (200, 80) in sizes  # besides the verification QR code


def test_a_logo_that_is_not_an_image_is_refused(scoped, client_for, owner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    form = {
        "name": scoped.name,
        "state_code": scoped.state_code,
        "timezone": scoped.timezone,
        "logo": SimpleUploadedFile("logo.png", b"MZ" + b"\x00" * 100),
    }
    response = client_for(owner).post(url(scoped, "clinic-settings"), form)
    assert response.status_code == 400
    scoped.refresh_from_db()
    assert not scoped.logo


def test_a_logo_of_too_many_pixels_is_refused_naming_the_limit(scoped, client_for, owner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    form = {
        "name": scoped.name,
        "state_code": scoped.state_code,
        "timezone": scoped.timezone,
        "logo": SimpleUploadedFile("logo.png", huge_png((10_000, 10_000))),
    }
    response = client_for(owner).post(url(scoped, "clinic-settings"), form)
    assert response.status_code == 400
    assert "The logo has more than 40 megapixels" in response.content.decode()
    scoped.refresh_from_db()
    assert not scoped.logo


def test_uploads_appear_on_the_patient_timeline_for_clinical_roles_only(
    scoped, client_for, assistant, front_desk, patient
):
    upload(client_for(assistant), scoped, patient, "cbc.png", png_bytes(), title="CBC 12 Nov")
    document = Document.objects.get(patient=patient)
    page = client_for(assistant).get(url(scoped, "patient-detail", patient.pk)).content.decode()
    assert "CBC 12 Nov" in page and url(scoped, "document-open", document.pk) in page
    page = client_for(front_desk).get(url(scoped, "patient-detail", patient.pk)).content.decode()
    assert "CBC 12 Nov" not in page
