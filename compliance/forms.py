"""Forms for the consent pages. They parse input; the services decide."""

from __future__ import annotations

from django import forms

from compliance.models import ConsentMethod, ConsentPurpose

DESK_METHODS = [
    (ConsentMethod.VERBAL.value, ConsentMethod.VERBAL.label),
    (ConsentMethod.FORM.value, ConsentMethod.FORM.label),
]


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(choices=ConsentPurpose.choices)
    action = forms.ChoiceField(choices=[("grant", "Agrees"), ("withdraw", "Withdraws")])
    method = forms.ChoiceField(label="How", choices=DESK_METHODS)
    notice_shown = forms.BooleanField(
        required=False, label="I showed or read the notice above to the patient"
    )

    def clean(self):
        data = super().clean()
        if data.get("action") == "grant" and not data.get("notice_shown"):
            self.add_error(
                "notice_shown", "Show the patient the notice before recording their agreement."
            )
        return data
