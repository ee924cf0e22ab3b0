"""`make check-deploy` (`manage.py check_deploy`) checks the operator's own configuration: it
names each missing or unsafe setting, substitutes nothing and leaves no key in the data folder.
Run in a fresh process with only the variables each test gives, as an operator's shell would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
# Every variable .env.example documents (set or commented out): none leaks in from the outside.
VAIDYA_VARIABLES = set(
    re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (BASE_DIR / ".env.example").read_text(), re.M)
)
SECRET = "k" + "Zq7-Lm2xP9vB4nR8tY1wC6dF3gH5jK0aS_eU" * 2
ENCRYPTION_KEY = "Gf7vTm12rt9S95I4RW6tvK1W5gaq9tNl0jcTtxwARRI="
AUDIT_KEY = "b3Vy-YXVkaXQta2V5LWZvci10ZXN0cy1vbmx5LTAx"
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": SECRET,
    "ENCRYPTION_KEYS": ENCRYPTION_KEY,
    "AUDIT_KEYS": AUDIT_KEY,
    "ALLOWED_HOSTS": "clinic.example.in",
    "SITE_URL": "https://clinic.example.in",
    "BEHIND_TLS_PROXY": "true",
}


def run(command: str, data_dir: Path, **variables: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in VAIDYA_VARIABLES and not k.startswith(("DJANGO_", "VAIDYA_"))
    }
    env |= {"VAIDYA_DATA_DIR": str(data_dir), **variables}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", command],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def data_dir(tmp_path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


def test_an_empty_configuration_names_every_missing_setting_and_writes_no_key(data_dir):
    result = run("check_deploy", data_dir)
    assert result.returncode == 1, result.stdout + result.stderr
    failures = [line for line in result.stderr.splitlines() if line.startswith("FAIL")]
    for name in ("DEBUG is on", "ALLOWED_HOSTS is not set", "SITE_URL is 'http://127.0.0.1:8000'",
                 "SECRET_KEY is not set", "ENCRYPTION_KEYS is not set",
                 "AUDIT_KEYS is not set"):  # fmt: skip
        assert any(name in line for line in failures), (name, result.stderr)
    assert "manage.py generate_secret_key" in result.stderr
    assert list(data_dir.iterdir()) == []  # no secret_key, encryption_key nor audit_key


def test_a_complete_production_configuration_passes_with_warnings(data_dir):
    result = run("check_deploy", data_dir, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "FAIL" not in result.stderr
    assert "WARN  DATABASE_URL is not set" in result.stdout
    assert "WARN  REDIS_URL is not set" in result.stdout
    assert "The production configuration is complete." in result.stdout
    # HSTS without sub-domains or preload is Vaidya's default, not something to fix.
    assert "security.W005" not in result.stderr and "security.W021" not in result.stderr


def test_unsafe_values_are_named(data_dir):
    result = run(
        "check_deploy",
        data_dir,
        **PRODUCTION
        | {
            "SECRET_KEY": "short-and-guessable",
            "ENCRYPTION_KEYS": "not-a-key",
            "ALLOWED_HOSTS": "*",
            "SITE_URL": "http://clinic.example.in",
            "BEHIND_TLS_PROXY": "false",
            "DEVTOOLS": "true",
        },
    )
    assert result.returncode == 1
    for text in (
        "FAIL  SECRET_KEY is weak",
        "FAIL  ENCRYPTION_KEYS holds a value that is not a key",
        "FAIL  ALLOWED_HOSTS contains '*'",
        "FAIL  SITE_URL is 'http://clinic.example.in'",
        "FAIL  DEVTOOLS is on",
    ):
        assert text in result.stderr, (text, result.stderr)
    assert "WARN  BEHIND_TLS_PROXY is not set" in result.stdout


def test_keys_generated_by_an_earlier_start_are_accepted_with_a_warning(data_dir):
    (data_dir / "secret_key").write_text(SECRET)
    (data_dir / "encryption_key").write_text(ENCRYPTION_KEY)
    (data_dir / "audit_key").write_text(AUDIT_KEY)
    keys = ("SECRET_KEY", "ENCRYPTION_KEYS", "AUDIT_KEYS")
    variables = {k: v for k, v in PRODUCTION.items() if k not in keys}
    result = run("check_deploy", data_dir, **variables)
    assert result.returncode == 0, result.stderr
    assert "WARN  SECRET_KEY comes from" in result.stdout
    assert "WARN  ENCRYPTION_KEYS comes from" in result.stdout
    assert "WARN  AUDIT_KEYS comes from" in result.stdout


def test_the_key_commands_work_before_the_configuration_exists(data_dir):
    secret = run("generate_secret_key", data_dir, DEBUG="false")
    key = run("generate_encryption_key", data_dir, DEBUG="false")
    audit = run("generate_audit_key", data_dir, DEBUG="false")
    assert secret.returncode == 0 and key.returncode == 0, secret.stderr + key.stderr
    assert audit.returncode == 0, audit.stderr
    assert len(secret.stdout.strip()) >= 50
    assert len(key.stdout.strip()) == 44
    assert len(audit.stdout.strip()) >= 32
    assert list(data_dir.iterdir()) == []


def test_make_check_deploy_runs_the_command_on_the_operators_settings():
    recipe = (BASE_DIR / "Makefile").read_text().split("\ncheck-deploy:")[1].split("\n\n")[0]
    assert "manage.py check_deploy" in recipe
    assert "SECRET_KEY=" not in recipe and "DEBUG=" not in recipe
