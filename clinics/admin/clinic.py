"""Clinics: their details, edited through `clinic_update`, and their number series."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import transaction

from clinics.admin.base import ReadOnlyAdmin, VaidyaModelAdmin
from clinics.errors import DomainError
from clinics.models import Clinic, ClinicCounter, User
from clinics.services import CLINIC_EDITABLE_FIELDS, clinic_update
from clinics.tenancy import clinic_scope
from clinics.web import add_domain_error


class ClinicAdminForm(forms.ModelForm):
    """Edits a clinic through `clinic_update`: same checks and audit event as its settings page.

    `clean()` runs the service in a savepoint that is rolled back, so its refusals (such as a
    GSTIN of another state) show on the form; `ClinicAdmin.save_model` then runs it for real.
    """

    actor: User | None = None

    class Meta:
        model = Clinic
        fields = CLINIC_EDITABLE_FIELDS

    def service_changes(self) -> dict:
        return {f: self.cleaned_data[f] for f in self.changed_data if f in CLINIC_EDITABLE_FIELDS}

    def clean(self):
        cleaned = super().clean()
        changes = self.service_changes() if not self.errors else {}
        if changes and self.instance.pk:
            try:
                with transaction.atomic():
                    clinic_update(clinic=self.instance, actor=self.actor, **changes)
                    transaction.set_rollback(True)
            except DomainError as exc:
                add_domain_error(self, exc)
        return cleaned


@admin.register(Clinic)
class ClinicAdmin(VaidyaModelAdmin):
    """Clinics are created with `manage.py create_clinic` (or the sign-up flow), not here."""

    form = ClinicAdminForm
    list_display = ("name", "slug", "state_code", "city", "is_active", "created_at")
    list_filter = ("is_active", "require_two_factor", "state_code")
    search_fields = ("name", "=slug", "city", "=gstin", "email")
    readonly_fields = ("slug", "is_active", "created_at", "logo")
    fieldsets = (
        (None, {"fields": ("name", "slug", "is_active", "created_at")}),
        (
            "Address and contact",
            {"fields": ("address", "city", "pincode", "state_code", "phone", "email")},
        ),
        ("Tax and registration", {"fields": ("gstin", "registration_details")}),
        (
            "Letterhead and settings",
            {
                "fields": (
                    "letterhead_tagline",
                    "timings",
                    "logo",
                    "timezone",
                    "require_two_factor",
                )
            },
        ),
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.actor = request.user  # `form` is a class made for this request
        return form

    def save_model(self, request, obj, form, change):
        changes = form.service_changes()
        if changes:
            with clinic_scope(obj):
                clinic_update(clinic=obj, actor=request.user, **changes)


@admin.register(ClinicCounter)
class ClinicCounterAdmin(ReadOnlyAdmin):
    list_display = ("clinic", "name", "value")
    list_select_related = ("clinic",)
    search_fields = ("=clinic__slug", "=name")
    fields = ("clinic", "name", "value")
