from django.apps import AppConfig


class BareApiConfig(AppConfig):
    name = "bare_api"
    default_auto_field = "django.db.models.BigAutoField"
