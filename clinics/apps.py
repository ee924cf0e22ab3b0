from django.apps import AppConfig

from clinics.images import limit_pillow
from clinics.registry import dashboard_panels, demo_steps


class ClinicsConfig(AppConfig):
    name = "clinics"
    verbose_name = "Clinics, staff and audit"

    def ready(self) -> None:
        # Imported here and not at the top: these modules use the models, which exist only
        # once every app is loaded. `schedules` registers the schedules as it is imported.
        from clinics import dashboard, demo, schedules  # noqa: F401, PLC0415
        from clinics.backups.dashboard import BACKUP_PANEL  # noqa: PLC0415
        from clinics.plan_usage import PLAN_PANEL  # noqa: PLC0415

        limit_pillow()
        dashboard_panels.register(dashboard.STAFF_PANEL)
        dashboard_panels.register(dashboard.AUDIT_PANEL)
        dashboard_panels.register(BACKUP_PANEL)
        dashboard_panels.register(PLAN_PANEL)
        demo_steps.register(demo.CLINIC_AND_STAFF)
