"""Forms for medical certificates. They parse input; the certificate services decide what may be
issued (and say why not). There is deliberately no field for the issue time: it is the server's
clock when the certificate is issued.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django import forms

from clinics.formatting import format_date
from patients.models import CertificateKind, CertificateStatus, MedicalCertificate, Patient, Visit

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _visit_labeller(tz: ZoneInfo | None):
    def label(visit: Visit) -> str:
        doctor = visit.doctor.user.full_name or visit.doctor.user.email
        version = f" (version {visit.version})" if visit.version > 1 else ""
        return f"Visit of {format_date(visit.created_at, tz)}{version} · {doctor}"

    return label


class CertificateForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind of certificate",
        choices=CertificateKind.choices,
        initial=CertificateKind.SICKNESS,
        widget=forms.RadioSelect,
    )
    visit = forms.ModelChoiceField(
        label="Examination (visit)",
        queryset=Visit.objects.none(),
        required=False,
        empty_label="Examined today, no visit recorded",
        help_text="The certificate may take effect from the day of this examination, not earlier.",
    )
    effective_from = forms.DateField(label="Effective from", required=False, widget=DATE_INPUT)
    effective_to = forms.DateField(
        label="Last day of rest",
        required=False,
        widget=DATE_INPUT,
        help_text="Sickness: the last day of rest advised (included). Fitness: leave empty.",
    )
    condition = forms.CharField(label="Diagnosis or condition", required=False, max_length=300)
    identification_mark = forms.CharField(
        label="Identification mark",
        required=False,
        max_length=200,
        help_text="A visible mark, for example: a mole on the left cheek.",
    )
    purpose = forms.CharField(
        label="Issued for",
        required=False,
        max_length=200,
        help_text="Who asked for it, for example: the employer, the school.",
    )
    remarks = forms.CharField(
        label="Remarks", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, patient: Patient, tz: ZoneInfo | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visit"].queryset = (
            Visit.objects.filter(patient=patient, superseded_at__isnull=True)
            .select_related("doctor__user")
            .order_by("-created_at")
        )
        self.fields["visit"].label_from_instance = _visit_labeller(tz)

    def service_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "visit": data.get("visit"),
            "effective_from": data.get("effective_from"),
            "effective_to": data.get("effective_to"),
            "condition": data.get("condition", ""),
            "identification_mark": data.get("identification_mark", ""),
            "purpose": data.get("purpose", ""),
            "remarks": data.get("remarks", ""),
        }

    @classmethod
    def initial_for_correction(cls, certificate: MedicalCertificate) -> dict[str, Any]:
        return {
            "kind": certificate.kind,
            "visit": certificate.visit_id,
            "effective_from": certificate.effective_from,
            "effective_to": certificate.effective_to,
            "condition": certificate.condition,
            "identification_mark": certificate.identification_mark,
            "purpose": certificate.purpose,
            "remarks": certificate.remarks,
        }


class CorrectionForm(CertificateForm):
    reason = forms.CharField(
        label="What was wrong with the earlier certificate?",
        required=False,
        max_length=300,
        help_text="Kept in the audit trail. The corrected certificate gets a new number.",
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="Why is it being revoked?",
        required=False,
        max_length=300,
        help_text="Shown in the register. The certificate's verification page will say it is "
        "no longer valid.",
    )


class RegisterFilterForm(forms.Form):
    year = forms.TypedChoiceField(label="Year", required=False, coerce=int, empty_value=None)
    kind = forms.ChoiceField(
        label="Kind", required=False, choices=[("", "All kinds"), *CertificateKind.choices]
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *CertificateStatus.choices]
    )
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "MC/2026/00012, P-000123 or a name"}
        ),
    )

    def __init__(self, *args, years: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", "All years"), *((y, str(y)) for y in years)]


class ExportForm(forms.Form):
    year = forms.IntegerField(label="Year", min_value=2000, max_value=2999)
