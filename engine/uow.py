"""The composition root and the unit of work every service runs in.

One request is one unit of work: it loads state, acts, writes state and audit events, and
commits; or it changes nothing. Services commit; the interfaces (API, CLI) only open the
unit of work, hand it to a service and render what the service returns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine as SqlEngine
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from .audit.append import ChainHead, EventRow, link
from .audit.chain import GENESIS, GLOBAL_CHAIN, chain_of
from .cache import LruCache
from .clock import Clock, system_clock
from .config import database_url
from .db.database import WRITE, open_database, upgrade_schema
from .db.models import AuditChain, AuditEvent
from .forms import Form
from .repository import CycleRepository, LiveCycles
from .spiff.limits import ModelLimits
from .spiff.runner import ProcessRunner
from .vocabulary import EventType

CHAINS = AuditChain.__table__
_INSERT_EVENTS = insert(AuditEvent.__table__)


class Engine:
    """Holds what lives across requests: the database, the caches, the clock."""

    def __init__(self, url: str | None = None, clock: Clock = system_clock):
        # Read once, first: a bad setting stops the engine from starting, with its name.
        self.limits = ModelLimits.from_environment()
        self.url = url or database_url()
        self.database: SqlEngine = open_database(self.url)
        self.sessions = sessionmaker(self.database, expire_on_commit=False)
        # Write transactions say so when they begin (on SQLite: BEGIN IMMEDIATE).
        self.writing_sessions = sessionmaker(
            self.database.execution_options(**WRITE), expire_on_commit=False
        )
        self.runner = ProcessRunner(limits=self.limits)
        self.forms: LruCache[tuple[int, str], Form] = LruCache(512)
        self.live = LiveCycles(256)
        self.clock = clock

    def upgrade_schema(self) -> None:
        upgrade_schema(self.database)

    def unit_of_work(self, write: bool = True) -> UnitOfWork:
        return UnitOfWork(self, write)

    def dispose(self) -> None:
        self.live.clear()
        self.database.dispose()


class UnitOfWork:
    """``with engine.unit_of_work() as uow:`` then a service, which commits; leaving
    without a commit rolls everything back."""

    def __init__(self, engine: Engine, write: bool):
        self.engine = engine
        self._write = write
        self.session: Session
        self.now: datetime
        self.cycles: CycleRepository

    def __enter__(self) -> UnitOfWork:
        sessions = self.engine.writing_sessions if self._write else self.engine.sessions
        self.session = sessions()
        self.now = self.engine.clock()
        self.cycles = CycleRepository(self)
        self._events: list[EventRow] = []
        return self

    def __exit__(self, *exc_info) -> None:
        self.session.close()

    def rollback(self) -> None:
        """Undo everything since the last commit (a failed attempt); what was loaded is let
        go, so the unit of work can go on with a fresh transaction."""
        self.session.rollback()
        self._events = []
        self.cycles.release()

    def record(self, actor: str, type: EventType, **data: Any) -> None:
        """An audit event about anything but a cycle (users, deployments, refusals); a
        cycle records its own."""
        self._events.append(EventRow(GLOBAL_CHAIN, self.now, actor, type, None, None, None, data))

    def commit(self) -> None:
        """Write every changed cycle and chain all new events in one INSERT, then commit."""
        self.session.flush()  # rows services added through the ORM (users, deployments)
        events: list[EventRow] = []
        kept = []
        for held in self.cycles.held():
            cycle = held.cycle
            if not (cycle.events or cycle.changed_tasks or cycle.workflow_changed):
                kept.append((held, held.revision))  # left as it was: still current
                continue
            rows = [
                EventRow(
                    chain_of(cycle.id),
                    self.now,
                    event.actor,
                    event.type,
                    cycle.id,
                    event.task_id,
                    event.element_id,
                    event.data,
                )
                for event in cycle.events
            ]
            kept.append((held, self.cycles.write(held, link(held.head, rows))))
            events += rows
        if self._events:
            self._chain_globally(self._events)
            events += self._events
        if events:
            self.session.execute(_INSERT_EVENTS, [vars(event) for event in events])
        self.session.commit()
        self._events = []
        for held, revision in kept:
            self.cycles.keep(held, revision)
        self.cycles.release()

    def _chain_globally(self, events: list[EventRow]) -> None:
        """The global chain's head is a row of its own, locked while it moves on."""
        row = self.session.execute(
            select(CHAINS.c.length, CHAINS.c.head_hash)
            .where(CHAINS.c.chain == GLOBAL_CHAIN)
            .with_for_update()
        ).one_or_none()
        head = link(ChainHead(*row) if row else ChainHead(0, GENESIS), events)
        values = {"length": head.length, "head_hash": head.hash}
        if row is None:
            self.session.execute(insert(CHAINS).values(chain=GLOBAL_CHAIN, **values))
        else:
            self.session.execute(
                update(CHAINS).where(CHAINS.c.chain == GLOBAL_CHAIN).values(values)
            )
