"""What can stop a backup or a restore: each message says what happened and what to do."""

from __future__ import annotations


class BackupError(Exception):
    """A backup or restore was refused or failed; the message is safe to show an operator."""

    exit_status = 1


class BackupFailed(BackupError):
    """Making the archive failed (a full disk, an unreachable bucket, a failed dump)."""


class ArchiveDamaged(BackupError):
    """The archive is cut short, changed, or not an archive."""


class BackupKeyMissing(BackupError):
    """No configured backup key opens the archive."""


class RestoreRefused(BackupError):
    """The archive cannot be restored here (a newer Vaidya, missing data keys, a non-empty
    database, another database vendor)."""
