"""The README's PostgreSQL/Redis/S3 section, as CI's walkthrough reads it
(.ci/operator_walkthrough.py runs it from a fresh clone): quick checks that it stays whole."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

from django.conf import settings
from django.core.management import get_commands

BASE_DIR = Path(settings.BASE_DIR)
walkthrough = runpy.run_path(str(BASE_DIR / ".ci" / "operator_walkthrough.py"))


def test_every_step_is_there_from_install_to_the_workers():
    blocks = walkthrough["readme_blocks"]()
    assert blocks["install"].split()[:2] == ["make", "install"]
    setup = blocks["setup"]
    for step in ("generate_secret_key", "generate_encryption_key", "make check-deploy", "migrate",
                 "collectstatic", "sync_schedules"):  # fmt: skip
        assert step in setup, step
    assert "create_clinic" in blocks["clinic"]
    serve = blocks["serve"]
    assert "gunicorn -c config/gunicorn.conf.py config.wsgi" in serve and "qcluster" in serve


def test_its_commands_and_variables_exist():
    blocks = walkthrough["readme_blocks"]()
    named = set(re.findall(r"manage\.py (\w+)", "".join(blocks.values())))
    assert named and named <= set(get_commands()), named - set(get_commands())
    documented = set(
        re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (BASE_DIR / ".env.example").read_text(), re.M)
    )
    variables = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", blocks["env"], re.M))
    assert {"DEBUG", "BEHIND_TLS_PROXY", "DATABASE_URL", "REDIS_URL", "S3_BUCKET"} <= variables
    assert variables <= documented, variables - documented
