"""Forms for the clinic-level pages. They parse and check input; services do the rest."""

from __future__ import annotations

import re
import zoneinfo
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from phonenumber_field.formfields import PhoneNumberField

from clinics.audit import Actions
from clinics.dates import MAX_BOOKING_HORIZON_DAYS, MIN_BOOKING_HORIZON_DAYS
from clinics.images import TooManyPixels, check_pixels
from clinics.roles import Role
from clinics.states import STATE_CHOICES
from clinics.validators import normalise_gstin, validate_gstin_format, validate_pincode

SIGNATURE_MAX_BYTES = 1024 * 1024
SIGNATURE_FORMATS = {"PNG", "JPEG"}
SIGNATURE_MAX_PIXELS = 4000
# India keeps one time zone; the others are its neighbours' and the Gulf's, where clinics that
# serve Indian patients also run. They come first, the full list after them.
COMMON_TIMEZONES = [
    ("Asia/Kolkata", "Asia/Kolkata: India (IST, +05:30)"),
    ("Asia/Kathmandu", "Asia/Kathmandu: Nepal (+05:45)"),
    ("Asia/Dhaka", "Asia/Dhaka: Bangladesh (+06:00)"),
    ("Asia/Colombo", "Asia/Colombo: Sri Lanka (+05:30)"),
    ("Asia/Dubai", "Asia/Dubai: United Arab Emirates (+04:00)"),
    ("Asia/Singapore", "Asia/Singapore: Singapore (+08:00)"),
]
TIMEZONE_CHOICES = [
    ("Common for Indian clinics", COMMON_TIMEZONES),
    (
        "All time zones",
        [
            (tz, tz)
            for tz in sorted(zoneinfo.available_timezones())
            if tz not in dict(COMMON_TIMEZONES)
        ],
    ),
]


def _code_input(**attrs) -> forms.TextInput:
    return forms.TextInput(
        attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
        | attrs
    )


# ---------------------------------------------------------------------------------------------
# Signing in


class SignInForm(forms.Form):
    # Named `username` because django-axes reads the sign-in name from this POST field.
    username = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class OtpForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=16,
        help_text="The 6-digit code your authenticator app shows now, or one of your backup codes.",
        widget=_code_input(autofocus=True),
    )

    def clean_token(self) -> str:
        return re.sub(r"\s", "", self.cleaned_data["token"])


class TotpConfirmForm(forms.Form):
    token = forms.CharField(
        label="Code from the app",
        max_length=10,
        widget=_code_input(inputmode="numeric", pattern=r"[0-9 ]*"),
    )

    def clean_token(self) -> str:
        return re.sub(r"\s", "", self.cleaned_data["token"])


class VaidyaPasswordResetForm(PasswordResetForm):
    email = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def save(self, **kwargs):
        # Links in the email point at SITE_URL, never at the Host header the request carried.
        site = urlsplit(settings.SITE_URL)
        kwargs.update(domain_override=site.netloc, use_https=site.scheme == "https")
        return super().save(**kwargs)


# ---------------------------------------------------------------------------------------------
# Staff


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254)
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.FRONT_DESK)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class PixelLimitedImageField(forms.ImageField):
    """An ImageField that first refuses an image of more than UPLOAD_MAX_PIXELS, read from its
    header, with a message naming the limit (Django's own check would open it, and call a
    refusal from Pillow "not a valid image")."""

    def __init__(self, *, what: str, **kwargs):
        super().__init__(**kwargs)
        self.what = what

    def to_python(self, data):
        if data not in self.empty_values and hasattr(data, "seek"):
            try:
                check_pixels(data, self.what)
            except TooManyPixels as exc:
                raise ValidationError(exc.message, code="too_many_pixels") from None
        return super().to_python(data)


