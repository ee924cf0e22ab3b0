"""Forms for the drug list pages. They only parse input; the drug services decide what is valid
(names in capitals, no duplicates, a default frequency Vaidya can read)."""

from __future__ import annotations

from typing import Any

from django import forms

from patients.models import Drug, DrugForm, FoodTiming, Route

DRUG_FORM_FIELDS = (
    "generic_name",
    "strength",
    "form",
    "route",
    "is_schedule_x",
    "is_narcotic",
    "is_favourite",
    "default_dose",
    "default_frequency",
    "default_duration_days",
    "default_timing",
)


class DrugSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200)
    inactive = forms.BooleanField(required=False)

    def search(self) -> tuple[str, bool]:
        """(query, include drugs taken off the list); bad input searches for everything."""
        if not self.is_valid():
            return "", False
        return self.cleaned_data["q"].strip(), self.cleaned_data["inactive"]


class DrugEditForm(forms.Form):
    """One drug on the clinic's list. Field names are the drug services' own."""

    generic_name = forms.CharField(
        label="Generic name",
        max_length=200,
        help_text="The generic (not brand) name. Vaidya keeps it in capitals.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "PARACETAMOL"}),
    )
    strength = forms.CharField(
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "500 mg"}),
    )
    form = forms.ChoiceField(choices=DrugForm.choices, initial=DrugForm.TABLET)
    route = forms.ChoiceField(label="How it is taken", choices=Route.choices, initial=Route.ORAL)
    is_schedule_x = forms.BooleanField(label="Schedule X drug", required=False)
    is_narcotic = forms.BooleanField(label="Narcotic or psychotropic drug", required=False)
    is_favourite = forms.BooleanField(
        label="Favourite (shown first when prescribing)", required=False
    )
    default_dose = forms.CharField(
        label="Usual dose",
        required=False,
        max_length=12,
        help_text="For example 1 or 0.5. Leave empty if there is no usual dose.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    default_frequency = forms.CharField(
        label="Usual frequency",
        required=False,
        max_length=40,
        help_text="As you would write it: 1-0-1, BD, TDS, SOS ...",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    default_duration_days = forms.IntegerField(
        label="Usual duration (days)",
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    default_timing = forms.ChoiceField(
        label="Usual timing", choices=FoodTiming.choices, required=False
    )

    @classmethod
    def initial_for(cls, drug: Drug) -> dict[str, Any]:
        initial = {name: getattr(drug, name) for name in DRUG_FORM_FIELDS}
        if drug.default_dose is not None:
            initial["default_dose"] = format(drug.default_dose.normalize(), "f")
        return initial

    def drug_fields(self) -> dict[str, Any]:
        """The cleaned values, as keyword arguments of drug_add / drug_update."""
        return {name: self.cleaned_data[name] for name in DRUG_FORM_FIELDS}


class FavouriteForm(forms.Form):
    """The favourite button says which way it turns the star, so a double click is harmless."""

    is_favourite = forms.TypedChoiceField(
        choices=[("1", "Favourite"), ("0", "Not a favourite")], coerce=lambda v: v == "1"
    )


class FormularyImportForm(forms.Form):
    """A formulary CSV file, read as UTF-8 text (a byte-order mark from Excel is allowed)."""

    MAX_BYTES = 2 * 1024 * 1024

    file = forms.FileField(label="CSV file", help_text="UTF-8, at most 2 MB.")

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError("The file is too large (at most 2 MB).")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(
                "The file is not UTF-8 text. Save it as CSV UTF-8 and try again."
            ) from exc
