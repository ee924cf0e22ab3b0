"""Django admin for the people who run a Vaidya installation: superusers only.

Clinic staff never use the admin; they work in the clinic's pages. Three rules hold here:

- Only active superusers get in. `is_staff` alone opens nothing: the site and every model admin
  check `is_superuser`.
- The admin sees every clinic: each view runs under `scopes_disabled()` and renders its page
  before leaving it (a template response renders lazily, after the view has returned).
- The admin never bypasses the audit trail. Changes that have a service go through it (and so
  write their audit event); records whose changes must be audited and have no service here
  are read-only, with the clinic's pages as the place to change them. The audit trail itself
  cannot be changed or deleted.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db import transaction
from django.http import HttpRequest
from django.template.response import SimpleTemplateResponse

from clinics.errors import DomainError
from clinics.models import (
    ApiKey,
    AuditChainHead,
    AuditEvent,
    Clinic,
    ClinicCounter,
    DoctorProfile,
    IdempotencyRecord,
    Invitation,
    Membership,
    User,
)
from clinics.services import (
    CLINIC_EDITABLE_FIELDS,
    api_key_revoke,
    clinic_update,
    invitation_revoke,
    membership_deactivate,
    membership_reactivate,
)
from clinics.tenancy import clinic_scope, scopes_disabled
from clinics.web import add_domain_error

READ_ONLY_NOTE = (
    "Read-only here: changes to {what} are made in the clinic's own pages, so that each one is "
    "checked and recorded in the clinic's audit trail."
)


def superusers_only(request: HttpRequest) -> bool:
    """Who may use the admin site at all: active superusers (is_staff alone is not enough)."""
    user = request.user
    return bool(user.is_active and user.is_staff and user.is_superuser)


admin.site.has_permission = superusers_only
admin.site.site_header = "Vaidya administration"
admin.site.site_title = "Vaidya admin"
admin.site.index_title = "Installation administration (superusers only)"


class VaidyaModelAdmin(admin.ModelAdmin):
    """Superusers only, and every view sees all clinics (rendered inside `scopes_disabled`)."""

    show_full_result_count = False  # no second COUNT(*) over large tables on every search

    # -- who ---------------------------------------------------------------------------------

    def has_module_permission(self, request):
        return superusers_only(request)

    def has_view_permission(self, request, obj=None):
        return superusers_only(request)

    def has_add_permission(self, request):
        return superusers_only(request)

    def has_change_permission(self, request, obj=None):
        return superusers_only(request)

    def has_delete_permission(self, request, obj=None):
        return superusers_only(request)

    # -- across clinics ------------------------------------------------------------------------

    def _unscoped(self, view, *args, **kwargs):
        with scopes_disabled():
            response = view(*args, **kwargs)
            if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                response.render()
        return response

    def changelist_view(self, request, extra_context=None):
        return self._unscoped(super().changelist_view, request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._unscoped(super().changeform_view, request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        return self._unscoped(super().delete_view, request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        return self._unscoped(super().history_view, request, object_id, extra_context)

    # -- helpers for actions that call a service per object -------------------------------------

    def run_service(self, request, queryset, service, done: str) -> None:
        """Call `service(obj)` for each selected object inside its clinic's scope."""
        succeeded, refused = 0, []
        for obj in queryset:
            try:
                with clinic_scope(obj.clinic_id):
                    service(obj)
                succeeded += 1
            except DomainError as exc:
                refused.append(f"{obj}: {exc.message}")
        if succeeded:
            self.message_user(request, f"{done}: {succeeded}.", messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.ERROR)


class ReadOnlyAdmin(VaidyaModelAdmin):
    """Shows records; no add, change or delete. `fields` lists what the page shows."""

    readonly_what = ""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET" and self.readonly_what:
            self.message_user(
                request, READ_ONLY_NOTE.format(what=self.readonly_what), messages.INFO
            )
        return super().change_view(request, object_id, form_url, extra_context)


# ---------------------------------------------------------------------------------------------
# People


class UserCreateForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email address exists already.")
        return email


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("An account with this email address exists already.")
        return email


@admin.register(User)
class UserAdmin(VaidyaModelAdmin, DjangoUserAdmin):
    """Accounts. Clinic access comes from memberships (see Memberships), not from here."""

    form = UserEditForm
    add_form = UserCreateForm
    list_display = ("email", "full_name", "is_active", "is_superuser", "last_login", "date_joined")
    list_filter = ("is_active", "is_superuser", "is_staff")
    search_fields = ("email", "full_name")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "full_name", "password")}),
        (
            "Access",
            {
                "fields": ("is_active", "is_staff", "is_superuser"),
                "description": "Django admin access is for the installation's superusers only. "
                "Clinic staff get their access from a membership at their clinic.",
            },
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "usable_password", "password1", "password2"),
            },
        ),
    )
    filter_horizontal = ()


# ---------------------------------------------------------------------------------------------
# Clinics


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


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    readonly_what = "staff and their roles"
    list_display = ("user", "user_email", "clinic", "role", "is_active", "created_at")
    list_filter = ("role", "is_active")
    list_select_related = ("user", "clinic")
    search_fields = ("user__email", "user__full_name", "=clinic__slug", "clinic__name")
    raw_id_fields = ("user", "clinic")
    fields = ("clinic", "user", "role", "is_active", "created_at", "deactivated_at")
    actions = ("deactivate", "reactivate")

    @admin.display(description="email", ordering="user__email")
    def user_email(self, obj: Membership) -> str:
        return obj.user.email

    @admin.action(description="Remove access (deactivate) for the selected staff")
    def deactivate(self, request, queryset):
        self.run_service(
            request,
            queryset.select_related("user", "clinic"),
            lambda m: membership_deactivate(membership=m, actor=request.user),
            "Deactivated",
        )

    @admin.action(description="Give access back (reactivate) to the selected staff")
    def reactivate(self, request, queryset):
        self.run_service(
            request,
            queryset.select_related("user", "clinic"),
            lambda m: membership_reactivate(membership=m, actor=request.user),
            "Reactivated",
        )


