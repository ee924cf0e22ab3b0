"""gunicorn settings for serving Vaidya: `gunicorn -c config/gunicorn.conf.py config.wsgi`.

Command-line options override these (the benchmarks pass their own port and worker count).
"""

from __future__ import annotations

import gc
import os


def _whole_number(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"{name} must be a whole number of at least 1, not {value!r}.")
    return int(value)


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: Vaidya's requests are short and database-bound; one or two per core.
workers = _whole_number("WEB_CONCURRENCY", 2)
timeout = _whole_number("GUNICORN_TIMEOUT", 30)
# Recycle workers now and then, with jitter so they do not all restart together.
max_requests = _whole_number("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # access lines carry patient ids in URLs
# Every line starts with its time in UTC with the offset, like the workers' and commands' lines.
logger_class = "config.gunicorn_logging.GunicornUTCLogger"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'


def post_worker_init(worker) -> None:
    """Freeze what start-up created (Django, DRF, URL patterns, settings): it lives as long as
    the worker, and without this every full garbage collection walks it again, a pause of
    about 60 ms every few dozen day views, against about 4 ms frozen."""
    gc.freeze()
