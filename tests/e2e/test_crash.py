"""A serving process killed (SIGKILL), or every database connection cut (as a database
restart does: the server itself keeps running for the other users of this machine), in
the middle of a load on PostgreSQL: every completion a client was answered 200 for is in
the database, the audit trail is intact and every cycle's inbox matches its workflow.
Bounded: a few dozen completions."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import threading

import pytest
from picycle.engine import Engine
from picycle.engine.actors import SYSTEM
from picycle.engine.db.models import AuditEvent, Task
from picycle.engine.services import audit, cycles, users
from picycle.engine.services.health import inbox_mismatches
from sqlalchemy import select, text

from bench.common import children_of
from tests.serving import PICYCLE, eventually, free_port, health
from tests.support import INDICATORS, ensure_unit

CYCLES = 60
CLIENTS = 4
KILL_AFTER = 15  # completions answered 200 before the fault
BODY = json.dumps({"data": {"indicators": INDICATORS}})


def assessments(engine: Engine, token_holder: str) -> list[str]:
    """One open "Assess performance" task in each of ``CYCLES`` new cycles."""
    with engine.unit_of_work(write=False) as uow:
        actor = users.actor_named(uow, token_holder)
    found = []
    for n in range(CYCLES):
        ensure_unit(engine, f"Unit {n}")
        with engine.unit_of_work() as uow:
            (task,) = cycles.start_cycle(uow, actor, f"Unit {n}", "Permits").open_tasks
        found.append(task.id)
    return found


class Load:
    """Clients completing tasks over keep-alive connections; a connection that breaks is
    opened again and the task counts as not answered."""

    def __init__(self, port: int, token: str, on_success):
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.answered: dict[str, int] = {}
        self.broken: list[str] = []
        self._lock = threading.Lock()
        self._on_success = on_success

    def complete_all(self, task_ids: list[str]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        for task_id in task_ids:
            try:
                connection.request("POST", f"/api/v1/tasks/{task_id}/complete", BODY, self.headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                with self._lock:
                    self.broken.append(task_id)
                continue
            with self._lock:
                self.answered[task_id] = response.status
                succeeded = sum(status == 200 for status in self.answered.values())
            if response.status == 200:
                self._on_success(succeeded)
        connection.close()


def cut_database_connections(url: str) -> None:
    """Terminate picycle's connections to the test's database, as a restart would (the
    test's own harness keeps its connections)."""
    database = Engine(url).database
    with database.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = 'picycle' "
                "AND pid <> pg_backend_pid()"
            )
        )
    database.dispose()


# fault -> what a client may be answered (503: try again)
FAULTS = {"serving process killed": {200}, "database connections cut": {200, 503}}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_completions_answered_200_survive_a_fault_mid_load(engine, database_url, fault):
    with engine.unit_of_work() as uow:
        token = users.add_user(uow, SYSTEM, "pia", "member", ["PI Unit"]).token
    task_ids = assessments(engine, "pia")
    port = free_port()
    server = subprocess.Popen(
        [PICYCLE, "serve", "--processes", "2", "--threads", "4", "--port", str(port)],
        env={**os.environ, "PICYCLE_DATABASE_URL": database_url},
        stderr=subprocess.DEVNULL,
    )
    struck: list[str] = []
    strike_lock = threading.Lock()

    def strike_once(succeeded: int) -> None:
        with strike_lock:
            if succeeded < KILL_AFTER or struck:
                return
            struck.append(fault)
        if fault == "serving process killed":
            os.kill(min(children_of(server.pid)), signal.SIGKILL)
        else:
            cut_database_connections(database_url)

    try:
        eventually(lambda: len(children_of(server.pid)) == 2, "two serving processes")
        assert eventually(lambda: health(port), "an answer") == 200
        load = Load(port, token, strike_once)
        clients = [
            threading.Thread(target=load.complete_all, args=(task_ids[n::CLIENTS],))
            for n in range(CLIENTS)
        ]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    assert struck, "the load ended before the fault"
    succeeded = {task_id for task_id, status in load.answered.items() if status == 200}
    assert len(succeeded) >= KILL_AFTER
    assert set(load.answered.values()) <= FAULTS[fault], load.answered
    # What the database says, through an engine that never saw the load.
    after = Engine(database_url)
    try:
        with after.unit_of_work(write=False) as uow:
            done = set(uow.session.scalars(select(Task.id).where(Task.state == "completed")))
            recorded = set(
                uow.session.scalars(
                    select(AuditEvent.task_id).where(AuditEvent.type == "task_completed")
                )
            )
        assert succeeded <= done and succeeded <= recorded
        assert audit.verify(after, SYSTEM, workers=1).intact
        assert inbox_mismatches(after) == []
    finally:
        after.dispose()
