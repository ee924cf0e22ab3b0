from django.apps import AppConfig
from django.core import checks

from clinics.registry import local_services
from devtools.checks import devtools_not_in_production


class DevtoolsConfig(AppConfig):
    name = "devtools"
    verbose_name = "Development tools"

    def ready(self) -> None:
        # Imported here and not at the top: it uses the models, which exist only once every
        # app is loaded.
        from devtools.local_razorpay import RAZORPAY_SIMULATOR  # noqa: PLC0415
        from devtools.local_services import WHATSAPP_SIMULATOR  # noqa: PLC0415

        checks.register(devtools_not_in_production, checks.Tags.security, deploy=True)
        local_services.register(WHATSAPP_SIMULATOR)
        local_services.register(RAZORPAY_SIMULATOR)
