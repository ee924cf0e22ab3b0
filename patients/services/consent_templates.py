"""Consent form templates: the clinic's own forms, with versions.

A template's text is never changed in place: saving a new title, body or language makes a new
version, and a signed consent keeps pointing at the version the signer read. Signing and
withdrawing are in patients.services.consent.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from clinics.audit import Actions, audit_record
from clinics.errors import NotAllowed, ValidationFailed
from clinics.models import Clinic, Membership, User
from clinics.roles import Perm
from patients.models import ConsentKind, ConsentTemplate, ConsentTemplateVersion
from patients.selectors.consent import CONSENT_LANGUAGES

MAX_BODY_CHARS = 20_000


def can_manage_consent_templates(membership: Membership) -> bool:
    """Owners (clinic settings) and doctors (clinical editing) write the clinic's forms."""
    return membership.has_perm(Perm.SETTINGS_EDIT) or membership.has_perm(Perm.CLINICAL_EDIT)


def _require_manager(membership: Membership) -> None:
    if not can_manage_consent_templates(membership):
        raise NotAllowed("Only doctors and the clinic's owner can change consent forms.")


def _single_spaced(value: str) -> str:
    return " ".join((value or "").split())


def normalise_body(body: str) -> str:
    """The body as it is stored and compared: Unix line ends, no trailing spaces, at most one
    blank line between paragraphs, no blank lines around it."""
    lines = [line.rstrip() for line in (body or "").replace("\r\n", "\n").split("\n")]
    kept: list[str] = []
    for line in lines:
        if not line and (not kept or not kept[-1]):
            continue
        kept.append(line)
    return "\n".join(kept).strip("\n")


# ---------------------------------------------------------------------------------------------
# Templates


@dataclass(frozen=True)
class _TemplateInput:
    name: str
    kind: str
    title: str
    body: str
    language: str


def _checked_template(
    *, name: str, kind: str, title: str, body: str, language: str
) -> _TemplateInput:
    values = _TemplateInput(
        name=_single_spaced(name),
        kind=kind,
        title=_single_spaced(title),
        body=normalise_body(body),
        language=(language or "").strip(),
    )
    errors: dict[str, list[str]] = {}
    if not values.name:
        errors["name"] = ["Give the form a name staff will recognise, for example Minor surgery."]
    elif len(values.name) > 120:
        errors["name"] = ["Keep the name to 120 characters."]
    if values.kind not in ConsentKind.values:
        errors["kind"] = ["Choose what the form is for."]
    if not values.title:
        errors["title"] = ["Give the form the title printed on top of it."]
    elif len(values.title) > 200:
        errors["title"] = ["Keep the title to 200 characters."]
    if not values.body:
        errors["body"] = ["Write the text the patient reads and agrees to."]
    elif len(values.body) > MAX_BODY_CHARS:
        errors["body"] = [f"Keep the text to {MAX_BODY_CHARS:,} characters."]
    if values.language not in dict(CONSENT_LANGUAGES):
        errors["language"] = ["Choose the language the text is written in."]
    if errors:
        raise ValidationFailed(errors)
    return values


def _refuse_taken_name(clinic_id: int, name: str, template: ConsentTemplate | None) -> None:
    taken = ConsentTemplate.objects.filter(clinic_id=clinic_id, name__iexact=name)
    if template is not None:
        taken = taken.exclude(pk=template.pk)
    if taken.exists():
        raise ValidationFailed({"name": ["Another consent form already has this name."]})


def latest_version(template: ConsentTemplate) -> ConsentTemplateVersion | None:
    return ConsentTemplateVersion.objects.filter(template=template).order_by("-version").first()


@transaction.atomic
def consent_template_save(
    *,
    clinic: Clinic,
    actor: User,
    actor_membership: Membership,
    name: str,
    kind: str,
    title: str,
    body: str,
    language: str = "en",
    template: ConsentTemplate | None = None,
) -> ConsentTemplate:
    """Create a consent form, or save changes to `template`.

    A new form starts at version 1. Changing the title, body or language makes the next
    version (the earlier ones stay, and consents signed on them keep their text); saving the
    same text again makes none. Names are unique in the clinic.
    """
    _require_manager(actor_membership)
    values = _checked_template(name=name, kind=kind, title=title, body=body, language=language)
    if template is not None:
        template = ConsentTemplate.objects.select_for_update().get(pk=template.pk)
        if template.clinic_id != clinic.pk:
            raise NotAllowed("That consent form belongs to another clinic.")
    _refuse_taken_name(clinic.pk, values.name, template)
    created = template is None
    try:
        with transaction.atomic():
            if created:
                template = ConsentTemplate.objects.create(
                    clinic=clinic, name=values.name, kind=values.kind
                )
            elif (template.name, template.kind) != (values.name, values.kind):
                template.name, template.kind = values.name, values.kind
                template.save(update_fields=["name", "kind"])
    except IntegrityError:  # two people naming two forms alike at the same moment
        raise ValidationFailed({"name": ["Another consent form already has this name."]}) from None
    current = None if created else latest_version(template)
    new_version = current is None or (current.title, current.body, current.language) != (
        values.title,
        values.body,
        values.language,
    )
    if new_version:
        current = ConsentTemplateVersion.objects.create(
            clinic=clinic,
            template=template,
            version=(current.version + 1) if current is not None else 1,
            title=values.title,
            body=values.body,
            language=values.language,
            created_by=actor,
        )
    audit_record(
        clinic=clinic,
        actor=actor,
        action=Actions.CONSENT_TEMPLATE_SAVED,
        target=template,
        data={
            "created": created,
            "kind": template.kind,
            "version": current.version,
            "new_version": new_version,
        },
    )
    return template


