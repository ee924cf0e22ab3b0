"""Consent forms: the clinic's forms and their versions, signing one on the tablet page (with a
drawn PNG signature checked by its bytes), the frozen PDF, withdrawing, and who may do what."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse
from PIL import Image, ImageDraw
from pypdf import PdfReader

from clinics.audit import Actions
from clinics.errors import ValidationFailed
from clinics.models import AuditEvent
from clinics.roles import Role
from clinics.storage import storage
from clinics.tenancy import clinic_scope
from patients import services
from patients.models import (
    ConsentTemplate,
    ConsentTemplateVersion,
    Document,
    DocumentKind,
    DocumentStatus,
    SignedConsent,
    SignerKind,
)
from patients.selectors.consent import current_version
from tests.factories import GuardianFactory, MembershipFactory, PatientFactory
from tests.patients.conftest import by

SIGNATURE_KEY = re.compile(r"^clinics/(\d+)/consent-signatures/[0-9a-f]{32}\.png$")
BODY_V1 = (
    "The doctor has explained the procedure, its risks and the other choices I have.\n\n"
    "I agree to the procedure written below and to the local anaesthetic it needs."
)
BODY_V2 = (
    "The doctor has explained the procedure, its risks, its costs and the other choices I "
    "have.\n\nI agree to the procedure written below and to the local anaesthetic it needs."
)
DETAILS = "Excision of a sebaceous cyst, left forearm"


def url(clinic, name, *args):
    return reverse(name, args=[clinic.slug, *args])


def signature_png(size=(600, 200), *, ink=True) -> bytes:
    """A signature as signature_pad sends it: dark strokes on a transparent pad."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    if ink:
        points = [(40, 150), (120, 60), (200, 140), (300, 50), (420, 150), (540, 80)]
        ImageDraw.Draw(image).line(points, fill=(17, 17, 17, 255), width=6)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def pdf_text(document: Document) -> str:
    with storage().open(document.file.name, "rb") as fh:
        data = fh.read()
    assert data.startswith(b"%PDF-")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def stored_files(settings) -> list[Path]:
    root = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def form(scoped, doctor):
    return services.consent_template_save(
        clinic=scoped,
        **by(doctor),
        name="Minor surgery",
        kind="procedure",
        title="Consent for minor surgery",
        body=BODY_V1,
        language="en",
    )


@pytest.fixture
def minor(scoped):
    child = PatientFactory(clinic=scoped, full_name="Aarav Sharma", date_of_birth=date(2016, 3, 1))
    GuardianFactory(patient=child, name="Priya Sharma", relation="mother")
    return child


def sign_data(form_template, **overrides):
    data = {
        "template_version": current_version(form_template).pk,
        "details": DETAILS,
        "signer_kind": "patient",
        "signer_name": "",
        "signer_relation": "",
        "signature": data_url(signature_png()),
    }
    data.update(overrides)
    return data


def sign_directly(patient, form_template, member, **overrides):
    """A consent signed through the service (its PDF is not rendered: no commit in tests)."""
    values = {
        "details": DETAILS,
        "signer_kind": SignerKind.PATIENT,
        "signer_name": "",
        "signer_relation": "",
        "signature_data_url": data_url(signature_png()),
    }
    values.update(overrides)
    return services.consent_sign(
        patient=patient, template_version=current_version(form_template), **values, **by(member)
    )


# ---------------------------------------------------------------------------------------------
# Signing end to end


