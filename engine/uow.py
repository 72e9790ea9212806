"""The composition root and the unit of work every service runs in.

One request is one unit of work: it loads state, acts, writes state and audit events, and
commits; or it changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine as SqlEngine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from .audit.chain import ChainWriter, chain_of
from .clock import Clock, system_clock
from .config import database_url
from .db.database import WRITE, open_database, upgrade_schema
from .db.models import AuditEvent
from .errors import Conflict
from .forms import FormCache
from .spiff.runner import ProcessRunner


class Engine:
    """Holds what lives across requests: the database, the spec cache, the clock."""

    def __init__(self, url: str | None = None, clock: Clock = system_clock):
        self.url = url or database_url()
        self.database: SqlEngine = open_database(self.url)
        self.sessions = sessionmaker(self.database, expire_on_commit=False)
        self.runner = ProcessRunner()
        self.forms = FormCache()
        self.clock = clock

    def upgrade_schema(self) -> None:
        upgrade_schema(self.database)

    def unit_of_work(self, write: bool = True) -> UnitOfWork:
        return UnitOfWork(self, write)

    def dispose(self) -> None:
        self.database.dispose()


class UnitOfWork:
    """``with engine.unit_of_work() as uow: ...; uow.commit()``; leaving without commit
    rolls everything back."""

    def __init__(self, engine: Engine, write: bool):
        self.engine = engine
        self.runner = engine.runner
        self.forms = engine.forms
        self._write = write
        self.session: Session
        self.now: datetime

    def __enter__(self) -> UnitOfWork:
        self.session = self.engine.sessions()
        self._chain = ChainWriter(self.session)
        self._after_commit: list[Callable[[], None]] = []
        if self._write:
            self.session.connection(execution_options=WRITE)
        self.now = self.engine.clock()
        return self

    def __exit__(self, *exc_info) -> None:
        # close() rolls back whatever was not committed but, unlike rollback(), leaves the
        # loaded objects readable for the caller that renders them.
        self.session.close()

    def commit(self) -> None:
        try:
            self.session.commit()
        except StaleDataError as error:
            self.session.rollback()
            raise Conflict(
                "the cycle was changed by someone else at the same time; retry"
            ) from error
        for callback in self._after_commit:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once this unit of work has committed (never if it does not)."""
        self._after_commit.append(callback)

    def record(
        self,
        actor: str,
        type: str,
        *,
        cycle_id: int | None = None,
        task_id: str | None = None,
        element_id: str | None = None,
        **data: Any,
    ) -> None:
        """Append an audit event to this transaction, chained to its cycle's history."""
        self._chain.append(
            AuditEvent(
                chain=chain_of(cycle_id),
                at=self.now,
                actor=actor,
                type=type,
                cycle_id=cycle_id,
                task_id=task_id,
                element_id=element_id,
                data=data,
            )
        )
