"""The database's part of a backup: a consistent snapshot per vendor, and its restore.

SQLite: the online backup API copies the live database in one step inside a read transaction,
so writers go on (WAL) and the copy is the database as of one moment; never a file copy.
PostgreSQL: `pg_dump -Fc` reads a snapshot exported by a REPEATABLE READ transaction that also
counts the rows and reads the migration state, so the counts in the manifest are exactly the
dump's. Restore: the backup API in the other direction, or `pg_restore` in one transaction.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.db import connection, connections
from django.db.migrations.loader import MigrationLoader

from clinics.backups.errors import BackupFailed, RestoreRefused

# Tables `migrate` itself fills, and django-q2's own queue: their rows do not make an
# installation "not empty".
SETUP_TABLES = {"django_migrations", "django_content_type", "auth_permission"}
SETUP_PREFIXES = ("django_q_",)


@dataclass
class Snapshot:
    vendor: str
    path: Path
    counts: dict[str, int]
    migrations: list[list[str]]


def model_tables() -> list[str]:
    """Every table Vaidya's models (and their many-to-many tables) use, sorted."""
    tables = set()
    for model in apps.get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy:
            tables.add(model._meta.db_table)
    return sorted(tables)


def _read_state(cursor, existing: set[str], quote) -> tuple[dict[str, int], list[list[str]]]:
    counts = {}
    for table in model_tables():
        if table in existing:
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608 (our tables)
            counts[table] = cursor.fetchone()[0]
    migrations: list[list[str]] = []
    if "django_migrations" in existing:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        migrations = [[app, name] for app, name in cursor.fetchall()]
    return counts, migrations


def _sqlite_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_state(conn: sqlite3.Connection) -> tuple[dict[str, int], list[list[str]]]:
    cursor = conn.cursor()
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    existing = {row[0] for row in cursor.fetchall()}
    return _read_state(cursor, existing, _sqlite_quote)


def snapshot(folder: Path) -> Snapshot:
    """Write a consistent copy of the database into `folder`."""
    if connection.vendor == "sqlite":
        return _sqlite_snapshot(folder)
    if connection.vendor == "postgresql":
        return _pg_snapshot(folder)
    raise BackupFailed(f"Backups support SQLite and PostgreSQL, not {connection.vendor}.")


def _sqlite_snapshot(folder: Path) -> Snapshot:
    target = folder / "vaidya.sqlite3"
    try:
        if connection.is_in_memory_db():
            # The test suite's database lives only in this connection (inside the test's
            # transaction, where the backup API would wait forever): its image is the copy.
            connection.ensure_connection()
            target.write_bytes(connection.connection.serialize())
        else:
            source = sqlite3.connect(str(connection.settings_dict["NAME"]), timeout=60)
            try:
                with sqlite3.connect(str(target)) as copy:
                    source.backup(copy)  # all pages in one step: one consistent moment
                copy.close()
            finally:
                source.close()
        copy = sqlite3.connect(str(target))
        try:
            counts, migrations = _sqlite_state(copy)
        finally:
            copy.close()
    except sqlite3.Error as exc:
        raise BackupFailed(f"Copying the SQLite database failed: {exc}") from exc
    return Snapshot("sqlite", target, counts, migrations)


def pg_environment() -> dict[str, str]:
    """The libpq variables for the configured database (the password never on a command line)."""
    params = connection.get_connection_params()
    env = dict(os.environ)
    for var, key in (
        ("PGHOST", "host"),
        ("PGPORT", "port"),
        ("PGUSER", "user"),
        ("PGPASSWORD", "password"),
        ("PGDATABASE", "dbname"),
    ):
        if params.get(key):
            env[var] = str(params[key])
    return env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupFailed(f"`{name}` is not installed (Debian/Ubuntu: postgresql-client).")
    return path


def _pg_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _pg_snapshot(folder: Path) -> Snapshot:
    target = folder / "vaidya.pgdump"
    pg_dump = _pg_tool("pg_dump")
    conn = connections.create_connection("default")
    try:
        conn.ensure_connection()
        conn.connection.autocommit = True
        with conn.connection.cursor() as cursor:
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot_id = cursor.fetchone()[0]
            existing = set(conn.introspection.table_names(cursor))
            counts, migrations = _read_state(cursor, existing, _pg_quote)
            result = subprocess.run(  # noqa: S603
                [
                    pg_dump,
                    "-Fc",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot_id}",
                    "-f",
                    str(target),
                ],
                env=pg_environment(),
                capture_output=True,
                text=True,
                check=False,
            )
            cursor.execute("ROLLBACK")
    finally:
        conn.close()
    if result.returncode != 0:
        raise BackupFailed(f"pg_dump failed: {result.stderr.strip()[-500:]}")
    return Snapshot("postgresql", target, counts, migrations)


def current_counts() -> dict[str, int]:
    """Rows per table in the configured database, as a manifest records them."""
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
        quote = connection.ops.quote_name
        return _read_state(cursor, existing, quote)[0]


def holds_data() -> list[str]:
    """The tables of the configured database that hold rows beyond what `migrate` writes."""
    return sorted(
        table
        for table, count in current_counts().items()
        if count and table not in SETUP_TABLES and not table.startswith(SETUP_PREFIXES)
    )


def unknown_migrations(applied: list[list[str]]) -> list[str]:
    """The archive's migrations this Vaidya does not have (it was made by a newer one)."""
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return sorted(f"{app}.{name}" for app, name in applied if (app, name) not in known)


def restore(vendor: str, path: Path) -> None:
    """Load a snapshot into the configured (empty, or emptied on purpose) database."""
    if vendor != connection.vendor:
        raise RestoreRefused(
            f"The archive holds a {vendor} database; this installation uses {connection.vendor}."
        )
    if vendor == "sqlite":
        _sqlite_restore(path)
    else:
        _pg_restore(path)
    connections.close_all()


def _sqlite_restore(path: Path) -> None:
    connections.close_all()
    target = Path(connection.settings_dict["NAME"])
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(str(path))
    dest = sqlite3.connect(str(target), timeout=60)
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()


def _pg_restore(path: Path) -> None:
    pg_restore = _pg_tool("pg_restore")
    with connection.cursor() as cursor:
        # The target holds no data (checked before): drop what `migrate` may have made there.
        cursor.execute("DROP SCHEMA IF EXISTS public CASCADE")
        cursor.execute("CREATE SCHEMA public")
    connections.close_all()
    result = subprocess.run(  # noqa: S603
        [
            pg_restore,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "-d",
            str(connection.get_connection_params()["dbname"]),
            str(path),
        ],
        env=pg_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RestoreRefused(f"pg_restore failed: {result.stderr.strip()[-500:]}")
