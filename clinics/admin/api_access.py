"""API access: keys (shown and revoked, never created here) and remembered answers for retries."""

from __future__ import annotations

from django.contrib import admin

from clinics.admin.base import ReadOnlyAdmin, superusers_only
from clinics.models import ApiKey, IdempotencyRecord
from clinics.services import api_key_revoke


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
