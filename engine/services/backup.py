"""Backing a database up to a file and restoring it, while servers may be running.

SQLite: SQLite's online backup API, page by page, consistent while others write.
PostgreSQL: ``pg_dump`` in its custom format, restored with ``pg_restore`` (the client
tools must be installed, in a version no older than the server). Either way the audit
trail is verified afterwards: a backup of a broken trail, or a restore that lost events,
is said at once. Servers need no restart after a restore: a cycle kept in memory is
reused only while its row still carries the revision it was saved with.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL

from ..actors import SYSTEM
from ..audit.verify import Verification
from ..errors import ConfigurationError, Conflict, PicycleError, ValidationFailed
from ..uow import Engine
from .audit import verify

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"


def backup(engine: Engine, path: Path) -> Verification:
    """Write the whole database to ``path`` (replacing it); returns the verification of
    the trail it holds (for SQLite, of the copy itself)."""
    url = engine.database.url
    if url.get_backend_name() == "sqlite":
        _sqlite_backup(url, path)
        copy = Engine(f"sqlite:///{path}")
        try:
            return verify(copy, SYSTEM)
        finally:
            copy.dispose()
    _run("pg_dump", url, "--format=custom", "--no-owner", f"--file={path}")
    return verify(engine, SYSTEM)


def restore(engine: Engine, path: Path, force: bool = False) -> Verification:
    """Replace the database's content with the backup at ``path``; a database that holds
    tables already is replaced only with ``force``. Returns the restored trail's
    verification."""
    url = engine.database.url
    sqlite = url.get_backend_name() == "sqlite"
    _check_backup(path, SQLITE_HEADER if sqlite else PG_DUMP_HEADER, url)
    tables = inspect(engine.database).get_table_names()
    if tables and not force:
        raise Conflict(
            f"the database {url.render_as_string(hide_password=True)} is not empty (it holds "
            f"{len(tables)} tables): restoring replaces everything in it; give --force to do so"
        )
    engine.dispose()  # no pooled connection may keep the old content
    if sqlite:
        with closing(sqlite3.connect(path)) as source, closing(_sqlite(url)) as target:
            source.backup(target)
    else:
        # --clean drops what the backup holds before creating it again; one transaction,
        # so a failed restore leaves the database as it was.
        _run(
            "pg_restore",
            url,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={url.database}",
            str(path),
        )
    return verify(engine, SYSTEM)


def _sqlite(url: URL) -> sqlite3.Connection:
    return sqlite3.connect(url.database, timeout=30)


def _sqlite_backup(url: URL, path: Path) -> None:
    """Copy the database into a file beside ``path``, then put it in ``path``'s place: a
    failed backup leaves the one before it whole, and the database itself is never
    overwritten by a copy of itself (which would empty it)."""
    if path.exists() and path.samefile(url.database):
        raise ValidationFailed(f"{path} is the database itself: back it up to another file")
    partial = path.with_name(f"{path.name}.partial")
    try:
        partial.unlink(missing_ok=True)
        with closing(_sqlite(url)) as source, closing(sqlite3.connect(partial)) as target:
            source.backup(target)
        partial.replace(path)
    except (OSError, sqlite3.OperationalError) as error:
        partial.unlink(missing_ok=True)
        raise ValidationFailed(f"cannot write the backup {path}: {error}") from error


def _check_backup(path: Path, header: bytes, url: URL) -> None:
    try:
        with open(path, "rb") as file:
            start = file.read(len(header))
    except OSError as error:
        raise ValidationFailed(f"cannot read the backup {path}: {error.strerror}") from error
    if start != header:
        kind = "an SQLite database file" if header == SQLITE_HEADER else "a pg_dump archive"
        raise ValidationFailed(
            f"{path} is not a backup of this kind of database: a backup for "
            f"{url.get_backend_name()} is {kind} (made by `picycle backup`)"
        )


def _run(tool: str, url: URL, *arguments: str) -> None:
    """Run a PostgreSQL client tool on the database at ``url``; the connection settings go
    in the environment, where other users of the machine cannot read the password."""
    program = shutil.which(tool)
    if program is None:
        raise ConfigurationError(
            f"{tool} is not installed: backing up and restoring PostgreSQL needs its client "
            "tools (Debian and Ubuntu: apt-get install postgresql-client), in a version no "
            "older than the server"
        )
    done = subprocess.run(
        [program, *arguments],
        env={**os.environ, **_libpq_environment(url)},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise PicycleError(f"{tool} failed: {done.stderr.strip()}")


def _libpq_environment(url: URL) -> dict[str, str]:
    settings = {
        "PGHOST": url.host,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
        "PGOPTIONS": url.query.get("options"),
    }
    return {key: str(value) for key, value in settings.items() if value}
