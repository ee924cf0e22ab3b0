from django.apps import AppConfig
from django.core import checks

from devtools.checks import devtools_not_in_production


class DevtoolsConfig(AppConfig):
    name = "devtools"
    verbose_name = "Development tools"

    def ready(self) -> None:
        checks.register(devtools_not_in_production, checks.Tags.security, deploy=True)
