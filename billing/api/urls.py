"""Billing API, mounted at /api/v1/."""

from django.urls import path

from billing.api import views

urlpatterns = [
    path("catalogue/", views.CatalogueView.as_view(), name="api-catalogue"),
    path("bills/", views.BillListView.as_view(), name="api-bill-list"),
    path("bills/<int:bill_id>/", views.BillDetailView.as_view(), name="api-bill-detail"),
    path("bills/<int:bill_id>/issue/", views.BillIssueView.as_view(), name="api-bill-issue"),
    path("bills/<int:bill_id>/cancel/", views.BillCancelView.as_view(), name="api-bill-cancel"),
    path(
        "bills/<int:bill_id>/credit-notes/",
        views.CreditNoteView.as_view(),
        name="api-bill-credit-notes",
    ),
    path(
        "bills/<int:bill_id>/payments/", views.BillPaymentView.as_view(), name="api-bill-payments"
    ),
    path(
        "bills/<int:bill_id>/payment-link/",
        views.BillPaymentLinkView.as_view(),
        name="api-bill-payment-link",
    ),
    path("bills/<int:bill_id>/send/", views.BillSendView.as_view(), name="api-bill-send"),
    path("bills/<int:bill_id>/refunds/", views.BillRefundView.as_view(), name="api-bill-refunds"),
    path(
        "patients/<int:patient_id>/ledger/", views.LedgerView.as_view(), name="api-patient-ledger"
    ),
    path(
        "patients/<int:patient_id>/advances/",
        views.AdvanceView.as_view(),
        name="api-patient-advances",
    ),
]
