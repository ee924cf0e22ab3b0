"""Forms of the rights desk: record a request, check identity, move it, propose and decide a
correction, record a nominee and the evidence they show."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from clinics.dates import validate_usable_day
from compliance.rights.models import (
    EvidenceKind,
    IdType,
    Requester,
    RightsKind,
    RightsStatus,
    Verification,
)
from compliance.rights.rules import PATIENT_FIELDS, VISIT_FIELDS
from patients.forms import PatientForm
from patients.models import Relation

TEXT = {"rows": 3}


class RecordForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the patient asks for"), choices=RightsKind.choices)
    requester = forms.ChoiceField(
        label=_("Who asks"),
        choices=[c for c in Requester.choices if c[0] != Requester.OTHER],
        initial=Requester.PATIENT,
    )
    guardian = forms.TypedChoiceField(
        label=_("Guardian (when a guardian asks)"), required=False, coerce=int, empty_value=None
    )
    records_copy = forms.BooleanField(
        label=_("They want copies of their medical records (due within 72 hours)"), required=False
    )
    details = forms.CharField(
        label=_("What they asked, in their words"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs=TEXT),
    )

    def __init__(self, *args, guardians=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["guardian"].choices = [("", "-")] + [
            (g.pk, g.display_name if hasattr(g, "display_name") else str(g)) for g in guardians
        ]


class GrievanceForm(forms.Form):
    """A grievance from someone who is not a patient (a relative, a member of the public): who
    they are and how to reach them; the service checks the rest."""

    requester_name = forms.CharField(label=_("Their name"), max_length=200)
    requester_phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    requester_email = forms.EmailField(label=_("Email"), max_length=254, required=False)
    details = forms.CharField(
        label=_("The grievance, in their words"),
        max_length=4000,
        widget=forms.Textarea(attrs=TEXT),
    )

    def clean(self):
        data = super().clean()
        if not self.errors and not (data.get("requester_phone") or data.get("requester_email")):
            self.add_error(
                "requester_phone",
                _("Give a phone number or an email address, so the clinic can answer."),
            )
        return data


class VerifyForm(forms.Form):
    method = forms.ChoiceField(
        label=_("How identity was checked"),
        choices=[c for c in Verification.choices if c[0]],
    )
    id_type = forms.ChoiceField(
        label=_("ID shown"), choices=[("", "-"), *IdType.choices], required=False
    )
    id_last4 = forms.CharField(
        label=_("Last 4 characters of the ID"),
        required=False,
        max_length=4,
        help_text=_("Never the whole number."),
        error_messages={
            "max_length": _("Enter only the last 4 characters of the ID, never the whole number.")
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": 4}),
    )
    code = forms.CharField(
        label=_("One-time code the patient reads back"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class AssignForm(forms.Form):
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", _("Nobody"))] + [
            (m.pk, m.user.full_name or m.user.email) for m in members
        ]


class MoveForm(forms.Form):
    status = forms.ChoiceField(label=_("Move to"), choices=RightsStatus.choices)
    reply = forms.CharField(
        label=_("Answer to the requester (for done or refused)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs=TEXT),
        help_text=_("The clinic's privacy contact and the reference are added to it."),
    )
    reason = forms.CharField(label=_("Reason (for refused)"), required=False, max_length=4000)


def _field_choices() -> list[tuple[str, str]]:
    """The fields a correction may change, named as the patient's form names them (in the
    page's language); a visit's notes by their name."""
    labels = {name: field.label for name, field in PatientForm.base_fields.items()}
    patient = [(f, labels.get(f) or f.replace("_", " ").capitalize()) for f in PATIENT_FIELDS]
    visit = [
        (f"visit:{f}", _("Visit: %(field)s") % {"field": f.replace("_", " ")}) for f in VISIT_FIELDS
    ]
    return patient + visit


class ProposeForm(forms.Form):
    field = forms.ChoiceField(label=_("Field"), choices=())
    visit = forms.TypedChoiceField(label=_("Visit"), coerce=int, required=False, empty_value=None)
    new_value = forms.CharField(
        label=_("Correct value"), max_length=4000, required=False, widget=forms.Textarea(attrs=TEXT)
    )

    def __init__(self, *args, visits=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = _field_choices()
        self.fields["visit"].choices = [("", "-")] + [
            (v.pk, f"{v.created_at:%d %b %Y} (version {v.version})") for v in visits
        ]

    def clean(self):
        data = super().clean()
        field = data.get("field") or ""
        if field.startswith("visit:") and not data.get("visit"):
            self.add_error("visit", _("Choose the visit to correct."))
        return data


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("refuse", _("Refuse"))])
    reason = forms.CharField(label=_("Reason (when refusing)"), required=False, max_length=4000)


class NominationForm(forms.Form):
    name = forms.CharField(label=_("Nominee's name"), max_length=200)
    relation = forms.ChoiceField(label=_("Relation to the patient"), choices=Relation.choices)
    phone = PhoneNumberField(region="IN", label=_("Nominee's phone"))


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Evidence shown"), choices=EvidenceKind.choices)
    document_date = forms.DateField(
        label=_("Date on the document"),
        validators=[validate_usable_day],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)
