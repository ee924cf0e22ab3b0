from django.apps import AppConfig
from django.core import checks

from patients.registration import registration_steps


class ComplianceConfig(AppConfig):
    name = "compliance"

    def ready(self) -> None:
        # Imported here: the step's module uses the models, which exist once every app is loaded.
        from compliance import schedules  # noqa: F401, PLC0415 (registers as imported)
        from compliance.registration import WHATSAPP_CONSENT  # noqa: PLC0415

        registration_steps.register(WHATSAPP_CONSENT)

        from clinics.registry import waiting_work  # noqa: PLC0415
        from compliance.exports.services import EXPORTS_WAITING  # noqa: PLC0415

        waiting_work.register(EXPORTS_WAITING)

        from compliance.checks import check_personal_data_registry  # noqa: PLC0415

        checks.register(check_personal_data_registry)

        from compliance.personal_data_entries import register_all  # noqa: PLC0415

        register_all()
