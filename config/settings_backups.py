"""Backup settings (`manage.py backup`, the `vaidya.backup_daily` schedule), read from the
environment like the rest; `config/settings.py` adds them with `backup_settings(...)`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ


def backup_settings(env: environ.Env, *, data_dir: Path, s3_endpoint_url: str) -> dict[str, Any]:
    """The BACKUP_* settings. Where archives go: a folder (best on another disk) or
    `s3://bucket/prefix` on any S3-compatible store (R2: set the endpoint and region "auto"),
    whose endpoint and keys fall back to the document store's (S3_*); how many are kept; when
    owners are warned."""

    def either(name: str, fallback: str, default: str = "") -> str:
        return env.str(name, default="") or env.str(fallback, default=default)

    return {
        "BACKUP_DESTINATION": env.str("BACKUP_DESTINATION", default="")
        or str(data_dir / "backups"),
        "BACKUP_S3_ENDPOINT_URL": env.str("BACKUP_S3_ENDPOINT_URL", default="") or s3_endpoint_url,
        "BACKUP_S3_REGION": either("BACKUP_S3_REGION", "S3_REGION", "auto"),
        "BACKUP_S3_ACCESS_KEY_ID": either("BACKUP_S3_ACCESS_KEY_ID", "S3_ACCESS_KEY_ID"),
        "BACKUP_S3_SECRET_ACCESS_KEY": either(
            "BACKUP_S3_SECRET_ACCESS_KEY", "S3_SECRET_ACCESS_KEY"
        ),
        # The daily backup's time (cron, in TIME_ZONE) and how long it may run before it stops.
        "BACKUP_CRON": env.str("BACKUP_CRON", default="30 2 * * *"),
        "BACKUP_TIMEOUT_SECONDS": env.int("BACKUP_TIMEOUT_SECONDS", default=6 * 60 * 60),
        "BACKUP_KEEP_DAILY": env.int("BACKUP_KEEP_DAILY", default=7),
        "BACKUP_KEEP_WEEKLY": env.int("BACKUP_KEEP_WEEKLY", default=4),
        "BACKUP_KEEP_MONTHLY": env.int("BACKUP_KEEP_MONTHLY", default=12),
        "BACKUP_ALERT_AFTER_HOURS": env.int("BACKUP_ALERT_AFTER_HOURS", default=48),
        # Who is e-mailed (once a day) when there is no good backup that recent; when empty,
        # the clinics' owners.
        "BACKUP_ALERT_EMAILS": env.list("BACKUP_ALERT_EMAILS", default=[]),
    }
