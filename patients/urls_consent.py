"""Consent pages, mounted at /c/<clinic_slug>/consent/."""

from django.urls import path

from patients.views import consent as views

urlpatterns = [
    path("templates/", views.template_list, name="consent-templates"),
    path("templates/new/", views.template_create, name="consent-template-create"),
    path("templates/standard/", views.template_add_standard, name="consent-templates-standard"),
    path(
        "templates/<int:consent_template_id>/",
        views.template_edit,
        name="consent-template-edit",
    ),
    path(
        "templates/<int:consent_template_id>/deactivate/",
        views.template_deactivate,
        name="consent-template-deactivate",
    ),
    path(
        "templates/<int:consent_template_id>/reactivate/",
        views.template_reactivate,
        name="consent-template-reactivate",
    ),
    path("patient/<int:patient_id>/", views.patient_consent_list, name="patient-consents"),
    path("patient/<int:patient_id>/sign/", views.consent_sign_view, name="consent-sign"),
    path("<int:consent_id>/", views.consent_detail, name="consent-detail"),
    path("<int:consent_id>/withdraw/", views.consent_withdraw_view, name="consent-withdraw"),
]
