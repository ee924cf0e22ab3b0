"""The form that records one allergy on the patient page."""

from __future__ import annotations

from django import forms

from clinics.validators import VisibleText
from patients.models import AllergySeverity
from patients.prescribing.classes import ALLERGY_CLASS_CHOICES

_OFF = {"autocomplete": "off"}


class AllergyForm(forms.Form):
    substance = forms.CharField(
        label="Allergic to",
        required=False,
        max_length=100,
        validators=[VisibleText("substance")],
        widget=forms.TextInput(attrs={**_OFF, "placeholder": "IBUPROFEN, peanuts, latex"}),
        help_text="A medicine's generic name, or anything else.",
    )
    drug_class = forms.ChoiceField(
        label="Or a drug class",
        required=False,
        choices=[("", "—"), *ALLERGY_CLASS_CHOICES],
    )
    reaction = forms.CharField(
        label="Reaction",
        required=False,
        max_length=200,
        validators=[VisibleText("reaction")],
        widget=forms.TextInput(attrs={**_OFF, "placeholder": "Rash, swelling of lips"}),
    )
    severity = forms.ChoiceField(label="Severity", required=False, choices=AllergySeverity.choices)
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=1000,
        validators=[VisibleText("note", multiline=True)],
        widget=forms.Textarea(attrs={"rows": 2}),
    )
