"""Forms for the retention settings page. They parse input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from compliance.retention import MAX_DAYS, REASON_MAX, policy_classes


class RetentionPeriodForm(forms.Form):
    record_class = forms.ChoiceField(choices=())
    days = forms.IntegerField(min_value=0, max_value=MAX_DAYS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["record_class"].choices = [(c.key, c.label) for c in policy_classes()]


class LegalHoldForm(forms.Form):
    patient_number = forms.IntegerField(
        label=_("Patient number"),
        min_value=1,
        required=False,
        help_text=_("Hold a patient's records"),
    )
    conversation_id = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX)

    def clean(self):
        data = super().clean()
        if not data.get("patient_number") and not data.get("conversation_id"):
            self.add_error(
                "patient_number", _("Give the number of the patient whose records to hold.")
            )
        return data


class LiftHoldForm(forms.Form):
    lift_reason = forms.CharField(label=_("Why lift it"), max_length=REASON_MAX)
