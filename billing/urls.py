"""Billing pages inside a clinic: /c/<clinic_slug>/billing/..."""

from django.urls import path

from billing.views import bills, online, reports, setup

urlpatterns = [
    path("", bills.bills, name="billing-bills"),
    path("<int:bill_id>/", bills.bill_page, name="billing-bill"),
    path("<int:bill_id>/lines/", bills.line_add, name="billing-line-add"),
    path(
        "<int:bill_id>/lines/<int:line_id>/remove/",
        bills.line_remove,
        name="billing-line-remove",
    ),
    path("<int:bill_id>/discount/", bills.discount_set, name="billing-discount"),
    path("<int:bill_id>/issue/", bills.bill_issue, name="billing-issue"),
    path("<int:bill_id>/delete/", bills.bill_delete, name="billing-delete"),
    path("<int:bill_id>/cancel/", bills.bill_cancel, name="billing-cancel"),
    path("<int:bill_id>/payments/", bills.payment_add, name="billing-payment-add"),
    path("<int:bill_id>/refunds/", bills.refund_add, name="billing-refund-add"),
    path("<int:bill_id>/credit-note/", bills.credit_note_add, name="billing-credit-note"),
    path("<int:bill_id>/pdf/", bills.bill_pdf, name="billing-pdf"),
    path("<int:bill_id>/send/", online.bill_send, name="billing-send"),
    path("<int:bill_id>/payment-link/", online.payment_link, name="billing-payment-link"),
    path(
        "<int:bill_id>/payment-link/send/",
        online.payment_link_send,
        name="billing-payment-link-send",
    ),
    path(
        "appointment/<int:appointment_id>/",
        bills.bill_for_appointment,
        name="billing-for-appointment",
    ),
    path("patient/<int:patient_id>/", bills.ledger, name="billing-ledger"),
    path("patient/<int:patient_id>/new/", bills.bill_for_patient, name="billing-for-patient"),
    path("catalogue/", setup.catalogue, name="billing-catalogue"),
    path("catalogue/add/", setup.catalogue_add, name="billing-catalogue-add"),
    path("gst-profile/", setup.profile, name="billing-profile"),
    path("day-book/", reports.day_book_page, name="billing-day-book"),
    path("day-book/close/", reports.day_close_view, name="billing-day-close"),
    path("outstanding/", reports.outstanding_page, name="billing-outstanding"),
    path("gst/", reports.gst_page, name="billing-gst"),
    path("gst/bills.zip", reports.bills_zip, name="billing-zip"),
]
