"""What every admin page shares: superusers only, all clinics visible, services for changes."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest
from django.template.response import SimpleTemplateResponse

from clinics.errors import DomainError
from clinics.tenancy import clinic_scope, scopes_disabled

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
    """Superusers only, and every view sees all clinics (rendered with the clinic scope off)."""

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
        with scopes_disabled():  # superusers run the installation: they see every clinic
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
