"""Every log line carries its time in UTC with the offset, whatever TIME_ZONE is: the workers,
the commands and gunicorn can be read side by side."""

from __future__ import annotations

import logging
import os
import re
import runpy
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from gunicorn.config import Config

from config.gunicorn_logging import GunicornUTCLogger
from config.logs import UTCFormatter

UTC_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 ")
# 2026-12-06 20:15:03 UTC, which is 2026-12-07 01:45:03 in Asia/Kolkata.
AN_EVENING = 1796588103.25


def _record(message: str = "probe") -> logging.LogRecord:
    record = logging.LogRecord("django-q", logging.INFO, __file__, 1, message, None, None)
    record.created = AN_EVENING
    return record


def test_the_formatter_stamps_utc_with_the_offset_in_any_local_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        line = UTCFormatter("%(asctime)s %(levelname)s %(name)s %(message)s").format(_record())
    finally:
        monkeypatch.undo()
        time.tzset()
    assert line == "2026-12-06T20:15:03+00:00 INFO django-q probe"


def test_a_command_logs_in_utc_when_the_server_zone_is_kolkata(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env |= {"TIME_ZONE": "Asia/Kolkata", "VAIDYA_DATA_DIR": str(tmp_path), "LOG_LEVEL": "INFO"}
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "import logging; logging.getLogger('django-q').info('worker line')",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    line = next(x for x in result.stderr.splitlines() if x.endswith("worker line"))
    assert UTC_STAMP.match(line), line
    assert line.endswith(" INFO django-q worker line")


def test_gunicorn_error_and_access_lines_are_stamped_in_utc():
    conf = runpy.run_path(str(Path(settings.BASE_DIR) / "config" / "gunicorn.conf.py"))
    assert conf["logger_class"] == "config.gunicorn_logging.GunicornUTCLogger"
    assert "%(t)s" not in conf["access_log_format"]  # the line's stamp says when
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", conf["access_log_format"])
    logger = GunicornUTCLogger(cfg)
    error = logger.error_log.handlers[0].formatter.format(_record("Booting worker"))
    access = logger.access_log.handlers[0].formatter.format(_record('"GET / HTTP/1.1" 200'))
    assert error.startswith("2026-12-06T20:15:03+00:00 [") and error.endswith(
        "gunicorn Booting worker"
    )
    assert access == '2026-12-06T20:15:03+00:00 "GET / HTTP/1.1" 200'
    assert UTC_STAMP.match(logger.now().strip("[]") + " ")
