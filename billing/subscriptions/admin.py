"""Django admin for the installation's plans (the operator defines them here), clinics'
subscriptions and the installation's invoices (read-only: Razorpay's events change them)."""

from __future__ import annotations

from django.contrib import admin

from billing.subscriptions.models import ClinicSubscription, Plan, PlatformInvoice
from billing.subscriptions.modes import mode_of
from clinics.admin import ReadOnlyAdmin, VaidyaModelAdmin


@admin.register(Plan)
class PlanAdmin(VaidyaModelAdmin):
    list_display = ("name", "amount_paise", "period", "max_doctors", "is_active")
    list_filter = ("is_active", "period")
    fields = (
        "name",
        "amount_paise",
        "period",
        "total_count",
        "max_doctors",
        "max_whatsapp_messages_per_month",
        "max_storage_mb",
        "is_active",
        "razorpay_plan_id",
    )

    def get_readonly_fields(self, request, obj=None):
        # A plan on Razorpay cannot change its price or period: make a new plan instead.
        if obj is not None and obj.razorpay_plan_id:
            return ("amount_paise", "period", "total_count", "razorpay_plan_id")
        return ("razorpay_plan_id",)

    def has_delete_permission(self, request, obj=None):
        # A plan with subscriptions stays (they point to it); retire it with "offered" off.
        has_subscriptions = obj is not None and obj.subscriptions.exists()
        return super().has_delete_permission(request, obj) and not has_subscriptions


@admin.register(ClinicSubscription)
class ClinicSubscriptionAdmin(ReadOnlyAdmin):
    readonly_what = "subscriptions (Razorpay's events change them)"
    list_display = ("clinic", "plan", "status", "read_only", "payment_failed_at", "created_at")
    list_filter = ("status", "plan")
    list_select_related = ("clinic", "plan")
    search_fields = ("=razorpay_subscription_id", "=clinic__slug")
    fields = (
        "clinic",
        "plan",
        "status",
        "what_vaidya_does",
        "razorpay_subscription_id",
        "short_url",
        "payment_failed_at",
        "paid_until",
        "charges",
        "last_event_at",
        "created_at",
    )

    @admin.display(boolean=True, description="read-only")
    def read_only(self, obj: ClinicSubscription) -> bool:
        return mode_of(obj).read_only

    @admin.display(description="What Vaidya does")
    def what_vaidya_does(self, obj: ClinicSubscription) -> str:
        return mode_of(obj).explanation


@admin.register(PlatformInvoice)
class PlatformInvoiceAdmin(ReadOnlyAdmin):
    readonly_what = "the installation's invoices"
    list_display = ("number", "clinic", "issued_at", "taxable_paise", "total_paise")
    list_select_related = ("clinic",)
    search_fields = ("=number", "=clinic__slug", "=razorpay_payment_id")
    fields = (
        "number",
        "clinic",
        "subscription",
        "issued_at",
        "razorpay_payment_id",
        "operator_gstin",
        "operator_state_code",
        "clinic_gstin",
        "clinic_state_code",
        "sac_code",
        "taxable_paise",
        "cgst_paise",
        "sgst_paise",
        "igst_paise",
        "total_paise",
    )
