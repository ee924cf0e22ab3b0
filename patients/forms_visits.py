"""Forms for the visit pages. They only parse input; the services decide what is valid.

Most fields are plain text so that the services' own messages ("Pulse must be from 20 to 250
a minute.") are the ones the doctor sees, next to the field they are about.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms

from clinics import selectors as clinic_selectors
from clinics.errors import DomainError, ValidationFailed
from clinics.models import Membership
from clinics.roles import Role
from clinics.web import add_domain_error
from patients.dosing import FrequencyError, parse_frequency, quantity_to_dispense
from patients.models import (
    DrugForm,
    FoodTiming,
    PrescriptionItem,
    Route,
    Visit,
    VisitMode,
    Vitals,
)
from patients.services import STOP_REASONS
from patients.services.prescriptions import PrescribingCheckFailed

DATE_INPUTS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"]
_NUMBER = {"inputmode": "decimal", "autocomplete": "off"}
_WHOLE = {"inputmode": "numeric", "autocomplete": "off"}
_OFF = {"autocomplete": "off"}
_BLANK = [("", "---------")]

# Units counted in whole numbers, by drug form: (one, many).
COUNTED_UNITS = {
    DrugForm.TABLET: ("tablet", "tablets"),
    DrugForm.CAPSULE: ("capsule", "capsules"),
    DrugForm.SACHET: ("sachet", "sachets"),
    DrugForm.INJECTION: ("injection", "injections"),
    DrugForm.SUPPOSITORY: ("suppository", "suppositories"),
}


def show_error(form: forms.BaseForm, exc: DomainError, renamed: dict[str, str]) -> None:
    """A service's error on the form, with the service's field names mapped to the form's."""
    if isinstance(exc, ValidationFailed):
        errors: dict[str, list[str]] = {}
        for key, messages in exc.errors.items():
            errors.setdefault(renamed.get(key, key), []).extend(messages)
        exc = ValidationFailed(errors, exc.message)
    elif exc.field in renamed:
        exc = DomainError(exc.message, field=renamed[exc.field], code=exc.code)
    add_domain_error(form, exc)


def error_messages(form: forms.BaseForm) -> list[str]:
    """Every message on a form, for places that show them in one list."""
    return [message for messages in form.errors.values() for message in messages]


# ---------------------------------------------------------------------------------------------
# Starting a visit


class VisitStartForm(forms.Form):
    doctor = forms.ModelChoiceField(
        label="Doctor",
        queryset=Membership.objects.none(),
        required=False,
        empty_label="Choose the doctor",
    )
    mode = forms.ChoiceField(
        label="Seen",
        choices=VisitMode.choices,
        initial=VisitMode.IN_PERSON,
        widget=forms.RadioSelect,
    )
    appointment_id = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.membership = membership
        field = self.fields["doctor"]
        field.queryset = clinic_selectors.doctors()
        field.label_from_instance = lambda m: m.user.full_name or m.user.email
        if self.signed_in_doctor is not None:
            field.initial = self.signed_in_doctor.pk

    @property
    def signed_in_doctor(self) -> Membership | None:
        if self.membership.role in (Role.DOCTOR, Role.OWNER):
            return self.membership
        return None

    def clean_doctor(self) -> Membership | None:
        doctor = self.cleaned_data.get("doctor") or self.signed_in_doctor
        if doctor is None:
            raise forms.ValidationError("Choose the doctor who will see the patient.")
        return doctor


# ---------------------------------------------------------------------------------------------
# Notes and vitals


