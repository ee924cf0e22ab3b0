"""The backup schedules' tasks (declared in clinics/schedules.py)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.utils import timezone

from clinics.backups.runs import BackupHealth, BackupRunning, backup_create, backup_health
from clinics.tenancy import owner_emails

logger = logging.getLogger("vaidya.backups")


def backup_daily() -> str:
    """Back up the installation to BACKUP_DESTINATION and apply retention.

    Runs from the `vaidya.backup_daily` schedule (BACKUP_CRON). Safe to run twice: each run
    writes its own archive and retention keeps the newest per day; while one is running another
    is not started (the ORM broker hands a task out again after Q_RETRY seconds, far sooner
    than a large backup ends). A failure is recorded as a failed `BackupRun` and raised, so
    django-q2 records it too.
    """
    try:
        return backup_create(trigger="schedule", unless_running=True).location
    except BackupRunning as exc:
        logger.info("Daily backup skipped: %s", exc)
        return str(exc)


def backup_check() -> bool:
    """When the last good backup is older than BACKUP_ALERT_AFTER_HOURS: log an error (Sentry
    reports it where configured) and e-mail the alert once a day (the owners' dashboard shows
    the same warning). Returns whether the backups are fresh."""
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
        _mail_alert(health, when)
    return not health.stale


def alert_recipients() -> list[str]:
    """BACKUP_ALERT_EMAILS, else the active owners of every clinic (on a clinic's own machine
    the owner is who runs it)."""
    return list(settings.BACKUP_ALERT_EMAILS) or owner_emails()


def _mail_alert(health: BackupHealth, when: str) -> None:
    """At most one e-mail a day (the check runs hourly): the first check of the day to find the
    backups stale claims the day in the cache."""
    day = timezone.localdate().isoformat()
    if not cache.add(f"vaidya:backup-alert:{day}", 1, timeout=26 * 60 * 60):
        return
    recipients = alert_recipients()
    if not recipients:
        logger.error("No one to e-mail the backup alert to: set BACKUP_ALERT_EMAILS.")
        return
    send_mail(
        subject=f"Vaidya: no good backup in the last {health.alert_after_hours} hours",
        message=(
            f"Vaidya has no good backup from the last {health.alert_after_hours} hours ({when}).\n"
            "A disk failure now would lose the clinic's records.\n\n"
            "Run `manage.py backup` on the machine that runs Vaidya, and check that its task "
            "workers (`manage.py qcluster`) are running and that the backup destination "
            f"({settings.BACKUP_DESTINATION}) has room and is reachable.\n"
        ),
        from_email=None,
        recipient_list=recipients,
        fail_silently=False,
    )
