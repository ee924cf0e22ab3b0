"""gunicorn's logs stamped like the rest of Vaidya's (config/logs.py); gunicorn.conf.py names
this class as its `logger_class`."""

from __future__ import annotations

from datetime import UTC, datetime

from gunicorn.glogging import Logger as GunicornLogger

from config.logs import UTCFormatter, utc_timestamp


class GunicornUTCLogger(GunicornLogger):
    """gunicorn's error and access logs with the same UTC stamps as the rest of Vaidya."""

    error_fmt = "%(asctime)s [%(process)d] %(levelname)s gunicorn %(message)s"
    access_fmt = "%(asctime)s %(message)s"

    def _set_handler(self, log, output, fmt, stream=None):
        fmt = UTCFormatter(self.access_fmt if log is self.access_log else self.error_fmt)
        super()._set_handler(log, output, fmt, stream=stream)

    def now(self) -> str:
        """`%(t)s` in an access log format: the request's time, in UTC."""
        return "[" + utc_timestamp(datetime.now(tz=UTC).timestamp()) + "]"