@transaction.atomic
def consent_template_deactivate(
    *, template: ConsentTemplate, actor: User, actor_membership: Membership
) -> ConsentTemplate:
    """Stop offering a form for signing. Consents already signed on it are not affected."""
    _require_manager(actor_membership)
    template = ConsentTemplate.objects.select_for_update().get(pk=template.pk)
    if not template.is_active:
        return template
    template.is_active = False
    template.save(update_fields=["is_active"])
    audit_record(
        clinic=template.clinic_id,
        actor=actor,
        action=Actions.CONSENT_TEMPLATE_DEACTIVATED,
        target=template,
        data={"kind": template.kind},
    )
    return template


@transaction.atomic
def consent_template_reactivate(
    *, template: ConsentTemplate, actor: User, actor_membership: Membership
) -> ConsentTemplate:
    """Offer a form that was taken out of use for signing again, with its latest text."""
    _require_manager(actor_membership)
    template = ConsentTemplate.objects.select_for_update().get(pk=template.pk)
    if template.is_active:
        return template
    template.is_active = True
    template.save(update_fields=["is_active"])
    # No action of its own: it is saved back into use (the event's data says so).
    audit_record(
        clinic=template.clinic_id,
        actor=actor,
        action=Actions.CONSENT_TEMPLATE_SAVED,
        target=template,
        data={"kind": template.kind, "reactivated": True},
    )
    return template


STANDARD_TEMPLATES: tuple[dict[str, str], ...] = (
    {
        "name": "Minor procedure",
        "kind": ConsentKind.PROCEDURE,
        "title": "Consent for a minor procedure",
        "body": (
            "The doctor has explained to me the procedure written below, why it is advised, "
            "how it will be done, and what other choices I have, including not having it.\n\n"
            "I understand that, like any procedure, it can have side effects and complications: "
            "pain, bleeding, infection, a scar, a reaction to the medicines used, and rarely "
            "others the doctor has told me about. I understand that the result cannot be "
            "guaranteed.\n\n"
            "I had the chance to ask questions, and they were answered in a language I "
            "understand. I agree to the procedure and to the local anaesthetic it needs. I know "
            "that I may withdraw this consent at any time before the procedure starts."
        ),
    },
    {
        "name": "Clinical photographs",
        "kind": ConsentKind.PHOTOGRAPHY,
        "title": "Consent for clinical photographs",
        "body": (
            "I agree that the clinic may take photographs of the part of my body written "
            "below, for my medical record, to follow my treatment, and to share with other "
            "doctors treating me.\n\n"
            "The photographs will be kept confidential with my medical record. They will not "
            "be published, or used for teaching, without my separate written consent, and my "
            "face will not be shown unless it is needed for my care.\n\n"
            "I know that I may withdraw this consent at any time; photographs already in my "
            "record stay there as part of it."
        ),
    },
    {
        "name": "Teleconsultation",
        "kind": ConsentKind.TELECONSULTATION,
        "title": "Consent for teleconsultation",
        "body": (
            "I agree to consult the doctor by video, audio or chat, as allowed by the "
            "Telemedicine Practice Guidelines, 2020.\n\n"
            "I understand that the doctor cannot examine me in person, that the advice depends "
            "on what I tell and show, and that the doctor may ask me to come to the clinic. "
            "I will go to the nearest hospital in an emergency.\n\n"
            "I understand that the consultation is confidential and that a record of it is "
            "kept with my medical record."
        ),
    },
)


@transaction.atomic
def consent_templates_add_standard(
    *, clinic: Clinic, actor: User, actor_membership: Membership
) -> list[ConsentTemplate]:
    """Add Vaidya's standard forms (minor procedure, photographs, teleconsultation) that the
    clinic does not have yet, as a starting point for its own wording."""
    _require_manager(actor_membership)
    added = []
    for standard in STANDARD_TEMPLATES:
        if ConsentTemplate.objects.filter(clinic=clinic, name__iexact=standard["name"]).exists():
            continue
        added.append(
            consent_template_save(
                clinic=clinic,
                actor=actor,
                actor_membership=actor_membership,
                language="en",
                **standard,
            )
        )
    return added


# ---------------------------------------------------------------------------------------------
# The drawn signature
