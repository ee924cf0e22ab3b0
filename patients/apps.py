from django.apps import AppConfig

from clinics.registry import (
    ClinicSetup,
    clinic_setup,
    dashboard_panels,
    demo_steps,
    patient_directory,
    report_sources,
    usage_counters,
    waiting_work,
)


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
            usage,
        )
        from patients.selectors import certificates, consent  # noqa: F401, PLC0415
        from patients.services.documents import DOCUMENTS_WAITING  # noqa: PLC0415
        from patients.services.prescriptions import formulary_starter_load  # noqa: PLC0415

        dashboard_panels.register(clinic_pages.PATIENTS_PANEL)
        patient_directory.register(clinic_pages.PATIENT_DIRECTORY)
        demo_steps.register(demo.PATIENTS)
        demo_steps.register(demo.CLINIC_DAY)
        waiting_work.register(DOCUMENTS_WAITING)
        clinic_setup.register(ClinicSetup("patients.starter_formulary", 20, formulary_starter_load))
        report_sources.register(reports.REPORTS)
        usage_counters.register(usage.DOCUMENTS_STORED)
