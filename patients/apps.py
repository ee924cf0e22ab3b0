from django.apps import AppConfig

from clinics.registry import dashboard_panels, demo_steps, patient_directory, report_sources


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = "Patients"

    def ready(self) -> None:
        # Imported here and not at the top: these modules use the models, which exist only
        # once every app is loaded. `timeline_sources` registers with `patients.timeline`, and the
        # renderers of certificates and consent forms with `patients.rendering`, as imported.
        from patients import (  # noqa: F401, PLC0415
            clinic_pages,
            demo,
            reports,
            timeline,
            timeline_sources,
        )
        from patients.selectors import certificates, consent  # noqa: F401, PLC0415

        dashboard_panels.register(clinic_pages.PATIENTS_PANEL)
        patient_directory.register(clinic_pages.PATIENT_DIRECTORY)
        demo_steps.register(demo.PATIENTS)
        demo_steps.register(demo.CLINIC_DAY)
        report_sources.register(reports.REPORTS)
