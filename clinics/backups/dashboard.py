"""The owners' dashboard panel: the installation's last good backup, its size, where it went,
and a warning when it is older than BACKUP_ALERT_AFTER_HOURS (or there is none)."""

from __future__ import annotations

from datetime import date
from typing import Any

from clinics.backups.runs import backup_health
from clinics.models import Clinic, Membership
from clinics.registry import DashboardPanel
from clinics.roles import Perm


def backup_panel(*, clinic: Clinic, membership: Membership, today: date) -> dict[str, Any]:
    """Two queries, whatever the installation's size."""
    health = backup_health()
    return {
        "last_good": health.last_good,
        "last_run": health.last_run,
        "failed_since": health.last_run is not None
        and health.last_run.status == "failed"
        and health.last_run != health.last_good,
        "stale": health.stale,
        "running": health.running,
        "alert_days": health.alert_after_hours // 24,
        "alert_hours": health.alert_after_hours,
    }


BACKUP_PANEL = DashboardPanel(
    name="clinics.backups",
    order=95,
    # Backups are the installation's, and only the owner changes how the clinic is run.
    perm=Perm.SETTINGS_EDIT,
    load=backup_panel,
    section_template="clinics/partials/_dashboard_backups.html",
)