class VisitNotesForm(forms.Form):
    chief_complaints = forms.CharField(
        label="Chief complaints",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Fever for 3 days, cough"}),
    )
    history = forms.CharField(
        label="History", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    examination = forms.CharField(
        label="Examination findings", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    investigations_advised = forms.CharField(
        label="Investigations advised",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "CBC, urine routine"}),
    )
    advice = forms.CharField(
        label="Advice", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    follow_up_date = forms.DateField(
        label="Follow-up date",
        required=False,
        input_formats=DATE_INPUTS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    mode = forms.ChoiceField(label="Seen", choices=VisitMode.choices, widget=forms.RadioSelect)

    @classmethod
    def for_visit(cls, visit: Visit) -> VisitNotesForm:
        return cls(initial={name: getattr(visit, name) for name in cls.base_fields})

    def service_values(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class VitalsForm(forms.Form):
    bp_systolic = forms.CharField(
        label="BP systolic", required=False, widget=forms.TextInput(attrs=_WHOLE)
    )
    bp_diastolic = forms.CharField(
        label="BP diastolic", required=False, widget=forms.TextInput(attrs=_WHOLE)
    )
    pulse = forms.CharField(
        label="Pulse (/min)", required=False, widget=forms.TextInput(attrs=_WHOLE)
    )
    temperature = forms.CharField(
        label="Temperature", required=False, widget=forms.TextInput(attrs=_NUMBER)
    )
    temperature_unit = forms.ChoiceField(
        label="Unit", choices=[("F", "°F"), ("C", "°C")], initial="F", required=False
    )
    spo2 = forms.CharField(label="SpO2 (%)", required=False, widget=forms.TextInput(attrs=_WHOLE))
    respiratory_rate = forms.CharField(
        label="Resp. rate (/min)", required=False, widget=forms.TextInput(attrs=_WHOLE)
    )
    weight_kg = forms.CharField(
        label="Weight (kg)", required=False, widget=forms.TextInput(attrs=_NUMBER)
    )
    height_cm = forms.CharField(
        label="Height (cm)", required=False, widget=forms.TextInput(attrs=_NUMBER)
    )

    STORED = (
        "bp_systolic",
        "bp_diastolic",
        "pulse",
        "spo2",
        "respiratory_rate",
        "weight_kg",
        "height_cm",
    )
    SERVICE_NAMES = {"temperature_c": "temperature", "temperature_f": "temperature"}

    @classmethod
    def for_vitals(cls, vitals: Vitals | None) -> VitalsForm:
        if vitals is None:
            return cls()
        initial: dict[str, Any] = {}
        for name in cls.STORED:
            value = getattr(vitals, name)
            if value is not None:
                initial[name] = (
                    format(value.normalize(), "f") if isinstance(value, Decimal) else value
                )
        if vitals.temperature_c is not None:
            initial["temperature"] = format(vitals.temperature_c.normalize(), "f")
            initial["temperature_unit"] = "C"
        return cls(initial=initial)

    def service_values(self) -> dict[str, Any]:
        """Every vital sign, so that an emptied box clears the stored value."""
        values: dict[str, Any] = {name: self.cleaned_data[name] for name in self.STORED}
        unit = "temperature_c" if self.cleaned_data["temperature_unit"] == "C" else "temperature_f"
        values[unit] = self.cleaned_data["temperature"]
        return values

    def show_error(self, exc: DomainError) -> None:
        show_error(self, exc, self.SERVICE_NAMES)


# ---------------------------------------------------------------------------------------------
# Diagnoses and procedures


class DiagnosisForm(forms.Form):
    text = forms.CharField(
        label="Diagnosis",
        required=False,
        widget=forms.TextInput(attrs={**_OFF, "placeholder": "In your words, or pick a code"}),
    )
    icd10_code = forms.CharField(
        label="ICD-10 code",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={**_OFF, "placeholder": "J06.9", "size": 8}),
    )
    qualifier = forms.CharField(
        label="Note beside the code",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={**_OFF, "placeholder": "recurrent, left ear, ..."}),
    )
    is_provisional = forms.BooleanField(label="Provisional", required=False)
    # A code chosen from the search results (the result's button names it).
    pick_code = forms.CharField(required=False, max_length=20)

    def service_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "text": data["text"],
            "qualifier": data["qualifier"],
            "icd10_code": data["pick_code"] or data["icd10_code"],
            "is_provisional": data["is_provisional"],
        }


