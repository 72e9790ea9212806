"""A cycle an engine keeps in memory is used only while the database still holds the very
state it was kept at: a database restored from a backup is never mistaken for it, not even
when the restored cycle has since been written as often as the kept one (with counted
revisions, the kept cycle's revision would then come round again: ABA)."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest
from picycle.engine import Engine
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.services import audit, definitions
from sqlalchemy import make_url

from tests.support import Driver


class Backups:
    """Copies of the whole database, and restoring one over it while engines are running
    (they keep what they hold in memory; only their connections go)."""

    def __init__(self, url: str, server, tmp_path):
        self.url = url
        self._server = server
        self._tmp_path = tmp_path
        self._made = 0

    def back_up(self, *engines: Engine) -> str:
        self._made += 1
        if self._server is None:
            copy = str(self._tmp_path / f"backup-{self._made}.db")
            _sqlite_copy(make_url(self.url).database, copy)
            return copy
        self._disconnect(engines)
        return make_url(self._server.create(template=make_url(self.url).database)).database

    def restore(self, backup: str, *engines: Engine) -> None:
        if self._server is None:
            _sqlite_copy(backup, make_url(self.url).database)
            return
        self._disconnect(engines)
        name = make_url(self.url).database
        self._server.drop(name)
        self._server.create(template=backup, name=name)

    @staticmethod
    def _disconnect(engines) -> None:
        # Only the connections: the engines keep their caches and the cycles they hold.
        for engine in engines:
            engine.database.dispose()


def _sqlite_copy(source: str, target: str) -> None:
    """SQLite's online backup: page by page, safe while others have the file open."""
    with closing(sqlite3.connect(source)) as reading, closing(sqlite3.connect(target)) as into:
        reading.backup(into)


@pytest.fixture
def backups(blank_database_url, tmp_path, request) -> Backups:
    server = None
    if make_url(blank_database_url).get_backend_name() == "postgresql":
        server = request.getfixturevalue("postgres_server")
    return Backups(blank_database_url, server, tmp_path)


@pytest.fixture
def engines(backups, clock):
    """Two engines on one database, as two server processes: A and B."""
    setup = Engine(backups.url, clock)
    setup.upgrade_schema()
    with setup.unit_of_work() as uow:
        definitions.deploy(uow, SYSTEM, read_bundle(shipped_processes()))
    setup.dispose()
    a = Driver(lambda: Engine(backups.url, clock))
    a.add_people()
    b = Driver(lambda: Engine(backups.url, clock))
    yield a, b
    a.engine.dispose()
    b.engine.dispose()


def is_kept(driver: Driver, cycle_id: int) -> bool:
    kept = driver.engine.live.pop(cycle_id)
    if kept is not None:
        driver.engine.live.put(cycle_id, kept)
    return kept is not None


def designed(driver: Driver, clock) -> int:
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, clock().date())
    return cycle_id


def approvals(driver: Driver, cycle_id: int) -> list[bool]:
    return [
        e.data["data"]["approved"]
        for e in driver.events(cycle_id)
        if e.type == "task_completed" and e.element_id == "leadership_approval"
    ]


def test_after_a_restore_an_engine_acts_on_the_restored_cycle(engines, backups, clock):
    a, b = engines
    cycle_id = designed(a, clock)
    backup = backups.back_up(a.engine, b.engine)
    a.approve(cycle_id)
    assert is_kept(a, cycle_id)  # approved, in A's memory
    backups.restore(backup, a.engine, b.engine)  # the approval is lost with the restore

    # The database says the design waits for approval: A acts on that, not on its memory.
    a.approve(cycle_id, approved=False, comment="Name the forms")
    assert [t.element_id for t in a.open_tasks(cycle_id)] == ["design_microprojects"]
    a.design(cycle_id, clock().date())
    a.approve(cycle_id)
    assert len(a.open_tasks(cycle_id, "implement_microproject")) == 2
    assert approvals(a, cycle_id) == [False, True]
    assert audit.verify(a.engine, SYSTEM).intact


def test_a_restored_cycle_written_again_elsewhere_is_not_the_kept_one(engines, backups, clock):
    a, b = engines
    cycle_id = designed(a, clock)
    backup = backups.back_up(a.engine, b.engine)
    a.approve(cycle_id)  # A keeps the approved cycle
    kept_at = a.row(cycle_id).revision
    backups.restore(backup, a.engine, b.engine)
    # After the restore the cycle is written exactly once, as it was before A's approval
    # was lost, but by engine B and differently: the design goes back.
    b.approve(cycle_id, approved=False, comment="Name the forms")
    rewritten_at = a.row(cycle_id).revision
    assert is_kept(a, cycle_id)

    # A still holds the approved cycle, with implementation under way; it must work on
    # the one the database holds, where the design is back with the department team.
    a.design(cycle_id, clock().date())
    a.approve(cycle_id)
    assert len(a.open_tasks(cycle_id, "implement_microproject")) == 2
    assert approvals(a, cycle_id) == [False, True]
    history = a.events(cycle_id)
    assert [e.position for e in history] == list(range(1, len(history) + 1))
    assert audit.verify(a.engine, SYSTEM).intact
    assert rewritten_at != kept_at  # a revision is never repeated
