"""Forms for consent: a form's template, signing on a tablet, withdrawing. They parse input;
the rules (versions, who may sign, what a signature must be) are in patients.services.consent."""

from __future__ import annotations

from typing import Any

from django import forms

from patients.models import (
    ConsentKind,
    ConsentTemplate,
    ConsentTemplateVersion,
    Patient,
    Relation,
    SignerKind,
)
from patients.selectors.consent import CONSENT_LANGUAGES


class ConsentTemplateForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=120,
        help_text="What staff choose from, for example: Minor surgery, Photographs.",
    )
    kind = forms.ChoiceField(label="What is it for?", choices=ConsentKind.choices)
    title = forms.CharField(
        label="Title", max_length=200, help_text="Printed on top of the signed form."
    )
    body = forms.CharField(
        label="Text",
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="What the signer reads and agrees to. Leave a blank line between paragraphs.",
    )
    language = forms.ChoiceField(label="Language of the text", choices=CONSENT_LANGUAGES)

    @classmethod
    def for_template(
        cls, template: ConsentTemplate, version: ConsentTemplateVersion | None
    ) -> ConsentTemplateForm:
        initial: dict[str, Any] = {"name": template.name, "kind": template.kind}
        if version is not None:
            initial.update(title=version.title, body=version.body, language=version.language)
        return cls(initial=initial)


class ConsentSignForm(forms.Form):
    # The version whose text was on screen: signing on a text that changed since is refused.
    template_version = forms.IntegerField(widget=forms.HiddenInput)
    details = forms.CharField(
        label="What is consented to",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The procedure and the site, for example: Excision of a cyst on the left "
        "forearm.",
    )
    signer_kind = forms.ChoiceField(
        label="Who signs?", choices=SignerKind.choices, widget=forms.RadioSelect
    )
    signer_name = forms.CharField(label="Name of the parent or guardian", required=False)
    signer_relation = forms.ChoiceField(
        label="Relation to the patient",
        required=False,
        choices=[("", "Choose…"), *Relation.choices],
    )
    # A PNG data: URL written by static/js/vaidya-signature.js; checked by the service.
    signature = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)

    @classmethod
    def for_patient(cls, patient: Patient, version: ConsentTemplateVersion) -> ConsentSignForm:
        initial: dict[str, Any] = {"template_version": version.pk}
        guardians = list(patient.guardians.all())
        if patient.is_minor:
            initial["signer_kind"] = SignerKind.GUARDIAN
            if guardians:
                initial.update(
                    signer_name=guardians[0].display_name,
                    signer_relation=guardians[0].relation,
                )
        else:
            initial["signer_kind"] = SignerKind.PATIENT
        return cls(initial=initial)


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why is consent withdrawn?",
        required=False,
        max_length=300,
        help_text="In the patient's or guardian's words, with who told you.",
    )
