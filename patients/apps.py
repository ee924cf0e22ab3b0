from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = "Patients"

    def ready(self) -> None:
        from patients import demo, timeline, timeline_sources  # noqa: F401

        # Renderers of certificates and consent forms register with patients.rendering.
        from patients.selectors import certificates, consent  # noqa: F401
