from django.contrib import admin
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from clinics.api.errors import api_not_found
from messaging.views.links import document_share
from patients.views.documents import document_verify
from patients.views.schedule import public_display, public_display_partial


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    # Resolved per request: the static files' manifest exists only after collectstatic.
    return HttpResponsePermanentRedirect(static("favicon.ico"))


api_v1 = [
    path("", include("clinics.api.urls")),
    path("", include("patients.api.urls")),
    path("", include("compliance.api.urls")),
    path("", include("messaging.api.urls")),
]

clinic_urls = [
    path("", include("clinics.urls_clinic")),
    path("patients/", include("patients.urls")),
    path("schedule/", include("patients.urls_schedule")),
    path("visits/", include("patients.urls_visits")),
    path("care/", include("patients.urls_care")),
    path("documents/", include("patients.urls_documents")),
    path("certificates/", include("patients.urls_certificates")),
    path("consent/", include("patients.urls_consent")),
    path("compliance/", include("compliance.urls")),
    path("messages/", include("messaging.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    # The staff's language switch in the page header (Django's set_language: a cookie).
    path("i18n/language/", set_language, name="set_language"),
    # Browsers ask for /favicon.ico on pages that do not name an icon (the admin, a PDF).
    path("favicon.ico", favicon),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("api/<path:rest>", api_not_found),
    path("c/<slug:clinic_slug>/", include(clinic_urls)),
    # Public: the QR code on every issued document leads here (no patient data).
    path("verify/<str:token>/", document_verify, name="document-verify"),
    path("d/<str:token>/", document_share, name="document-share"),  # WhatsApp document links
    # Public, revocable: the waiting room's screen (token numbers, doctors and rooms only).
    path("display/<str:token>/", public_display, name="display-link"),
    path("display/<str:token>/live/", public_display_partial, name="display-link-live"),
    path("webhooks/", include("messaging.urls_webhooks")),
    path("", include("clinics.urls")),
]

handler400 = "clinics.views.bad_request"
handler404 = "clinics.views.not_found"
handler500 = "clinics.views.server_error"
