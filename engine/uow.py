"""The composition root and the unit of work every service runs in.

One request is one unit of work: it loads state, acts, writes state and audit events, and
commits; or it changes nothing. Services commit; the interfaces (API, CLI) only open the
unit of work, hand it to a service and render what the service returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine as SqlEngine
from sqlalchemy import insert, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from .audit.append import ChainHead, EventRow, link, next_seq, number
from .audit.chain import GENESIS, GLOBAL_CHAIN, chain_of
from .audit.heads import seal_of
from .cache import LruCache
from .clock import Clock, system_clock
from .config import audit_key, base_url, database_url, digest_time
from .db.database import READ, WRITE, open_database, upgrade_schema
from .db.directory import forget_directory_writes, watch_directory_writes, wrote_directory
from .db.models import AuditChain, AuditEvent
from .db.pipeline import committed_at_end
from .evidence_store import EvidenceSettings, EvidenceStore
from .forms import Form
from .notifications.outbox import task_notices
from .notifications.recipients import Directory, RecipientCache
from .repository import CycleRepository, HeldCycle, LiveCycles
from .spiff.limits import ModelLimits
from .spiff.runner import ProcessRunner
from .vocabulary import EventType

CHAINS = AuditChain.__table__
_INSERT_EVENTS = insert(AuditEvent.__table__)
_LOCK_GLOBAL_HEAD = (
    select(CHAINS.c.length, CHAINS.c.head_hash, next_seq())
    .where(CHAINS.c.chain == GLOBAL_CHAIN)
    .with_for_update()
)
_MOVE_GLOBAL_HEAD = update(CHAINS).where(CHAINS.c.chain == GLOBAL_CHAIN)


class Engine:
    """Holds what lives across requests: the database, the caches, the clock, the key
    the audit chains' heads are sealed with (from the environment; None: no key), and
    where evidence files are kept (the environment's choice, unless given)."""

    def __init__(
        self,
        url: str | None = None,
        clock: Clock = system_clock,
        evidence_store: EvidenceStore | None = None,
    ):
        # Read once, first: a bad setting stops the engine from starting, with its name.
        self.limits = ModelLimits.from_environment()
        self.audit_key = audit_key()
        self.base_url = base_url()
        self.digest_at = digest_time()
        self.evidence = EvidenceSettings.from_environment()
        self.evidence_store = evidence_store or self.evidence.store()
        self.url = url or database_url()
        self.database: SqlEngine = open_database(self.url)
        self.sessions = sessionmaker(
            self.database.execution_options(**READ), expire_on_commit=False
        )
        # Only PostgreSQL can make a reading transaction refuse writes (database.READ).
        self.commit_reads = self.database.dialect.name == "postgresql"
        # Write transactions say so when they begin (on SQLite: BEGIN IMMEDIATE).
        self.writing_sessions = sessionmaker(
            self.database.execution_options(**WRITE), expire_on_commit=False
        )
        watch_directory_writes(self.writing_sessions)
        self.runner = ProcessRunner(limits=self.limits)
        self.forms: LruCache[tuple[int, str], Form] = LruCache(512)
        self.texts: LruCache[tuple[int, str], Mapping[str, str]] = LruCache(256)
        self.live = LiveCycles(256)
        self.recipients = RecipientCache()
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
        # Where this transaction's events may be numbered from (audit/append.py).
        self.drawn_seqs: list[int] = []
        # The directory's token as this transaction last read it (with a cycle's lock).
        self.directory_token: int | None = None
        return self

    def __exit__(self, exc_type, *exc_info) -> None:
        try:
            if exc_type is None and not self._write and self.engine.commit_reads:
                self.session.commit()  # it could write nothing (database.READ)
            self.session.close()
        except (OperationalError, InterfaceError):
            # The connection died (a database restart): nothing uncommitted survived it,
            # and the answer already made must not turn into an error.
            self.session.invalidate()

    def rollback(self) -> None:
        """Undo everything since the last commit (a failed attempt); what was loaded is let
        go, so the unit of work can go on with a fresh transaction."""
        self.session.rollback()
        self._ended()
        self.cycles.release()

    def record(self, actor: str, type: EventType, **data: Any) -> None:
        """An audit event about anything but a cycle (users, deployments, refusals); a
        cycle records its own."""
        self._events.append(EventRow(GLOBAL_CHAIN, self.now, actor, type, None, None, None, data))

    def commit(self) -> None:
        """Write every changed cycle and chain all new events in one INSERT, then commit.
        The events go in before the chain heads move onto them; on PostgreSQL the writes
        and the COMMIT reach the server in one round trip."""
        self.session.flush()  # rows services added through the ORM (users, deployments)
        changed: list[tuple[HeldCycle, list[EventRow]]] = []
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
            changed.append((held, rows))
        # The e-mails telling of what changed are written in this transaction too.
        task_notices(
            self._directory(),
            self.now,
            self.engine.base_url,
            [h.cycle for h, _ in changed],
            self.cycles.models.process_texts,
        )
        global_head = self._lock_global_head() if self._events else None
        events = [row for _, rows in changed for row in rows] + self._events
        if events:
            number(self.session, events, self.drawn_seqs)
        heads = [(held, link(held.head, rows)) for held, rows in changed]
        if global_head is not None:
            global_head = link(global_head, self._events)
        with committed_at_end(self.session):
            if events:
                self.session.connection().execute(_INSERT_EVENTS, [vars(event) for event in events])
            key = self.engine.audit_key
            for held, head in heads:
                moved = head != held.head
                seal = seal_of(key, chain_of(held.cycle.id), *head) if moved else None
                kept.append((held, self.cycles.write(held, head if moved else None, seal)))
            if global_head is not None:
                self.session.execute(
                    _MOVE_GLOBAL_HEAD,
                    {
                        "length": global_head.length,
                        "head_hash": global_head.hash,
                        "seal": seal_of(key, GLOBAL_CHAIN, *global_head),
                    },
                )
        self._ended()
        for held, revision in kept:
            self.cycles.keep(held, revision)
        self.cycles.release()

    def _ended(self) -> None:
        """The transaction ended: what it drew, read and recorded ends with it."""
        self._events = []
        self.drawn_seqs = []
        self.directory_token = None
        forget_directory_writes(self.session)

    def _directory(self) -> Directory:
        """Recipients as this transaction sees them: from what the engine kept at the
        directory's token, unless this transaction wrote the directory itself."""
        if wrote_directory(self.session):
            return Directory(self.session)
        return Directory(self.session, self.directory_token, self.engine.recipients)

    def _lock_global_head(self) -> ChainHead:
        """The global chain's head is a row of its own, locked while it moves on; a
        database without one starts the chain."""
        row = self.session.execute(_LOCK_GLOBAL_HEAD).one_or_none()
        if row is not None:
            length, head_hash, drawn = row
            self.drawn_seqs.append(drawn)
            return ChainHead(length, head_hash)
        self.session.execute(insert(CHAINS).values(chain=GLOBAL_CHAIN, length=0, head_hash=GENESIS))
        return ChainHead(0, GENESIS)
