"""Forms for the patients pages. They only parse input; the services decide what is valid."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clinics.errors import DomainError, ValidationFailed
from clinics.states import STATE_CHOICES
from clinics.web import add_domain_error
from patients.models import BloodGroup, DiscreetMessages, Patient, Relation, Sex
from patients.models.patients import Language
from patients.selectors import patient_list
from patients.services import EDITABLE_FIELDS, HEALTH_FIELDS, MAX_AGE_YEARS, GuardianInput

_PATIENT_NUMBER_RE = re.compile(r"^\s*(?:p\s*-?\s*)?0*(\d{1,9})\s*$", re.IGNORECASE)
_BLANK = [("", "---------")]
_PHONE_ATTRS = {"inputmode": "tel", "autocomplete": "off", "placeholder": "98765 43210"}

# Service error keys that are named differently on the forms.
_SERVICE_FIELD_NAMES = {"guardian_patient": "guardian_patient_number"}


def phone_for_input(number) -> str:
    """A stored phone number as a receptionist would type it (no +91 for Indian numbers)."""
    if not number:
        return ""
    if getattr(number, "country_code", None) == 91:
        return number.as_national
    return number.as_international


def show_service_error(form: forms.BaseForm, exc: DomainError) -> None:
    """Put a service's error on the form fields it is about.

    The service's `guardian` key ("a minor needs a guardian") belongs to the guardian section as
    a whole: it is kept in `form.guardian_errors` and shown at the top of that section.
    """
    guardian_errors = getattr(form, "guardian_errors", None)
    if isinstance(exc, ValidationFailed):
        errors: dict[str, list[str]] = {}
        for key, messages in exc.errors.items():
            if key == "guardian" and guardian_errors is not None:
                guardian_errors.extend(messages)
                continue
            errors.setdefault(_SERVICE_FIELD_NAMES.get(key, key), []).extend(messages)
        exc = ValidationFailed(errors, exc.message)
    elif exc.field in _SERVICE_FIELD_NAMES:
        exc = DomainError(exc.message, field=_SERVICE_FIELD_NAMES[exc.field], code=exc.code)
    add_domain_error(form, exc)


class PatientSearchForm(forms.Form):
    """The list's search box and "show archived" tick box (the template renders them)."""

    q = forms.CharField(required=False)
    archived = forms.BooleanField(required=False)

    def query(self) -> tuple[str, bool]:
        if not self.is_valid():
            return "", False
        return self.cleaned_data["q"][:200], self.cleaned_data["archived"]


