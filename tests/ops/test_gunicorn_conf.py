"""The gunicorn settings production uses (config/gunicorn.conf.py)."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path

from django.conf import settings


def load(monkeypatch, **env) -> dict:
    for name in ("GUNICORN_BIND", "WEB_CONCURRENCY", "GUNICORN_MAX_REQUESTS", "GUNICORN_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(Path(settings.BASE_DIR) / "config" / "gunicorn.conf.py"))


def test_defaults_and_environment(monkeypatch):
    conf = load(monkeypatch)
    assert conf["bind"] == "127.0.0.1:8000" and conf["workers"] == 2
    assert conf["max_requests"] == 5000 and conf["max_requests_jitter"] == 500
    assert conf["accesslog"] is None
    conf = load(monkeypatch, WEB_CONCURRENCY="4", GUNICORN_BIND="0.0.0.0:9000")
    assert conf["workers"] == 4 and conf["bind"] == "0.0.0.0:9000"


def test_a_malformed_number_stops_with_a_clear_message(monkeypatch):
    import pytest

    for bad in ("two", "0", "-3"):
        with pytest.raises(SystemExit, match="WEB_CONCURRENCY must be a whole number"):
            load(monkeypatch, WEB_CONCURRENCY=bad)


def test_a_started_worker_freezes_what_start_up_made(monkeypatch):
    conf = load(monkeypatch)
    gc.unfreeze()
    try:
        conf["post_worker_init"](None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
