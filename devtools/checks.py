"""A deployment check: the development tools must not be installed in production."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Warning


def devtools_not_in_production(app_configs, **kwargs) -> list[CheckMessage]:
    """`manage.py check --deploy` warns when devtools is installed with DEBUG off."""
    if settings.DEBUG:
        return []
    return [
        Warning(
            "The development tools (the local WhatsApp simulator) are installed.",
            hint="Leave DEVTOOLS unset (or false) in production.",
            id="devtools.W001",
        )
    ]
