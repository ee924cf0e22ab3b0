"""Backups of the whole installation: `manage.py backup` and `manage.py restore`.

    keys.py          the backup key ring (BACKUP_KEYS) and the ids of the data keys
    archive.py       the encrypted container (AES-256-GCM in chunks)
    contents.py      what is inside (database, files, manifest), written and checked
    database.py      a consistent snapshot per vendor (SQLite backup API, pg_dump) and restore
    files.py         stored files: local ones in the archive, S3/R2 ones listed
    destinations.py  a folder or an S3/R2 bucket; temporary name until checked
    runs.py          a backup end to end, its record (`BackupRun`), retention, health
    restore.py       checking an archive, restoring one into an empty installation
    tasks.py         the daily schedule's task and the stale-backup alert
    dashboard.py     the owners' dashboard panel

Nothing is imported here, so `clinics.models` can import `backups.models` early.
"""
