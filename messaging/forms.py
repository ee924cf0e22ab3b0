"""Forms for the messaging settings pages. They only parse input; the services decide.

Secret fields (access token, app secret, verify token) are password inputs that never render
their value back: after saving, the page only says whether one is on file.
"""

from __future__ import annotations

from typing import Any

from django import forms

from messaging.models import Language, MessagingSettings, WhatsAppAccount
from messaging.services.accounts import SETTINGS_EDITABLE_FIELDS

_SECRET_ATTRS = {"autocomplete": "new-password", "spellcheck": "false"}
_ID_ATTRS = {"inputmode": "numeric", "autocomplete": "off"}


def _secret(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=1000,
        strip=True,
        widget=forms.PasswordInput(attrs=_SECRET_ATTRS, render_value=False),
        help_text=help_text,
    )


class AccountForm(forms.Form):
    """Connect the clinic's WhatsApp number, or change it (`editing=True`: secrets optional)."""

    phone_number_id = forms.CharField(
        label="Phone number id",
        max_length=40,
        widget=forms.TextInput(attrs={**_ID_ATTRS, "placeholder": "109876543210001"}),
        help_text="In Meta's WhatsApp Manager: Phone numbers, then the number's details.",
    )
    business_account_id = forms.CharField(
        label="WhatsApp Business Account id",
        max_length=40,
        widget=forms.TextInput(attrs={**_ID_ATTRS, "placeholder": "209876543210001"}),
    )
    display_number = forms.CharField(
        label="WhatsApp number",
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "placeholder": "+91 80 4000 1234"}),
        help_text="The number patients see.",
    )
    access_token = _secret(
        "Access token", "A permanent token of a system user with WhatsApp messaging rights."
    )
    app_secret = _secret("App secret", "From the Meta app's basic settings; signs webhooks.")
    verify_token = _secret(
        "Webhook verify token",
        "Any long random text; paste the same text into Meta's webhook settings.",
    )
    send_rate_per_second = forms.IntegerField(
        label="Messages per second",
        required=False,
        min_value=1,
        max_value=1000,
        help_text="Leave empty for Meta's default of 80.",
    )

    def __init__(self, *args: Any, account: WhatsAppAccount | None = None, **kwargs: Any):
        self.account = account
        if account is not None and "initial" not in kwargs:
            # Never the secrets: they are not shown again.
            kwargs["initial"] = {
                "phone_number_id": account.phone_number_id,
                "business_account_id": account.business_account_id,
                "display_number": account.display_number,
                "send_rate_per_second": account.send_rate_per_second,
            }
        super().__init__(*args, **kwargs)
        if account is None:
            del self.fields["send_rate_per_second"]
            return
        for name in ("access_token", "app_secret", "verify_token"):
            field = self.fields[name]
            field.required = False
            is_set = bool(getattr(account, name))
            field.help_text = (
                "Set. Leave empty to keep it; paste a new one to replace it."
                if is_set
                else "Not set."
            )

    @property
    def editing(self) -> bool:
        return self.account is not None

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if not self.editing:
            data.pop("send_rate_per_second", None)
        return data


