"""The owner's form for the clinic's Razorpay keys (secrets write-only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.razorpay.models import RazorpayAccount

_SECRET_ATTRS = {"autocomplete": "new-password", "spellcheck": "false"}


def _secret(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=200,
        strip=True,
        widget=forms.PasswordInput(attrs=_SECRET_ATTRS, render_value=False),
        help_text=help_text,
    )


class RazorpayKeysForm(forms.Form):
    key_id = forms.CharField(
        label=_("Key id"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "rzp_live_..."}),
        help_text=_("Razorpay Dashboard: Account & Settings, API keys."),
    )
    key_secret = _secret(_("Key secret"), _("Shown once by Razorpay when the key is made."))
    webhook_secret = _secret(
        _("Webhook secret"), _("The secret you typed when adding the webhook address below.")
    )

    def __init__(self, *args: Any, account: RazorpayAccount | None = None, **kwargs: Any):
        if account is not None and "initial" not in kwargs:
            kwargs["initial"] = {"key_id": account.key_id}  # never the secrets
        super().__init__(*args, **kwargs)
        if account is not None:
            for name in ("key_secret", "webhook_secret"):
                self.fields[name].required = False
                self.fields[name].help_text = _("Leave empty to keep the stored one.")
