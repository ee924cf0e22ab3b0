"""The reports page's chooser: a period (a preset or two dates) and, optionally, one doctor."""

from __future__ import annotations

from datetime import date

from django import forms

from clinics.dates import validate_usable_day
from clinics.models import Membership
from clinics.reports import MAX_SPAN_DAYS, Preset, ReportPeriod, doctor_label, preset_period


class ReportPeriodForm(forms.Form):
    period = forms.ChoiceField(choices=Preset.choices, required=False, initial=Preset.LAST_7_DAYS)
    date_from = forms.DateField(
        label="From",
        required=False,
        validators=[validate_usable_day],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label="To",
        required=False,
        validators=[validate_usable_day],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    doctor = forms.TypedChoiceField(label="Doctor", required=False, coerce=int, empty_value=None)

    def __init__(
        self,
        *args,
        today: date,
        doctors: list[Membership],
        membership: Membership,
        all_doctors: bool,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.today = today
        # A doctor who may not compare doctors may narrow the figures to their own only.
        choosable = [d for d in doctors if all_doctors or d.pk == membership.pk]
        self.fields["doctor"].choices = [("", "Whole clinic")] + [
            (d.pk, doctor_label(d)) for d in choosable
        ]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        start, end = data.get("date_from"), data.get("date_to")
        preset = data.get("period") or (Preset.CUSTOM if start or end else Preset.LAST_7_DAYS)
        data["period"] = preset
        if preset != Preset.CUSTOM:
            data["report_period"] = preset_period(preset, self.today)
            return data
        if not start or not end:
            raise forms.ValidationError("Give both dates of a custom period.", code="required")
        if end < start:
            self.add_error("date_to", "The end date is before the start date.")
        elif (end - start).days + 1 > MAX_SPAN_DAYS:
            self.add_error("date_to", "A report covers at most two years: choose a shorter period.")
        else:
            data["report_period"] = ReportPeriod(start, end)
        return data

    @property
    def report_period(self) -> ReportPeriod | None:
        return self.cleaned_data.get("report_period") if self.is_valid() else None