class MessagingSettingsForm(forms.Form):
    """Reminders, quiet hours and escalations for the clinic."""

    send_appointment_confirmations = forms.BooleanField(
        label="Send a confirmation when an appointment is booked", required=False
    )
    appointment_reminder_hours = forms.CharField(
        label="Remind patients this many hours before the appointment",
        max_length=60,
        required=False,
        help_text="Whole hours between 1 and 168, separated by commas, e.g. 24, 2. Empty: none.",
    )
    send_medicine_reminders = forms.BooleanField(label="Send medicine reminders", required=False)
    discreet_sensitive_medicines = forms.BooleanField(
        label="Do not name sensitive medicines in reminders",
        required=False,
        help_text="Psychiatric, HIV, sexual and reproductive health and addiction medicines: "
        'the reminder says "your evening medicines (2)". Each patient can be set otherwise.',
    )
    send_follow_up_reminders = forms.BooleanField(label="Send follow-up reminders", required=False)
    follow_up_reminder_time = forms.TimeField(
        label="Follow-up reminder time",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="On the day before the follow-up date, clinic time.",
    )
    refill_reminder_days = forms.IntegerField(
        label="Refill reminder, days before a long-term medicine runs out",
        min_value=1,
        max_value=30,
        required=False,
        help_text="Empty keeps the current number (3 at first).",
    )
    send_review_requests = forms.BooleanField(
        label="Ask for a rating after a visit", required=False
    )
    review_request_delay_hours = forms.IntegerField(
        label="Hours after the visit to ask", min_value=0, max_value=72
    )
    review_link = forms.URLField(
        label="Review link",
        required=False,
        assume_scheme="https",
        help_text="Where happy patients can leave a review (for example your Google profile).",
    )
    quiet_hours_start = forms.TimeField(
        label="Quiet hours start", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    quiet_hours_end = forms.TimeField(
        label="Quiet hours end",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="No reminders are sent between these times (clinic time).",
    )
    missed_doses_threshold = forms.IntegerField(
        label="Alert the doctor after this many missed doses in a row", min_value=1, max_value=50
    )
    low_rating_threshold = forms.IntegerField(
        label="Ratings at or below this alert the doctor", min_value=1, max_value=4
    )
    trouble_words = forms.CharField(
        label="Words that alert the doctor",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One word or phrase per line, in any language patients write in.",
    )
    alert_doctor_on_whatsapp = forms.BooleanField(
        label="Let doctors get alerts on their own WhatsApp",
        required=False,
        help_text="Each doctor turns it on for themselves under My WhatsApp alerts. Every alert "
        "is a WhatsApp message from the clinic's number, which Meta charges for.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("refill_reminder_days") is None:
            data.pop("refill_reminder_days", None)  # left empty: unchanged
        return data

    @classmethod
    def initial_for(cls, row: MessagingSettings) -> dict[str, Any]:
        initial = {field: getattr(row, field) for field in SETTINGS_EDITABLE_FIELDS}
        initial["appointment_reminder_hours"] = ", ".join(
            str(h) for h in row.appointment_reminder_hours or []
        )
        return initial


class WhatsAppAlertsForm(forms.Form):
    """A staff member's own WhatsApp number and language for escalation alerts."""

    phone = forms.CharField(
        label="Your WhatsApp number",
        max_length=30,
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "placeholder": "98765 43210"}
        ),
        help_text="Indian numbers need no +91.",
    )
    language = forms.ChoiceField(
        label="Language of the alerts", choices=Language.choices, initial=Language.ENGLISH
    )


class TemplateLanguageForm(forms.Form):
    """Vaidya's templates in a language the clinic adds: a body per purpose (the English shown
    beside it, with its placeholders) and the buttons' labels, separated by "|"."""

    language = forms.ChoiceField(label="Language", choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from messaging.services.template_languages import (  # noqa: PLC0415
            addable_languages,
            language_purposes,
        )

        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", "Choose a language"), *addable_languages()]
        self.purposes = language_purposes()
        for default in self.purposes:
            if default.category != "AUTHENTICATION":
                self.fields[f"{default.purpose}_body"] = forms.CharField(
                    label=f"{default.purpose.replace('_', ' ').capitalize()}",
                    help_text=f"In English: {default.body}",
                    widget=forms.Textarea(attrs={"rows": 3}),
                    max_length=1024,
                    required=False,
                )
            if default.button_texts:
                digits = all(text.isdigit() for text in default.button_texts)
                self.fields[f"{default.purpose}_buttons"] = forms.CharField(
                    label="Buttons, separated by |",
                    help_text="In English: " + " | ".join(default.button_texts),
                    initial=" | ".join(default.button_texts) if digits else "",
                    max_length=200,
                    required=False,
                )

    def texts(self) -> dict:
        from messaging.services.template_languages import PurposeText  # noqa: PLC0415

        data = self.cleaned_data
        out = {}
        for default in self.purposes:
            raw = data.get(f"{default.purpose}_buttons") or ""
            buttons = tuple(part.strip() for part in raw.split("|")) if raw.strip() else ()
            out[default.purpose] = PurposeText(data.get(f"{default.purpose}_body") or "", buttons)
        return out

    def add_errors(self, errors: dict[str, list[str]]) -> None:
        for purpose, problems in errors.items():
            field = f"{purpose}_body" if f"{purpose}_body" in self.fields else f"{purpose}_buttons"
            for problem in problems:
                self.add_error(field, problem)