def test_an_assistant_signs_a_consent_on_the_tablet_page_and_gets_its_pdf(
    scoped, form, patient, assistant, client_for, django_capture_on_commit_callbacks
):
    client = client_for(assistant)
    page = client.get(url(scoped, "consent-sign", patient.pk) + f"?template={form.pk}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Consent for minor surgery" in text and "its risks and the other choices" in text
    assert "version 1" in text
    assert "vaidya-signature.js" in text and "signature_pad.umd.min.js" in text
    assert "<script>" not in text  # the CSP allows no inline script

    png = signature_png()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url(scoped, "consent-sign", patient.pk),
            sign_data(form, signature=data_url(png)),
        )
    consent = SignedConsent.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == url(scoped, "consent-detail", consent.pk)

    assert consent.template_version.version == 1
    assert consent.signer_kind == SignerKind.PATIENT and consent.signer_name == "Kavya Reddy"
    assert consent.details == DETAILS
    assert consent.witness == assistant
    # The signature is stored under a key without personal data, exactly as drawn.
    assert SIGNATURE_KEY.match(consent.signature.name)
    assert "kavya" not in consent.signature.name.lower()
    with storage().open(consent.signature.name, "rb") as fh:
        stored = fh.read()
    assert stored == png
    assert consent.signature_sha256 == hashlib.sha256(png).hexdigest()

    document = consent.document
    assert document.kind == DocumentKind.CONSENT and document.status == DocumentStatus.READY
    assert document.patient_id == patient.pk
    pdf = pdf_text(document)
    for expected in (
        "Consent for minor surgery",
        "its risks and the other choices I have",
        "to the local anaesthetic it needs",
        "form version 1",
        "Kavya Reddy",
        patient.patient_number,
        DETAILS,
        "Signed by Kavya Reddy, the patient",
        f"Witness {assistant.user.full_name}, Assistant (nurse)",
        "Page 1 of 1",
    ):
        assert expected in pdf, expected
    assert AuditEvent.objects.filter(
        action=Actions.CONSENT_SIGNED, target_id=str(consent.pk), patient_id=patient.pk
    ).exists()

    detail = client.get(response["Location"]).content.decode()
    assert "Consent signed by Kavya Reddy (the patient)" in detail
    assert reverse("document-open", args=[scoped.slug, document.pk]) in detail
    assert 'src="data:image/png;base64,' in detail  # the signature, shown to staff
    listing = client.get(url(scoped, "patient-consents", patient.pk)).content.decode()
    assert "Consent for minor surgery" in listing and consent.witness.user.full_name in listing


def test_the_patient_page_links_to_consent_forms_for_clinical_staff_only(
    scoped, patient, doctor, front_desk, client_for
):
    link = url(scoped, "patient-consents", patient.pk)
    assert (
        link in client_for(doctor).get(url(scoped, "patient-detail", patient.pk)).content.decode()
    )
    page = client_for(front_desk).get(url(scoped, "patient-detail", patient.pk)).content.decode()
    assert link not in page


# ---------------------------------------------------------------------------------------------
# What the server refuses, with nothing stored


def _jpeg_signature() -> bytes:
    image = Image.new("RGB", (600, 200), (255, 255, 255))
    ImageDraw.Draw(image).line([(40, 150), (300, 50), (540, 80)], fill=(0, 0, 0), width=6)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return buffer.getvalue()


