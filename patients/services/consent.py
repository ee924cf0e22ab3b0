"""Consent forms: signing on a tablet, and withdrawing (templates: consent_templates.py).

A signed consent keeps pointing at the template version the signer read. Signing checks the
drawn signature by its bytes (a real PNG of sane size that decodes and is not blank), stores it
under a key without personal data, records the consent with the server's time and the staff
member who witnessed it, and asks for the PDF, which is rendered after the commit
(patients.selectors.consent registers its renderer). Nothing is stored when anything fails.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import logging
import warnings

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageChops

from clinics.audit import Actions, audit_record
from clinics.errors import DomainError, NotAllowed, ValidationFailed
from clinics.models import Membership, User
from clinics.roles import Perm
from clinics.storage import storage
from patients.models import (
    ConsentTemplate,
    ConsentTemplateVersion,
    Document,
    DocumentKind,
    Patient,
    Relation,
    SignedConsent,
    SignerKind,
    Visit,
)
from patients.services.consent_templates import (
    _single_spaced,
    latest_version,
)
from patients.services.documents import document_key, document_prepare

logger = logging.getLogger(__name__)

MAX_DETAILS_CHARS = 500
MAX_REASON_CHARS = 300

SIGNATURE_STORAGE_KIND = "consent-signatures"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_SIGNATURE_BYTES = 512 * 1024
# A pad is a few hundred CSS pixels wide, times the screen's pixel ratio (up to about 4).
MIN_SIGNATURE_SIZE = (120, 50)
MAX_SIGNATURE_SIZE = (4000, 2000)
# Enough ink to be a signature and not a tap: at least this many pixels, and this share of the
# pad. A dot is refused; a short scrawled name passes at any pixel ratio.
MIN_INK_PIXELS = 64
MIN_INK_SHARE = 1 / 2000
MAX_INK_SHARE = 0.6

SIGN_AGAIN = "Clear the pad and ask the signer to sign again."


class SignatureRefused(DomainError):
    """The drawn signature cannot be kept; the message tells staff what to do."""

    def __init__(self, message: str):
        super().__init__(message, field="signature", code="signature_refused")


def _decoded_data_url(data_url: str) -> bytes:
    value = (data_url or "").strip()
    if not value:
        raise SignatureRefused("Ask the signer to sign in the box before saving.")
    head, comma, payload = value.partition(",")
    if not comma or not head.lower().startswith("data:") or not head.lower().endswith(";base64"):
        raise SignatureRefused(f"The signature did not arrive as a drawing. {SIGN_AGAIN}")
    # Refuse an oversized drawing before decoding it (base64 is 4 characters per 3 bytes).
    if len(payload) > (MAX_SIGNATURE_BYTES + 2) // 3 * 4:
        raise SignatureRefused(
            f"The signature is larger than {MAX_SIGNATURE_BYTES // 1024} KB. {SIGN_AGAIN}"
        )
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureRefused(f"The signature could not be read. {SIGN_AGAIN}") from None
    if len(data) > MAX_SIGNATURE_BYTES:
        raise SignatureRefused(
            f"The signature is larger than {MAX_SIGNATURE_BYTES // 1024} KB. {SIGN_AGAIN}"
        )
    return data


def _opened_png(data: bytes) -> Image.Image:
    if not data.startswith(PNG_MAGIC):
        raise SignatureRefused(f"The signature is not a PNG image. {SIGN_AGAIN}")
    unreadable = SignatureRefused(f"The signature image is damaged. {SIGN_AGAIN}")
    try:
        with warnings.catch_warnings():
            # A PNG can claim a huge canvas in a few bytes: refuse it rather than decode it.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format != "PNG":
                raise unreadable
            width, height = probe.size
            if not (
                MIN_SIGNATURE_SIZE[0] <= width <= MAX_SIGNATURE_SIZE[0]
                and MIN_SIGNATURE_SIZE[1] <= height <= MAX_SIGNATURE_SIZE[1]
            ):
                raise SignatureRefused(
                    f"The signature pad's size ({width} x {height} pixels) is not one Vaidya "
                    f"expects. {SIGN_AGAIN}"
                )
            probe.verify()  # checksums of every chunk
            image = Image.open(io.BytesIO(data))
            image.load()  # decodes every pixel: a truncated image fails here
    except SignatureRefused:
        raise
    except (
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise unreadable from None
    return image


def _ink_pixels(image: Image.Image) -> int:
    """Pixels that are drawn: opaque enough and dark enough (the pad's background is either
    transparent or white)."""
    rgba = image.convert("RGBA")
    opaque = rgba.getchannel("A").point(lambda a: 255 if a >= 128 else 0)
    dark = rgba.convert("L").point(lambda v: 255 if v < 160 else 0)
    return ImageChops.multiply(opaque, dark).histogram()[255]


def checked_signature(data_url: str) -> bytes:
    """The PNG bytes of a drawn signature sent as a data: URL, or SignatureRefused.

    The bytes decide, not the URL's declared type: it must be a PNG that decodes, at most
    512 KB, of a size a signature pad has, with enough ink to be a signature.
    """
    data = _decoded_data_url(data_url)
    image = _opened_png(data)
    pixels = image.width * image.height
    ink = _ink_pixels(image)
    if ink < max(MIN_INK_PIXELS, pixels * MIN_INK_SHARE):
        raise SignatureRefused("The signature pad is empty. Ask the signer to sign in the box.")
    if ink > pixels * MAX_INK_SHARE:
        raise SignatureRefused(f"That does not look like a signature. {SIGN_AGAIN}")
    return data


def _delete_quietly(name: str) -> None:
    try:
        storage().delete(name)
    except Exception:
        logger.exception("A stored signature that is not needed could not be deleted.")


# ---------------------------------------------------------------------------------------------
# Signing and withdrawing


def _checked_signer(
    *, patient: Patient, signer_kind: str, signer_name: str, signer_relation: str
) -> tuple[str, str, str, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    name = _single_spaced(signer_name)
    relation = (signer_relation or "").strip()
    if signer_kind not in SignerKind.values:
        errors["signer_kind"] = ["Choose who signs: the patient, or a parent or guardian."]
    elif signer_kind == SignerKind.PATIENT:
        if patient.is_minor:
            errors["signer_kind"] = [
                f"{patient.full_name} is under 18: a parent or guardian must sign."
            ]
        name, relation = patient.full_name, ""
    else:
        if not name:
            errors["signer_name"] = ["Write the name of the parent or guardian who signs."]
        if relation not in Relation.values:
            errors["signer_relation"] = ["Choose how the person signing is related to the patient."]
    if len(name) > 200:
        errors["signer_name"] = ["Keep the name to 200 characters."]
    return signer_kind, name, relation, errors


def _template_problem(
    version: ConsentTemplateVersion, template: ConsentTemplate | None = None
) -> str:
    """Why a consent cannot be signed on this version of a form now, or ""."""
    template = template or version.template
    if not template.is_active:
        return "This consent form is no longer in use. Choose another form."
    current = latest_version(template)
    if current is None or current.pk != version.pk:
        return (
            "The text of this form was changed after it was opened. Read the new text with the "
            "signer, and sign again."
        )
    return ""


def consent_sign(
    *,
    patient: Patient,
    template_version: ConsentTemplateVersion,
    details: str,
    signer_kind: str,
    signer_name: str,
    signer_relation: str,
    signature_data_url: str,
    actor: User,
    actor_membership: Membership,
    visit: Visit | None = None,
) -> SignedConsent:
    """Record a consent signed on screen, witnessed by the member of staff signing in
    (`actor_membership`), and ask for its PDF (rendered after the commit).

    `template_version` is the text the signer was shown: it must still be the form's current
    text, and the form must be in use. A minor's consent is signed by a parent or guardian,
    with their name and relation. The signature is checked by `checked_signature`, stored under
    a key without personal data with its SHA-256, and deleted again if recording fails.
    """
    if not actor_membership.has_perm(Perm.CLINICAL_DRAFT):
        raise NotAllowed("Your role cannot record a patient's consent.")
    if actor_membership.clinic_id != patient.clinic_id:
        raise NotAllowed("That patient belongs to another clinic.")
    if template_version.clinic_id != patient.clinic_id:
        raise NotAllowed("That consent form belongs to another clinic.")
    errors: dict[str, list[str]] = {}
    if patient.archived_at is not None:
        errors["__all__"] = ["This patient's record is archived: restore it to record consent."]
    details = _single_spaced(details)
    if len(details) > MAX_DETAILS_CHARS:
        errors["details"] = [f"Keep the details to {MAX_DETAILS_CHARS} characters."]
    if visit is not None and visit.patient_id != patient.pk:
        errors["visit"] = ["That visit belongs to another patient."]
    signer_kind, signer_name, signer_relation, signer_errors = _checked_signer(
        patient=patient,
        signer_kind=signer_kind,
        signer_name=signer_name,
        signer_relation=signer_relation,
    )
    errors.update(signer_errors)
    template_problem = _template_problem(template_version)
    if template_problem:
        errors["template"] = [template_problem]
    try:
        png = checked_signature(signature_data_url)
    except SignatureRefused as exc:
        errors["signature"] = [exc.message]
    if errors:
        raise ValidationFailed(errors)
    name = storage().save(
        document_key(clinic_id=patient.clinic_id, kind=SIGNATURE_STORAGE_KIND, extension="png"),
        ContentFile(png),
    )
    try:
        with transaction.atomic():
            consent = _record_signed(
                patient=patient,
                template_version=template_version,
                details=details,
                signer_kind=signer_kind,
                signer_name=signer_name,
                signer_relation=signer_relation,
                signature_name=name,
                signature_sha256=hashlib.sha256(png).hexdigest(),
                actor=actor,
                actor_membership=actor_membership,
                visit=visit,
            )
    except BaseException:
        _delete_quietly(name)
        raise
    return consent


def _record_signed(
    *,
    patient: Patient,
    template_version: ConsentTemplateVersion,
    details: str,
    signer_kind: str,
    signer_name: str,
    signer_relation: str,
    signature_name: str,
    signature_sha256: str,
    actor: User,
    actor_membership: Membership,
    visit: Visit | None,
) -> SignedConsent:
    # The form's row lock orders signing against editing and deactivating the same form.
    template = ConsentTemplate.objects.select_for_update().get(pk=template_version.template_id)
    template_problem = _template_problem(template_version, template)
    if template_problem:
        raise ValidationFailed({"template": [template_problem]})
    consent = SignedConsent.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        visit=visit,
        template_version=template_version,
        details=details,
        signer_kind=signer_kind,
        signer_name=signer_name,
        signer_relation=signer_relation,
        signature=signature_name,
        signature_sha256=signature_sha256,
        signed_at=timezone.now(),
        witness=actor_membership,
    )
    consent.document = document_prepare(
        kind=DocumentKind.CONSENT,
        patient_id=patient.pk,
        clinic_id=patient.clinic_id,
        actor=actor,
        visit=visit,
        title=f"Signed consent: {template_version.title}"[:200],
    )
    consent.save(update_fields=["document"])
    audit_record(
        clinic=patient.clinic_id,
        actor=actor,
        action=Actions.CONSENT_SIGNED,
        target=consent,
        patient_id=patient.pk,
        data={
            "template_id": template.pk,
            "version": template_version.version,
            "kind": template.kind,
            "signer_kind": signer_kind,
            "signature_sha256": signature_sha256,
            "document_id": consent.document.pk,
        },
    )
    return consent


@transaction.atomic
def consent_withdraw(
    *, consent: SignedConsent, reason: str, actor: User, actor_membership: Membership
) -> SignedConsent:
    """Record that the patient (or their guardian) withdrew a consent they had signed.

    The consent and its PDF stay in the record; the PDF is marked revoked, so its QR code's
    verification page says it no longer holds.
    """
    if not actor_membership.has_perm(Perm.CLINICAL_DRAFT):
        raise NotAllowed("Your role cannot record that consent was withdrawn.")
    reason = _single_spaced(reason)
    if not reason:
        raise ValidationFailed({"reason": ["Write why, or in whose words, consent was withdrawn."]})
    if len(reason) > MAX_REASON_CHARS:
        raise ValidationFailed({"reason": [f"Keep the reason to {MAX_REASON_CHARS} characters."]})
    consent = SignedConsent.objects.select_for_update().get(pk=consent.pk)
    if consent.withdrawn_at is not None:
        raise DomainError("This consent was already withdrawn.", code="already_withdrawn")
    now = timezone.now()
    consent.withdrawn_at = now
    consent.withdrawn_reason = reason
    consent.save(update_fields=["withdrawn_at", "withdrawn_reason"])
    if consent.document_id is not None:
        Document.objects.filter(pk=consent.document_id, revoked_at__isnull=True).update(
            revoked_at=now
        )
    audit_record(
        clinic=consent.clinic_id,
        actor=actor,
        action=Actions.CONSENT_WITHDRAWN,
        target=consent,
        patient_id=consent.patient_id,
        data={"document_id": consent.document_id},
    )
    return consent