@admin.register(DoctorProfile)
class DoctorProfileAdmin(ReadOnlyAdmin):
    readonly_what = "doctors' registration details"
    list_display = (
        "doctor",
        "clinic",
        "registration_number",
        "medical_council",
        "qualifications",
    )
    list_select_related = ("membership__user", "clinic")
    search_fields = (
        "registration_number",
        "membership__user__full_name",
        "membership__user__email",
        "=clinic__slug",
    )
    raw_id_fields = ("membership", "clinic")
    fields = (
        "clinic",
        "membership",
        "qualifications",
        "medical_council",
        "registration_number",
        "specialisation",
        "signature",
    )

    @admin.display(description="doctor", ordering="membership__user__full_name")
    def doctor(self, obj: DoctorProfile) -> str:
        return obj.membership.user.full_name


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    readonly_what = "invitations"
    list_display = ("email", "clinic", "role", "state", "created_at", "expires_at")
    list_filter = ("role",)
    list_select_related = ("clinic",)
    search_fields = ("email", "=clinic__slug")
    raw_id_fields = ("clinic", "invited_by", "accepted_by")
    # The link's token digest is never shown.
    fields = (
        "clinic",
        "email",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "revoked_at",
    )
    actions = ("revoke",)

    @admin.display(description="state")
    def state(self, obj: Invitation) -> str:
        if obj.accepted_at:
            return "accepted"
        if obj.revoked_at:
            return "revoked"
        return "open" if obj.is_open else "expired"

    @admin.action(description="Revoke the selected invitations")
    def revoke(self, request, queryset):
        self.run_service(
            request,
            queryset.select_related("clinic"),
            lambda i: invitation_revoke(invitation=i, actor=request.user),
            "Revoked",
        )


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    """Keys are created with `manage.py create_api_key` or in the clinic's settings (the token
    is shown once there); the admin only shows them and can revoke them. The digest is never
    shown."""

    readonly_what = "API keys"
    list_display = (
        "name",
        "clinic",
        "prefix",
        "role",
        "read_only",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("role", "read_only", ("revoked_at", admin.EmptyFieldListFilter))
    list_select_related = ("clinic",)
    search_fields = ("name", "=prefix", "=clinic__slug")
    raw_id_fields = ("clinic", "created_by")
    fields = (
        "clinic",
        "name",
        "prefix",
        "role",
        "read_only",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ("revoke",)

    @admin.action(description="Revoke the selected API keys now")
    def revoke(self, request, queryset):
        self.run_service(
            request,
            queryset,
            lambda k: api_key_revoke(key=k, actor=request.user),
            "Revoked",
        )


@admin.register(ClinicCounter)
class ClinicCounterAdmin(ReadOnlyAdmin):
    list_display = ("clinic", "name", "value")
    list_select_related = ("clinic",)
    search_fields = ("=clinic__slug", "=name")
    fields = ("clinic", "name", "value")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    """Remembered API answers for retries. Deleting one only means a retry runs again."""

    list_display = ("created_at", "clinic", "principal", "method", "path", "status_code")
    list_filter = ("method", "status_code")
    list_select_related = ("clinic",)
    search_fields = ("=key", "path", "=principal", "=clinic__slug")
    fields = (
        "clinic",
        "principal",
        "key",
        "method",
        "path",
        "request_hash",
        "status_code",
        "response_body",
        "created_at",
    )

    def has_delete_permission(self, request, obj=None):
        return superusers_only(request)


# ---------------------------------------------------------------------------------------------
# Audit trail: append-only, so never added, changed or deleted here


class SealedFilter(admin.SimpleListFilter):
    title = "sealed"
    parameter_name = "sealed"

    def lookups(self, request, model_admin):
        return (("yes", "Sealed into the chain"), ("no", "Waiting to be sealed"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(hash="")
        if self.value() == "no":
            return queryset.filter(hash="")
        return queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "clinic",
        "action",
        "actor_label",
        "via",
        "target_type",
        "target_id",
        "patient_id",
        "seq",
        "is_sealed",
    )
    list_filter = ("via", SealedFilter)
    list_select_related = ("clinic",)
    search_fields = ("^action", "actor_label", "=target_id", "=clinic__slug")
    raw_id_fields = ("clinic", "actor", "api_key")
    fields = (
        "clinic",
        "created_at",
        "action",
        "actor",
        "api_key",
        "actor_label",
        "via",
        "ip",
        "user_agent",
        "target_type",
        "target_id",
        "patient_id",
        "data",
        "seq",
        "prev_hash",
        "hash",
    )

    @admin.display(boolean=True, description="sealed")
    def is_sealed(self, obj: AuditEvent) -> bool:
        return bool(obj.hash)

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term.isdigit():  # a patient's id finds every event about that patient
            results = results | queryset.filter(patient_id=int(term))
        return results, may_have_duplicates


@admin.register(AuditChainHead)
class AuditChainHeadAdmin(ReadOnlyAdmin):
    list_display = ("clinic", "last_seq", "sealed_at")
    list_select_related = ("clinic",)
    search_fields = ("=clinic__slug",)
    fields = ("clinic", "last_seq", "last_hash", "sealed_at")
