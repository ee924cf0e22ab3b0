from django.apps import AppConfig


class ClinicsConfig(AppConfig):
    name = "clinics"
    verbose_name = "Clinics, staff and audit"

    def ready(self) -> None:
        from clinics import demo, schedules  # noqa: F401
