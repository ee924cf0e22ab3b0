"""The development tools are installed on a developer's machine and in tests, never in
production settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.core import checks

REPO_ROOT = Path(__file__).resolve().parents[2]


def installed_apps(**env: str) -> list[str]:
    """INSTALLED_APPS of `config.settings` under this environment, read in a fresh process."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DEVTOOLS"}}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(' '.join(settings.INSTALLED_APPS))",
        ],
        cwd=REPO_ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.split()


@pytest.mark.parametrize(
    ("env", "installed"),
    [
        ({"DEBUG": "false"}, False),
        ({"DEBUG": "true"}, True),
        ({"DEBUG": "false", "DEVTOOLS": "true"}, True),
        ({"DEBUG": "true", "DEVTOOLS": "false"}, False),
    ],
)
def test_devtools_follow_debug_unless_told(env, installed):
    assert ("devtools" in installed_apps(**env)) is installed


def test_the_test_settings_install_the_devtools():
    assert apps.is_installed("devtools")


def test_the_deployment_checks_refuse_devtools_without_debug(settings):
    settings.DEBUG = False
    found = checks.run_checks(tags=[checks.Tags.security], include_deployment_checks=True)
    assert "devtools.W001" in {message.id for message in found}
    settings.DEBUG = True
    found = checks.run_checks(tags=[checks.Tags.security], include_deployment_checks=True)
    assert "devtools.W001" not in {message.id for message in found}
