from django.apps import AppConfig
from django.core import checks

from clinics.registry import DashboardPanel, dashboard_panels
from clinics.roles import Perm
from compliance.rights_intake import rights_desks
from patients.registration import registration_steps


class ComplianceConfig(AppConfig):
    name = "compliance"

    def ready(self) -> None:
        # Imported here: these modules use the models, which exist once every app is loaded.
        # `schedules` registers the schedules as it is imported.
        from compliance import schedules  # noqa: F401, PLC0415
        from compliance.registration import WHATSAPP_CONSENT  # noqa: PLC0415
        from compliance.rights import desk, selectors  # noqa: PLC0415

        registration_steps.register(WHATSAPP_CONSENT)
        rights_desks.register(desk.DESK)
        dashboard_panels.register(
            DashboardPanel(
                name="compliance.rights_overdue",
                order=60,
                perm=Perm.RIGHTS_VIEW,
                load=selectors.overdue_panel,
                section_template="compliance/rights/partials/_dashboard_overdue.html",
            )
        )

        from clinics.registry import waiting_work  # noqa: PLC0415
        from compliance.exports.services import EXPORTS_WAITING  # noqa: PLC0415

        waiting_work.register(EXPORTS_WAITING)

        from compliance.checks import check_personal_data_registry  # noqa: PLC0415

        checks.register(check_personal_data_registry)

        from compliance.personal_data_entries import register_all  # noqa: PLC0415

        register_all()
