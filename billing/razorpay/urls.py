"""The clinic's Razorpay settings (/c/<clinic_slug>/billing/razorpay/)."""

from django.urls import path

from billing.razorpay import views

urlpatterns = [
    path("", views.razorpay_settings, name="razorpay-settings"),
    path("keys/", views.razorpay_save, name="razorpay-save"),
    path("test/", views.razorpay_test, name="razorpay-test"),
    path("disconnect/", views.razorpay_disconnect, name="razorpay-disconnect"),
]
