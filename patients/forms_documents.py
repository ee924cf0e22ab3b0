"""Forms for documents. They parse input; what a file may be is decided by patients/uploads.py."""

from __future__ import annotations

from django import forms

from patients.models import UPLOAD_KINDS, DocumentKind, Patient, Visit
from patients.uploads import ACCEPTED_TEXT, UploadRefused, check_size, max_bytes


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label="What is it?", choices=[(k.value, DocumentKind(k).label) for k in UPLOAD_KINDS]
    )
    title = forms.CharField(
        label="Title",
        required=False,
        max_length=200,
        help_text="For example: CBC report, 12 Nov. Leave empty to use the kind.",
    )
    visit = forms.ModelChoiceField(
        label="From visit", queryset=Visit.objects.none(), required=False
    )
    # Empty files reach the service, whose message says what to do about them.
    file = forms.FileField(
        label="File",
        allow_empty_file=True,
        help_text=f"{ACCEPTED_TEXT}, up to the size limit.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.webp"}),
    )

    def __init__(self, *args, patient: Patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visit"].queryset = (
            Visit.objects.filter(patient=patient)
            .select_related("doctor__user")
            .order_by("-created_at")
        )
        self.fields["visit"].label_from_instance = lambda v: (
            f"{v.created_at:%d %b %Y} · {v.doctor.user.full_name}"
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # Refuse an oversized file before reading it into memory.
        if upload.size > max_bytes():
            try:
                check_size(upload.size)
            except UploadRefused as exc:
                raise forms.ValidationError(exc.message) from None
        return upload
