"""WhatsApp connection, templates and messaging settings (/c/<clinic_slug>/messages/settings/)."""

from django.urls import path

from messaging.views import settings as views

urlpatterns = [
    path("", views.messaging_settings, name="messaging-settings"),
    path("whatsapp/", views.account_save, name="messaging-account-save"),
    path("whatsapp/test/", views.account_test_view, name="messaging-account-test"),
    path(
        "whatsapp/disconnect/", views.account_disconnect_view, name="messaging-account-disconnect"
    ),
    path("templates/submit/", views.templates_submit_view, name="messaging-templates-submit"),
    path("templates/sync/", views.templates_sync_view, name="messaging-templates-sync"),
    path(
        "templates/language/",
        views.template_language_add_view,
        name="messaging-template-language-add",
    ),
    path("preferences/", views.preferences_save, name="messaging-preferences-save"),
]
