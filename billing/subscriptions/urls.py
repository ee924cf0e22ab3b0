"""The clinic's subscription to the installation (/c/<clinic_slug>/billing/subscription/)."""

from django.urls import path

from billing.subscriptions import views

urlpatterns = [
    path("", views.subscription_page, name="subscription"),
    path("start/", views.subscription_start_view, name="subscription-start"),
    path("cancel/", views.subscription_cancel_view, name="subscription-cancel"),
    path("refresh/", views.subscription_refresh_view, name="subscription-refresh"),
    path("invoices/<int:invoice_id>.pdf", views.platform_invoice_pdf, name="platform-invoice-pdf"),
]
