"""System checks for the personal-data registry (`manage.py check` and every start)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error

from compliance.personal_data import registry_problems


def check_personal_data_registry(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Each registered kind names a real model, real fields and paths that resolve."""
    return [
        Error(problem, hint="Fix the entry in the owning app's ready().", id="vaidya.E201")
        for problem in registry_problems()
    ]
