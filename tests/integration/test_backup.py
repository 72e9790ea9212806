"""``picycle backup`` and ``restore`` on both databases: a backup taken while in use
restores whole, its trail verified; a database that is not empty is replaced only with
--force. PostgreSQL's need pg_dump and pg_restore: without them the tests are skipped
with the reason, and fail under CI."""

from __future__ import annotations

import shutil
import sqlite3

import pytest
from click.testing import CliRunner
from picycle.cli.main import main
from picycle.engine import Engine
from picycle.engine.services import backup as backup_service
from sqlalchemy import make_url

from tests.support import Driver, unavailable


@pytest.fixture(autouse=True)
def postgres_client_tools(request):
    url = request.getfixturevalue("database_url")
    if make_url(url).get_backend_name() != "postgresql":
        return
    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    if missing:
        reason = f"{' and '.join(missing)} not installed (apt-get install postgresql-client)"
        unavailable(reason)


def picycle(url: str, *args: str):
    return CliRunner().invoke(main, list(args), env={"PICYCLE_DATABASE_URL": url})


def worked(driver: Driver) -> int:
    """A cycle with its first task done; its id."""
    cycle_id = driver.start()
    driver.assess(cycle_id)
    return cycle_id


@pytest.fixture
def empty_url(request, database_url, tmp_path):
    """An empty database of the same kind as the test's."""
    if make_url(database_url).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    url = server.create()
    yield url
    server.drop(make_url(url).database)


def test_a_backup_restores_whole_into_an_empty_database(driver, database_url, empty_url, tmp_path):
    cycle_id = worked(driver)
    before = [(e.seq, e.type, e.hash) for e in driver.events()]
    backup = tmp_path / "picycle.backup"
    made = picycle(database_url, "backup", str(backup))
    assert made.exit_code == 0, made.output
    assert made.stdout.splitlines()[-1] == "audit trail intact"
    restored = picycle(empty_url, "restore", str(backup))
    assert restored.exit_code == 0, restored.output
    assert restored.stdout.splitlines()[0] == f"restored from {backup}"
    assert restored.stdout.splitlines()[-1] == "audit trail intact"
    copy = Driver(lambda: Engine(empty_url))
    try:
        assert [(e.seq, e.type, e.hash) for e in copy.events()] == before
        assert copy.task(cycle_id, "identify_gaps").state == "open"
    finally:
        copy.engine.dispose()


def test_a_database_that_is_not_empty_is_replaced_only_with_force(driver, database_url, tmp_path):
    backup = tmp_path / "picycle.backup"
    assert picycle(database_url, "backup", str(backup)).exit_code == 0
    later = worked(driver)  # after the backup
    refused = picycle(database_url, "restore", str(backup))
    assert refused.exit_code == 1
    assert "is not empty" in refused.stderr and "give --force" in refused.stderr
    assert driver.cycle(later).id == later  # nothing changed
    forced = picycle(database_url, "restore", str(backup), "--force")
    assert forced.exit_code == 0, forced.output
    assert forced.stdout.splitlines()[-1] == "audit trail intact"
    driver.restart()
    assert [e for e in driver.events() if e.cycle_id == later] == []


def test_a_file_that_is_not_a_backup_is_refused(database_url, engine, tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("not a backup")
    refused = picycle(database_url, "restore", str(other), "--force")
    assert refused.exit_code == 1
    assert "is not a backup of this kind of database" in refused.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_backup_onto_the_database_itself_is_refused_and_keeps_it(driver, database_url):
    cycle_id = worked(driver)
    itself = make_url(database_url).database
    refused = picycle(database_url, "backup", itself)
    assert refused.exit_code == 1
    assert refused.stderr == f"error: {itself} is the database itself: back it up to another file\n"
    driver.restart()
    assert driver.task(cycle_id, "identify_gaps").state == "open"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_failed_backup_is_one_line_and_keeps_the_one_before(
    driver, database_url, tmp_path, monkeypatch
):
    worked(driver)
    missing = tmp_path / "no such folder" / "picycle.backup"
    refused = picycle(database_url, "backup", str(missing))
    assert refused.exit_code == 1
    assert refused.stderr.startswith(f"error: cannot write the backup {missing}: ")
    assert len(refused.stderr.splitlines()) == 1
    before = tmp_path / "picycle.backup"
    before.write_bytes(b"the backup before")

    def locked(url):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(backup_service, "_sqlite", locked)
    failed = picycle(database_url, "backup", str(before))
    assert failed.stderr == f"error: cannot write the backup {before}: database is locked\n"
    assert before.read_bytes() == b"the backup before"
    assert list(tmp_path.glob("*.partial")) == []
