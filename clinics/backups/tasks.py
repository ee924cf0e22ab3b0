"""The backup schedules' tasks (declared in clinics/schedules.py)."""

from __future__ import annotations

import logging

from clinics.backups.runs import backup_create, backup_health

logger = logging.getLogger("vaidya.backups")


def backup_daily() -> str:
    """Back up the installation to BACKUP_DESTINATION and apply retention.

    Runs from the `vaidya.backup_daily` schedule (BACKUP_CRON). Safe to run twice: each run
    writes its own archive and retention keeps the newest per day. A failure is recorded as a
    failed `BackupRun` and raised, so django-q2 records it too.
    """
    return backup_create(trigger="schedule").location


def backup_check() -> bool:
    """Log an error when the last good backup is older than BACKUP_ALERT_AFTER_HOURS (the
    owners' dashboard shows the same warning). Returns whether the backups are fresh."""
    health = backup_health()
    if health.stale:
        when = (
            f"the last one started {health.last_good.started_at.isoformat()}"
            if health.last_good
            else "there is none"
        )
        logger.error(
            "No good backup in the last %d hours (%s): run `manage.py backup` and check the "
            "`vaidya.backup_daily` schedule.",
            health.alert_after_hours,
            when,
        )
    return not health.stale
