"""The record of backup runs, shown on the owners' dashboard.

A backup is of the whole installation (every clinic's rows and files in one archive), made by
the operator's schedule or command, so `BackupRun` has no clinic key and no scoped manager: it
belongs to no tenant, holds no personal data (times, sizes, where the archive went, a problem in
words), and every clinic's owner sees the same status of the machine their records live on.
It is written by `clinics.backups.runs`, never by a view.
"""

from __future__ import annotations

from django.db import models
from django.utils.timezone import now


class BackupStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class BackupRun(models.Model):
    started_at = models.DateTimeField(default=now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=BackupStatus.choices, default=BackupStatus.RUNNING
    )
    trigger = models.CharField(max_length=20, default="command")
    destination = models.CharField(max_length=500, blank=True)
    archive = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    problem = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "-started_at"], name="backuprun_status_idx")]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.status}"