class DoctorProfileForm(forms.Form):
    qualifications = forms.CharField(max_length=200, help_text="For example: MBBS, MD (Medicine)")
    medical_council = forms.CharField(
        max_length=120, help_text="For example: Karnataka Medical Council"
    )
    registration_number = forms.CharField(label="Registration number", max_length=40)
    specialisation = forms.CharField(max_length=120, required=False)
    signature = PixelLimitedImageField(
        what="signature image",
        label="Signature image",
        required=False,
        help_text="A PNG or JPEG of the doctor's signature, up to 1 MB.",
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg"}),
    )

    def clean_signature(self):
        return _checked_image(self.cleaned_data.get("signature"), "signature image")


def _checked_image(image, what: str):
    """A PNG or JPEG of at most 1 MB and SIGNATURE_MAX_PIXELS a side, or a clear error."""
    if not image:
        return None
    if image.size > SIGNATURE_MAX_BYTES:
        raise ValidationError(f"The {what} is larger than 1 MB. Use a smaller image.")
    # ImageField has already opened and verified the file with Pillow: `image.image` is it.
    checked = getattr(image, "image", None)
    if checked is None or checked.format not in SIGNATURE_FORMATS:
        raise ValidationError(f"Upload the {what} as a PNG or JPEG image.")
    width, height = checked.size
    if width > SIGNATURE_MAX_PIXELS or height > SIGNATURE_MAX_PIXELS:
        raise ValidationError(
            f"The {what} is too big; keep it under {SIGNATURE_MAX_PIXELS} pixels wide and high."
        )
    image.seek(0)
    return image


# ---------------------------------------------------------------------------------------------
# Invitations


class InvitationAcceptForm(forms.Form):
    full_name = forms.CharField(
        label="Your full name",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name", "autofocus": True}),
    )
    password = forms.CharField(
        label="Choose a password",
        strip=False,
        help_text="At least 10 characters; not a common password and not only numbers.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_confirm = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("password")
            and data.get("password_confirm")
            and data["password"] != data["password_confirm"]
        ):
            self.add_error("password_confirm", "The two passwords are not the same.")
        return data


# ---------------------------------------------------------------------------------------------
# Clinic settings


class ClinicSettingsForm(forms.Form):
    name = forms.CharField(label="Clinic name", max_length=200)
    address = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"})
    )
    city = forms.CharField(max_length=100, required=False)
    pincode = forms.CharField(
        label="PIN code",
        max_length=6,
        required=False,
        validators=[validate_pincode],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    state_code = forms.ChoiceField(label="State", choices=STATE_CHOICES)
    phone = PhoneNumberField(region="IN", required=False, label="Phone")
    email = forms.EmailField(required=False, max_length=254)
    timezone = forms.ChoiceField(label="Time zone", choices=TIMEZONE_CHOICES)
    gstin = forms.CharField(
        label="GSTIN",
        max_length=20,
        required=False,
        help_text="Only if the clinic is registered for GST. Its first two digits are the "
        "state code.",
    )
    letterhead_tagline = forms.CharField(label="Letterhead tagline", max_length=200, required=False)
    timings = forms.CharField(
        max_length=200, required=False, help_text="For example: Mon-Sat 10:00-13:00, 17:00-20:00"
    )
    registration_details = forms.CharField(
        max_length=200,
        required=False,
        help_text="Clinical establishment registration number and authority.",
    )
    logo = PixelLimitedImageField(
        what="logo",
        label="Logo",
        required=False,
        help_text="A PNG or JPEG, up to 1 MB. It is printed on the letterhead of documents.",
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg"}),
    )
    remove_logo = forms.BooleanField(label="Remove the logo", required=False)
    booking_horizon_days = forms.IntegerField(
        label="Booking horizon (days)",
        required=False,
        min_value=MIN_BOOKING_HORIZON_DAYS,
        max_value=MAX_BOOKING_HORIZON_DAYS,
        help_text=f"How many days ahead appointments can be booked, "
        f"{MIN_BOOKING_HORIZON_DAYS} to {MAX_BOOKING_HORIZON_DAYS}. Appointments already "
        "booked further ahead stay.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    privacy_contact_name = forms.CharField(
        label="Contact person for privacy",
        max_length=200,
        required=False,
        help_text="Named in every answer to a patient's data request (DPDP Rules, rule 9).",
    )
    privacy_contact_email = forms.EmailField(label="Their email", required=False, max_length=254)
    privacy_contact_phone = PhoneNumberField(region="IN", required=False, label="Their phone")
    rights_target_days = forms.IntegerField(
        label="Answer data requests within (days)",
        required=False,
        min_value=1,
        max_value=90,
        help_text="The clinic's own target, 1 to 90 days (the law's limit). Copies of medical "
        "records are always due within 72 hours.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    require_two_factor = forms.BooleanField(
        label="Everyone must use a two-factor code to sign in",
        required=False,
        help_text="Staff without an authenticator app are asked to set one up.",
    )

    def clean_logo(self):
        return _checked_image(self.cleaned_data.get("logo"), "logo")

    def clean_booking_horizon_days(self) -> int | None:
        # Left out of the post (an older page, a script): the clinic keeps its horizon.
        value = self.cleaned_data.get("booking_horizon_days")
        return self.initial.get("booking_horizon_days") if value is None else value

    def clean_rights_target_days(self) -> int | None:
        # Left out of the post (an older page): the clinic keeps its target.
        value = self.cleaned_data.get("rights_target_days")
        return self.initial.get("rights_target_days") if value is None else value

    def clean_privacy_contact_name(self) -> str:
        return " ".join((self.cleaned_data.get("privacy_contact_name") or "").split())

    def clean_gstin(self) -> str:
        value = normalise_gstin(self.cleaned_data.get("gstin", ""))
        validate_gstin_format(value)
        return value


# ---------------------------------------------------------------------------------------------
# API keys


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What will use the key, for example: Lab results import."
    )
    role = forms.ChoiceField(
        choices=Role.choices,
        initial=Role.FRONT_DESK,
        help_text="The key may do what a staff member with this role may do.",
    )
    read_only = forms.BooleanField(
        label="Read only (the key can look, not change)", required=False, initial=True
    )