def _noise_png(size=(600, 400)) -> bytes:
    image = Image.frombytes("RGBA", size, os.urandom(size[0] * size[1] * 4))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        ("", "Ask the signer to sign in the box before saving."),
        (data_url(signature_png(ink=False)), "The signature pad is empty."),
        (data_url(_jpeg_signature()), "The signature is not a PNG image."),
        (
            data_url(b"\x89PNG\r\n\x1a\n" + os.urandom(3000)),
            "The signature image is damaged.",
        ),
        (data_url(_noise_png()), "The signature is larger than 512 KB."),
        (data_url(signature_png(size=(30, 20))), "is not one Vaidya expects"),
        ("data:image/png;base64,not base64 at all!", "The signature could not be read."),
        ("just some text", "did not arrive as a drawing"),
    ],
    ids=["missing", "blank", "jpeg", "png-prefix-junk", "oversized", "tiny", "bad-base64", "text"],
)
def test_a_signature_that_is_not_a_real_drawn_png_is_refused_and_nothing_is_stored(
    scoped, form, patient, assistant, client_for, settings, signature, message
):
    files_before = stored_files(settings)
    response = client_for(assistant).post(
        url(scoped, "consent-sign", patient.pk), sign_data(form, signature=signature)
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert message in text
    assert "Nothing was saved yet." in text
    assert "Consent for minor surgery" in text  # the form stays on screen to sign again
    assert not SignedConsent.objects.exists()
    assert not Document.objects.exists()
    assert stored_files(settings) == files_before


def test_the_oversized_signature_really_was_over_the_limit():
    assert len(_noise_png()) > 512 * 1024


def test_a_signature_stored_before_the_record_fails_is_deleted_again(
    scoped, form, patient, assistant, settings, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("patients.services.consent.document_prepare", broken)
    with pytest.raises(RuntimeError):
        sign_directly(patient, form, assistant)
    assert not SignedConsent.objects.exists()
    assert stored_files(settings) == []


# ---------------------------------------------------------------------------------------------
# Minors


def test_a_minor_cannot_sign_alone_and_a_guardian_signs_instead(
    scoped, form, minor, assistant, client_for
):
    client = client_for(assistant)
    page = client.get(url(scoped, "consent-sign", minor.pk) + f"?template={form.pk}")
    text = page.content.decode()
    # Prefilled from the guardian on record.
    assert 'value="Priya Sharma"' in text
    assert re.search(r'value="guardian"[^>]*checked', text)

    refused = client.post(url(scoped, "consent-sign", minor.pk), sign_data(form))
    assert refused.status_code == 400
    assert "Aarav Sharma is under 18: a parent or guardian must sign." in refused.content.decode()

    nameless = client.post(
        url(scoped, "consent-sign", minor.pk),
        sign_data(form, signer_kind="guardian", signer_relation="mother"),
    )
    assert nameless.status_code == 400
    assert "Write the name of the parent or guardian who signs." in nameless.content.decode()
    assert not SignedConsent.objects.exists()

    signed = client.post(
        url(scoped, "consent-sign", minor.pk),
        sign_data(
            form, signer_kind="guardian", signer_name="Priya Sharma", signer_relation="mother"
        ),
    )
    assert signed.status_code == 302
    consent = SignedConsent.objects.get(patient=minor)
    assert consent.signer_kind == SignerKind.GUARDIAN
    assert (consent.signer_name, consent.signer_relation) == ("Priya Sharma", "mother")
    assert "Priya Sharma (Mother)" in client.get(signed["Location"]).content.decode()


def test_the_printed_consent_of_a_minor_names_the_guardian_who_signed(
    scoped, form, minor, doctor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        consent = sign_directly(
            minor,
            form,
            doctor,
            signer_kind=SignerKind.GUARDIAN,
            signer_name="Priya Sharma",
            signer_relation="mother",
        )
    consent.document.refresh_from_db()
    pdf = pdf_text(consent.document)
    assert "Signed by Priya Sharma, mother of the patient" in pdf
    assert "Aarav Sharma" in pdf and "Anita Rao, Doctor" in pdf


# ---------------------------------------------------------------------------------------------
# Versions


def test_editing_the_text_makes_version_2_and_earlier_consents_keep_version_1(
    scoped, form, patient, doctor, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = sign_directly(patient, form, doctor)
    client = client_for(doctor)
    edit = url(scoped, "consent-template-edit", form.pk)
    same = client.post(
        edit,
        {
            "name": "Minor surgery",
            "kind": "procedure",
            "title": "Consent for minor surgery",
            "body": BODY_V1.replace("\n", "\r\n") + "\r\n",  # as a browser sends it
            "language": "en",
        },
    )
    assert same.status_code == 302
    assert ConsentTemplateVersion.objects.filter(template=form).count() == 1
    assert "The text did not change." in client.get(edit).content.decode()

    changed = client.post(
        edit,
        {
            "name": "Minor surgery",
            "kind": "procedure",
            "title": "Consent for minor surgery",
            "body": BODY_V2,
            "language": "en",
        },
    )
    assert changed.status_code == 302
    assert list(
        ConsentTemplateVersion.objects.filter(template=form).values_list("version", flat=True)
    ) == [2, 1]
    assert "Saved Minor surgery as version 2." in client.get(edit).content.decode()

    # The consent signed earlier still shows, and prints, what was read then.
    detail = client.get(url(scoped, "consent-detail", first.pk)).content.decode()
    assert "its risks and the other choices" in detail and "its costs" not in detail
    assert "the form is now at version 2" in detail
    first.document.refresh_from_db()
    assert "its costs" not in pdf_text(first.document)

    # New consents are signed on version 2, and a page still showing version 1 is refused.
    sign_page = client.get(url(scoped, "consent-sign", patient.pk) + f"?template={form.pk}")
    assert "its costs" in sign_page.content.decode()
    stale = client.post(
        url(scoped, "consent-sign", patient.pk),
        sign_data(form, template_version=first.template_version_id),
    )
    assert stale.status_code == 400
    assert "The text of this form was changed after it was opened." in stale.content.decode()
    assert SignedConsent.objects.count() == 1
    second = sign_directly(patient, form, doctor)
    assert second.template_version.version == 2


def test_template_rules_are_explained(scoped, form, doctor):
    with pytest.raises(ValidationFailed) as taken:
        services.consent_template_save(
            clinic=scoped,
            **by(doctor),
            name="minor SURGERY",
            kind="procedure",
            title="Another",
            body="Text",
        )
    assert taken.value.errors["name"] == ["Another consent form already has this name."]
    with pytest.raises(ValidationFailed) as empty:
        services.consent_template_save(
            clinic=scoped,
            **by(doctor),
            name="",
            kind="nonsense",
            title="",
            body="  ",
            language="xx",
        )
    assert set(empty.value.errors) == {"name", "kind", "title", "body", "language"}


def test_a_deactivated_form_cannot_be_signed_until_it_is_used_again(
    scoped, form, patient, doctor, assistant, client_for
):
    doctor_client, assistant_client = client_for(doctor), client_for(assistant)
    response = doctor_client.post(url(scoped, "consent-template-deactivate", form.pk))
    assert response.status_code == 302
    form.refresh_from_db()
    assert not form.is_active
    assert AuditEvent.objects.filter(action=Actions.CONSENT_TEMPLATE_DEACTIVATED).exists()

    sign_url = url(scoped, "consent-sign", patient.pk)
    choices = assistant_client.get(sign_url).content.decode()
    assert f"?template={form.pk}" not in choices
    chosen = assistant_client.get(sign_url + f"?template={form.pk}").content.decode()
    assert "Minor surgery is no longer in use." in chosen and "data-signature-pad" not in chosen
    refused = assistant_client.post(sign_url, sign_data(form))
    assert refused.status_code == 400
    assert "This consent form is no longer in use." in refused.content.decode()
    assert not SignedConsent.objects.exists()

    doctor_client.post(url(scoped, "consent-template-reactivate", form.pk))
    assert assistant_client.post(sign_url, sign_data(form)).status_code == 302


def test_the_standard_forms_can_be_added_once(scoped, doctor, client_for):
    client = client_for(doctor)
    assert "Add the standard forms" in client.get(url(scoped, "consent-templates")).content.decode()
    client.post(url(scoped, "consent-templates-standard"))
    names = set(ConsentTemplate.objects.values_list("name", flat=True))
    assert names == {"Minor procedure", "Clinical photographs", "Teleconsultation"}
    listing = client.get(url(scoped, "consent-templates")).content.decode()
    assert "Add the standard forms" not in listing
    client.post(url(scoped, "consent-templates-standard"))
    assert ConsentTemplate.objects.count() == 3


def test_a_form_is_created_from_its_page(scoped, doctor, client_for):
    client = client_for(doctor)
    response = client.post(
        url(scoped, "consent-template-create"),
        {
            "name": "Photographs",
            "kind": "photography",
            "title": "ಫೋಟೋ ಒಪ್ಪಿಗೆ",
            "body": "Line one.\n\nLine two.",
            "language": "kn",
        },
    )
    template = ConsentTemplate.objects.get(name="Photographs")
    assert response["Location"] == url(scoped, "consent-template-edit", template.pk)
    version = current_version(template)
    assert (version.version, version.language, version.created_by) == (1, "kn", doctor.user)
    empty = client.post(url(scoped, "consent-template-create"), {"name": "X"})
    assert empty.status_code == 400


# ---------------------------------------------------------------------------------------------
# Withdrawing


def test_withdrawing_a_consent_revokes_its_pdf_on_the_verification_page(
    scoped, form, patient, assistant, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        consent = sign_directly(patient, form, assistant)
    token = consent.document.verify_token
    client = client_for(assistant)
    verify = client.get(reverse("document-verify", args=[token])).content.decode()
    assert "Valid" in verify and "Witnessed by" in verify and "Kavya" not in verify

    withdraw = url(scoped, "consent-withdraw", consent.pk)
    no_reason = client.post(withdraw, {"reason": "  "})
    assert no_reason.status_code == 400
    assert "Write why, or in whose words, consent was withdrawn." in no_reason.content.decode()

    response = client.post(withdraw, {"reason": "Patient changed her mind at the desk"})
    assert response.status_code == 302
    consent.refresh_from_db()
    consent.document.refresh_from_db()
    assert consent.withdrawn_at is not None
    assert consent.withdrawn_reason == "Patient changed her mind at the desk"
    assert consent.document.revoked_at == consent.withdrawn_at
    assert AuditEvent.objects.filter(
        action=Actions.CONSENT_WITHDRAWN, target_id=str(consent.pk)
    ).exists()

    detail = client.get(url(scoped, "consent-detail", consent.pk)).content.decode()
    assert "Consent withdrawn on" in detail and "Patient changed her mind at the desk" in detail
    assert "Record withdrawal" not in detail
    verify = client.get(reverse("document-verify", args=[token])).content.decode()
    assert "Revoked" in verify and "no longer valid" in verify

    again = client.post(withdraw, {"reason": "Twice"})
    assert again.status_code == 400
    assert "This consent was already withdrawn." in again.content.decode()


# ---------------------------------------------------------------------------------------------
# Who may do what


def _all_pages(clinic, patient, template, consent):
    return [
        ("get", url(clinic, "consent-templates")),
        ("get", url(clinic, "consent-template-create")),
        ("post", url(clinic, "consent-templates-standard")),
        ("get", url(clinic, "consent-template-edit", template.pk)),
        ("post", url(clinic, "consent-template-deactivate", template.pk)),
        ("post", url(clinic, "consent-template-reactivate", template.pk)),
        ("get", url(clinic, "patient-consents", patient.pk)),
        ("get", url(clinic, "consent-sign", patient.pk)),
        ("post", url(clinic, "consent-sign", patient.pk)),
        ("get", url(clinic, "consent-detail", consent.pk)),
        ("post", url(clinic, "consent-withdraw", consent.pk)),
    ]


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.BILLING])
def test_front_desk_and_billing_reach_no_consent_page(
    scoped, form, patient, doctor, client_for, role
):
    consent = sign_directly(patient, form, doctor)
    client = client_for(MembershipFactory(clinic=scoped, role=role))
    for method, page in _all_pages(scoped, patient, form, consent):
        assert getattr(client, method)(page).status_code == 403, page


def test_only_doctors_and_owners_write_the_forms(
    scoped, form, patient, doctor, owner, assistant, client_for
):
    consent = sign_directly(patient, form, doctor)
    manage = [p for p in _all_pages(scoped, patient, form, consent) if "templates" in p[1]]
    assistant_client = client_for(assistant)
    for method, page in manage:
        assert getattr(assistant_client, method)(page).status_code == 403, page
    for member in (doctor, owner):
        client = client_for(member)
        assert client.get(url(scoped, "consent-templates")).status_code == 200
        assert client.get(url(scoped, "consent-template-edit", form.pk)).status_code == 200
    # An assistant captures and reads consents, and records a withdrawal.
    assert assistant_client.get(url(scoped, "consent-sign", patient.pk)).status_code == 200
    assert assistant_client.get(url(scoped, "consent-detail", consent.pk)).status_code == 200
    assert assistant_client.get(url(scoped, "patient-consents", patient.pk)).status_code == 200
    withdraw = assistant_client.post(url(scoped, "consent-withdraw", consent.pk), {"reason": "No"})
    assert withdraw.status_code == 302


def test_another_clinics_consents_and_forms_answer_404(
    scoped, form, patient, doctor, other_clinic, client_for
):
    with clinic_scope(other_clinic):
        other_doctor = MembershipFactory(clinic=other_clinic, role=Role.DOCTOR)
        other_form = services.consent_template_save(
            clinic=other_clinic,
            **by(other_doctor),
            name="Their form",
            kind="general",
            title="Their consent",
            body="Their text",
        )
        other_patient = PatientFactory(clinic=other_clinic)
        other_consent = sign_directly(other_patient, other_form, other_doctor)
        other_version = current_version(other_form)
    client = client_for(doctor)
    for method, page in _all_pages(scoped, other_patient, other_form, other_consent):
        if "templates/standard" in page or page.endswith("/templates/") or "new" in page:
            continue  # no object in the URL
        assert getattr(client, method)(page).status_code == 404, page
    # Another clinic's form cannot be chosen or signed on either.
    sign_url = url(scoped, "consent-sign", patient.pk)
    page = client.get(sign_url + f"?template={other_form.pk}").content.decode()
    assert "Their consent" not in page
    response = client.post(sign_url, sign_data(form, template_version=other_version.pk))
    assert response.status_code == 400
    assert "Choose the consent form to sign." in response.content.decode()
    assert SignedConsent.objects.filter(patient=patient).count() == 0