class PatientForm(forms.Form):
    """A patient's own details, as on the registration desk's paper form."""

    full_name = forms.CharField(
        label=_("Full name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, widget=forms.RadioSelect)
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("If the date is not known, leave it empty and give the age instead."),
    )
    age_years = forms.IntegerField(
        label=_("or age in years"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 0, "max": MAX_AGE_YEARS, "inputmode": "numeric"}),
        help_text=_("Used only when there is no date of birth: the date is then estimated."),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        widget=forms.TextInput(attrs={**_PHONE_ATTRS, "type": "tel"}),
        help_text=_("Mobile number. Indian numbers need no +91."),
    )
    whatsapp_phone = forms.CharField(
        label=_("WhatsApp number"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={**_PHONE_ATTRS, "type": "tel"}),
        help_text=_("Only if different from the phone number."),
    )
    preferred_language = forms.ChoiceField(
        label=_("Language for messages"),
        choices=Language.choices,
        initial=Language.ENGLISH,
        required=False,
        help_text=_("WhatsApp messages use it where the clinic has templates in it; else English."),
    )
    discreet_messages = forms.ChoiceField(
        label=_("Medicine names in WhatsApp reminders"),
        choices=DiscreetMessages.choices,
        initial=DiscreetMessages.AUTO,
        required=False,
        help_text=_(
            'Discreet reminders say "your evening medicines (2)" instead of the names, which '
            "stay on the prescription."
        ),
    )
    email = forms.EmailField(label=_("Email"), required=False)
    address = forms.CharField(
        label=_("Address"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    city = forms.CharField(label=_("City or town"), max_length=100, required=False)
    pincode = forms.CharField(
        label=_("PIN code"),
        max_length=6,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "560011"}),
    )
    state_code = forms.ChoiceField(label=_("State"), choices=_BLANK + STATE_CHOICES, required=False)
    blood_group = forms.ChoiceField(
        label=_("Blood group"), choices=_BLANK + BloodGroup.choices, required=False
    )
    allergies = forms.CharField(
        label=_("Allergies"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Medicines, foods or anything else. Leave empty if none are known."),
    )
    chronic_conditions = forms.CharField(
        label=_("Long-term conditions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example diabetes, high blood pressure, asthma."),
    )
    abha_number = forms.CharField(
        label=_("ABHA number"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "91-1234-5678-9012"}),
        help_text=_("14 digits, from the patient's ABHA card. Optional."),
    )
    abha_address = forms.CharField(
        label=_("ABHA address"),
        max_length=120,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "name.surname@abdm"}),
        help_text=_("Looks like name@abdm. Optional."),
    )
    emergency_contact_name = forms.CharField(
        label=_("Emergency contact: name"), max_length=150, required=False
    )
    emergency_contact_relation = forms.ChoiceField(
        label=_("Relation to the patient"), choices=_BLANK + Relation.choices, required=False
    )
    emergency_contact_phone = forms.CharField(
        label=_("Emergency contact: phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={**_PHONE_ATTRS, "type": "tel"}),
    )

    def clean_preferred_language(self) -> str:
        return self.cleaned_data.get("preferred_language") or Language.ENGLISH

    def clean_discreet_messages(self) -> str:
        return self.cleaned_data.get("discreet_messages") or DiscreetMessages.AUTO

    def __init__(self, *args, health: bool = True, **kwargs):
        # Allergies and long-term conditions are clinical information: staff who may not read
        # it (front desk, billing) neither see nor type them; a clinician records them.
        super().__init__(*args, **kwargs)
        if not health:
            for name in HEALTH_FIELDS:
                del self.fields[name]

    @classmethod
    def initial_for(cls, patient: Patient, *, health: bool = True) -> dict[str, Any]:
        names = [f for f in EDITABLE_FIELDS if health or f not in HEALTH_FIELDS]
        initial = {field: getattr(patient, field) for field in names}
        for field in ("phone", "whatsapp_phone", "emergency_contact_phone"):
            initial[field] = phone_for_input(initial[field])
        return initial

    def patient_fields(self, *, only_changed: bool = False) -> dict[str, Any]:
        """The cleaned values the services take, by their field names."""
        names = [
            f
            for f in EDITABLE_FIELDS
            if f in self.fields and (not only_changed or f in self.changed_data)
        ]
        return {name: self.cleaned_data[name] for name in names}


class GuardianForm(forms.Form):
    """A guardian: an existing patient by their number, or a name, relation and phone."""

    guardian_patient_number = forms.CharField(
        label=_("Guardian's patient number"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "P-000123", "autocomplete": "off"}),
        help_text=_(
            "If the guardian is already a patient here. Then name and phone are not needed."
        ),
    )
    guardian_name = forms.CharField(label=_("Guardian's name"), max_length=150, required=False)
    guardian_relation = forms.ChoiceField(
        label=_("Relation to the patient"),
        choices=_BLANK + Relation.choices,
        required=False,
        help_text=_("What the guardian is to the patient, for example Mother."),
    )
    guardian_phone = forms.CharField(
        label=_("Guardian's phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={**_PHONE_ATTRS, "type": "tel"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.guardian_errors: list[str] = []

    def clean_guardian_patient_number(self) -> Patient | None:
        raw = self.cleaned_data["guardian_patient_number"]
        if not raw.strip():
            return None
        match = _PATIENT_NUMBER_RE.match(raw)
        if not match:
            raise forms.ValidationError("A patient number looks like P-000123.")
        number = int(match.group(1))
        found = patient_list(query=f"P-{number}").first()
        if found is None:
            raise forms.ValidationError(f"There is no patient P-{number:06d} at this clinic.")
        return found

    def has_guardian(self) -> bool:
        return any(
            self.cleaned_data.get(name)
            for name in (
                "guardian_patient_number",
                "guardian_name",
                "guardian_relation",
                "guardian_phone",
            )
        )

    def guardian_input(self) -> GuardianInput | None:
        if not self.has_guardian():
            return None
        existing = self.cleaned_data.get("guardian_patient_number")
        return GuardianInput(
            relation=self.cleaned_data["guardian_relation"],
            guardian_patient_id=existing.pk if existing else None,
            name="" if existing else self.cleaned_data["guardian_name"],
            phone="" if existing else self.cleaned_data["guardian_phone"],
        )


class PatientCreateForm(PatientForm, GuardianForm):
    confirm_duplicate = forms.BooleanField(
        label=_("This is a different person, register anyway"), required=False
    )


class PatientEditForm(PatientForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["age_years"].help_text = _(
            "Only if the date of birth is not known: a new age replaces the date above with "
            "one estimated from the age."
        )
