"""Two-factor devices: shown (whose, confirmed, last used), never their seed or codes.

django-otp's own admin pages for `TOTPDevice` and `StaticDevice` show the TOTP key and the
backup codes; Vaidya keeps neither there (their tables are empty), so those pages are removed.
A person turns two-factor on and off on their own sign-in security page.
"""

from __future__ import annotations

from django.contrib import admin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinics.admin.base import ReadOnlyAdmin
from clinics.two_factor import AuthenticatorApp, BackupCodes

for plain_text_device in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(plain_text_device):
        admin.site.unregister(plain_text_device)

DEVICE_FIELDS = ("user", "name", "confirmed", "created_at", "last_used_at")


@admin.register(AuthenticatorApp)
class AuthenticatorAppAdmin(ReadOnlyAdmin):
    readonly_what = "two-factor devices"
    list_display = DEVICE_FIELDS
    list_filter = ("confirmed",)
    list_select_related = ("user",)
    search_fields = ("=user__email",)
    fields = DEVICE_FIELDS  # never `secret`


@admin.register(BackupCodes)
class BackupCodesAdmin(ReadOnlyAdmin):
    readonly_what = "two-factor devices"
    list_display = (*DEVICE_FIELDS, "codes_left")
    list_select_related = ("user",)
    search_fields = ("=user__email",)
    fields = (*DEVICE_FIELDS, "codes_left")

    @admin.display(description="Unused codes")
    def codes_left(self, obj: BackupCodes) -> int:
        return obj.codes.count()
