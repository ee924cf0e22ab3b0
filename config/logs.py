"""Log lines stamped in UTC with the offset (ISO 8601), in every Vaidya process.

Django sets the process's local time zone to TIME_ZONE, so the standard formatter would stamp the
workers' lines in Asia/Kolkata time and gunicorn's master (which starts before Django) in UTC.
These stamp every line the same way whatever TIME_ZONE is: 2026-12-06T20:15:03+00:00.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime


def utc_timestamp(created: float) -> str:
    """A log record's time as ISO 8601 in UTC, to the second, with the offset."""
    return datetime.fromtimestamp(created, tz=UTC).isoformat(timespec="seconds")


class UTCFormatter(logging.Formatter):
    """`%(asctime)s` in UTC, ISO 8601 with the offset (the date format is not used)."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_timestamp(record.created)
