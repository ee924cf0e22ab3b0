"""Forms for the consent pages. They parse input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from compliance.models import ConsentMethod, ConsentPurpose

DESK_METHODS = [
    (ConsentMethod.VERBAL.value, ConsentMethod.VERBAL.label),
    (ConsentMethod.FORM.value, ConsentMethod.FORM.label),
]


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(choices=ConsentPurpose.choices)
    action = forms.ChoiceField(choices=[("grant", _("Agrees")), ("withdraw", _("Withdraws"))])
    method = forms.ChoiceField(label=_("How"), choices=DESK_METHODS)
    notice_shown = forms.BooleanField(
        required=False, label=_("I showed or read the notice above to the patient")
    )

    def clean(self):
        data = super().clean()
        if data.get("action") == "grant" and not data.get("notice_shown"):
            self.add_error(
                "notice_shown", _("Show the patient the notice before recording their agreement.")
            )
        return data