# ---------------------------------------------------------------------------------------------
# Audit trail

_PATIENT_NUMBER_RE = re.compile(r"^p\s*-?\s*0*(\d{1,9})$", re.IGNORECASE)


# Words an action name spells in lower case that people write otherwise.
_ACTION_WORDS = {
    "abha": "ABHA", "api": "API", "gst": "GST", "id": "ID", "otp": "OTP", "pdf": "PDF",
    "qr": "QR", "upi": "UPI", "whatsapp": "WhatsApp",
}  # fmt: skip


def action_label(action: str) -> str:
    """'patients.patient.viewed' -> 'Patient viewed'; 'billing.bill.pdf_stored' -> 'Bill PDF
    stored'."""
    parts = action.split(".")
    words = " ".join(parts[-2:]).replace("_", " ").capitalize().split(" ")
    return " ".join(_ACTION_WORDS.get(w.lower(), w) for w in words)


class AuditFilterForm(forms.Form):
    patient = forms.CharField(
        required=False,
        max_length=20,
        help_text="Patient number (P-000123) or record id.",
        widget=forms.TextInput(attrs={"placeholder": "P-000123"}),
    )
    actor = forms.TypedChoiceField(
        label="Staff member", required=False, coerce=int, empty_value=None
    )
    action = forms.ChoiceField(required=False)
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].choices = [("", "Anyone")] + [
            (m.user_id, m.user.full_name or m.user.email) for m in staff
        ]
        self.fields["action"].choices = [("", "Any action")] + [
            (a, action_label(a)) for a in Actions.all()
        ]

    def clean_patient(self) -> dict:
        """{'number': 123} for P-000123, {'id': 45} for 45, {} when empty."""
        value = re.sub(r"\s", "", self.cleaned_data.get("patient", ""))
        if not value:
            return {}
        number = _PATIENT_NUMBER_RE.match(value)
        if number:
            return {"number": int(number.group(1))}
        if value.isdigit() and len(value) <= 18:
            return {"id": int(value)}
        raise ValidationError("Enter a patient number like P-000123.")

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data
