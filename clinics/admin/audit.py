"""The audit trail: append-only, so never added, changed or deleted here."""

from __future__ import annotations

from django.contrib import admin

from clinics.admin.base import ReadOnlyAdmin
from clinics.models import AuditChainHead, AuditEvent


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
        "key_id",
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
    list_display = ("clinic", "last_seq", "sealed_at", "published_seq", "published_at")
    list_select_related = ("clinic",)
    search_fields = ("=clinic__slug",)
    fields = (
        "clinic",
        "last_seq",
        "last_hash",
        "sealed_at",
        "published_seq",
        "published_at",
        "legacy_seq",
        "legacy_key_id",
    )