class ProcedureForm(forms.Form):
    name = forms.CharField(
        label="Procedure",
        required=False,
        widget=forms.TextInput(attrs={**_OFF, "placeholder": "Dressing, nebulisation, ..."}),
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.TextInput(attrs=_OFF))


# ---------------------------------------------------------------------------------------------
# Prescription items


class _DosingFields(forms.Form):
    """What the doctor writes for every medicine: how much, how often, how long."""

    dose_amount = forms.CharField(
        label="Dose", required=False, widget=forms.TextInput(attrs={**_NUMBER, "size": 4})
    )
    dose_unit = forms.CharField(
        label="Unit",
        required=False,
        widget=forms.TextInput(attrs={**_OFF, "placeholder": "tablet, ml", "size": 6}),
    )
    frequency = forms.CharField(
        label="Frequency",
        required=False,
        widget=forms.TextInput(attrs={**_OFF, "placeholder": "1-0-1, BD, SOS", "size": 8}),
    )
    duration_days = forms.IntegerField(
        label="Days",
        required=False,
        widget=forms.NumberInput(attrs={**_WHOLE, "min": 1, "max": 365}),
    )
    timing = forms.ChoiceField(label="Timing", choices=FoodTiming.choices, required=False)
    instructions = forms.CharField(
        label="Instructions",
        required=False,
        widget=forms.TextInput(attrs={**_OFF, "placeholder": "Stop if rash appears"}),
    )
    long_term = forms.BooleanField(
        label="Long-term (remind the patient to refill)",
        required=False,
    )

    override_reason = forms.CharField(
        label="Reason to prescribe it anyway",
        required=False,
        max_length=300,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": "Tolerated it before under supervision ..."}
        ),
    )

    SERVICE_NAMES = {"form": "drug_form", "drug": "drug_id"}
    findings: list = []

    def dosing_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "dose_amount": data["dose_amount"].strip() or None,
            "dose_unit": data["dose_unit"],
            "frequency": data["frequency"],
            "duration_days": data["duration_days"],
            "timing": data["timing"],
            "instructions": data["instructions"],
            "long_term": data["long_term"],
        }

    def show_error(self, exc: DomainError) -> None:
        if isinstance(exc, PrescribingCheckFailed):
            # The findings are shown above the reason field, which the doctor now fills in.
            self.findings = exc.findings
            self.add_error(
                "override_reason",
                "Not added. Change the medicine, or give your reason to prescribe it anyway.",
            )
            return
        show_error(self, exc, self.SERVICE_NAMES)


class ItemForm(_DosingFields):
    """A new medicine: chosen from the clinic's drug list (drug_id), or typed in."""

    drug_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    brand_name = forms.CharField(required=False, max_length=60, widget=forms.HiddenInput)
    generic_name = forms.CharField(
        label="Generic name",
        required=False,
        widget=forms.TextInput(attrs={**_OFF, "placeholder": "PARACETAMOL"}),
    )
    strength = forms.CharField(
        label="Strength",
        required=False,
        widget=forms.TextInput(attrs={**_OFF, "placeholder": "500 mg", "size": 8}),
    )
    drug_form = forms.ChoiceField(
        label="Form", choices=_BLANK + list(DrugForm.choices), required=False
    )
    route = forms.ChoiceField(
        label="Route", choices=Route.choices, initial=Route.ORAL, required=False
    )

    field_order = ["drug_id", "generic_name", "strength", "drug_form", "route"]

    @classmethod
    def for_drug(cls, drug, brand_name: str = "", **kwargs: Any) -> ItemForm:
        """The form filled in from a drug on the clinic's list and its defaults."""
        dose = drug.default_dose
        initial = {
            "drug_id": drug.pk,
            "brand_name": brand_name,
            "generic_name": drug.generic_name,
            "strength": drug.strength,
            "drug_form": drug.form,
            "route": drug.route,
            "dose_amount": format(dose.normalize(), "f") if dose is not None else "1",
            "frequency": drug.default_frequency,
            "duration_days": drug.default_duration_days,
            "timing": drug.default_timing,
        }
        return cls(initial=initial, **kwargs)

    def typed_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "generic_name": data["generic_name"],
            "strength": data["strength"],
            "form": data["drug_form"],
            "route": data["route"] or Route.ORAL,
        }


class ItemUpdateForm(_DosingFields):
    """Changing a medicine already on a draft prescription."""

    @classmethod
    def for_item(cls, item: PrescriptionItem) -> ItemUpdateForm:
        return cls(
            initial={
                "dose_amount": format(Decimal(item.dose_amount).normalize(), "f"),
                "dose_unit": item.dose_unit,
                "frequency": item.frequency,
                "duration_days": item.duration_days,
                "timing": item.timing,
                "instructions": item.instructions,
                "long_term": item.long_term,
            },
            auto_id=f"id_item{item.pk}_%s",
        )


class TemplateSaveForm(forms.Form):
    name = forms.CharField(
        label="Template name",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={**_OFF, "placeholder": "Viral fever, adult"}),
    )

    @staticmethod
    def items_from(items: list[PrescriptionItem]) -> list[dict[str, Any]]:
        """The medicines of the prescription, as the template service takes them."""
        return [
            {
                "drug_id": item.drug_id,
                "generic_name": item.generic_name,
                "strength": item.strength,
                "form": item.form,
                "route": item.route,
                "dose_amount": Decimal(item.dose_amount),
                "dose_unit": item.dose_unit,
                "frequency": item.frequency,
                "duration_days": item.duration_days,
                "timing": item.timing,
                "instructions": item.instructions,
            }
            for item in items
            if item.stopped_at is None
        ]


class StopForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why is it stopped?", choices=_BLANK + list(STOP_REASONS.items())
    )


# ---------------------------------------------------------------------------------------------
# Signing and amending


class SignForm(forms.Form):
    confirm = forms.BooleanField(required=False)


class AmendForm(forms.Form):
    reason = forms.CharField(
        label="What needs correcting, and why?",
        required=False,
        max_length=400,
        widget=forms.TextInput(attrs={**_OFF, "placeholder": "Wrong dose for amoxicillin"}),
    )


# ---------------------------------------------------------------------------------------------
# The frequency preview


class FrequencyPreviewForm(forms.Form):
    """What the doctor has typed so far for one medicine (any of it may be missing)."""

    frequency = forms.CharField(required=False)
    dose_amount = forms.CharField(required=False)
    duration_days = forms.CharField(required=False)
    drug_form = forms.CharField(required=False)

    def preview(self) -> dict[str, str]:
        """{"label", "quantity", "error"}: the frequency in plain words and the quantity to
        dispense when it can be counted, or the parser's message."""
        data = self.cleaned_data if self.is_valid() else {}
        text = (data.get("frequency") or "").strip()
        if not text:
            return {"label": "", "quantity": "", "error": ""}
        try:
            frequency = parse_frequency(text)
        except FrequencyError as exc:
            return {"label": "", "quantity": "", "error": str(exc)}
        result = {"label": frequency.label, "quantity": "", "error": ""}
        dose_text = (data.get("dose_amount") or "").strip() or "1"
        try:
            dose = Decimal(dose_text)
        except InvalidOperation:
            result["error"] = "Enter the dose as a number, for example 1 or 0.5."
            return result
        days_text = (data.get("duration_days") or "").strip()
        days = int(days_text) if days_text.isdigit() and 0 < int(days_text) <= 365 else None
        form = data.get("drug_form") or ""
        try:
            quantity = quantity_to_dispense(
                frequency, dose_amount=dose, duration_days=days, form=form
            )
        except FrequencyError as exc:
            result["error"] = str(exc)
            return result
        except (TypeError, ValueError):
            result["error"] = "The dose must be more than zero."
            return result
        if quantity is not None:
            one, many = COUNTED_UNITS.get(form, ("unit", "units"))
            result["quantity"] = f"{quantity} {one if quantity == 1 else many}"
        return result
