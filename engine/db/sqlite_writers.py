"""One write transaction at a time in a process, queued in the process rather than by
SQLite.

SQLite lets one transaction write at once: picycle's write transactions take the lock at
BEGIN IMMEDIATE, and one that finds it taken waits in SQLite's busy handler, which sleeps
1, 2, 5, 10 ... up to 100 ms between tries, however soon the lock comes free; with eight
request threads writing, a request could sleep a tenth of a second behind a writer long
done. The threads of one process queue on a lock of the process instead, and each begins
as the one before it ends. Other processes (a worker, a second server) still meet at
SQLite's own lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

_HOLDS = "picycle_holds_the_writer_queue"


class WriterQueue:
    """The process's queue of write transactions on one SQLite database."""

    def __init__(self, timeout: float):
        self._lock = threading.Lock()
        self._timeout = timeout

    def enter(self, info: dict[str, Any]) -> None:
        """Wait for the transactions ahead (at most ``timeout`` seconds, as SQLite would:
        then "database is locked"); ``info`` is the connection's, which holds the place."""
        if not self._lock.acquire(timeout=self._timeout):
            locked = sqlite3.OperationalError("database is locked")
            raise OperationalError("BEGIN IMMEDIATE", None, locked)
        info[_HOLDS] = True

    def leave(self, info: dict[str, Any] | None) -> None:
        """The connection's write transaction ended (or the connection did): the next
        may begin. Nothing, for a connection holding no place."""
        if info is not None and info.pop(_HOLDS, False):
            self._lock.release()

    @property
    def free(self) -> bool:
        return not self._lock.locked()


def queue_writers(engine: Engine, timeout: float) -> WriterQueue:
    """A queue for ``engine``'s write transactions, left as each ends: once its COMMIT or
    ROLLBACK is done (SQLAlchemy's events come before them), or with its connection
    (returned to the pool, invalidated or closed)."""
    queue = WriterQueue(timeout)
    dialect = engine.dialect
    for name in ("do_commit", "do_rollback"):
        setattr(dialect, name, _then_leave(queue, getattr(dialect, name)))

    def connection_ended(dbapi_connection, record, *_) -> None:
        queue.leave(record.info if record is not None else None)

    for pool_event in ("checkin", "invalidate", "close"):
        event.listen(engine, pool_event, connection_ended)
    _QUEUES[engine] = queue
    return queue


def _then_leave(queue: WriterQueue, end: Callable[[Any], None]) -> Callable[[Any], None]:
    """The dialect's COMMIT or ROLLBACK of a pooled connection, then its place left."""

    def ended(connection) -> None:
        try:
            end(connection)
        finally:
            queue.leave(_info(connection))

    return ended


def _info(connection) -> dict[str, Any] | None:
    """The pooled connection's info, where its place in the queue is noted; None for the
    ad hoc connection SQLAlchemy wraps a new one in while the dialect first sets itself up
    (its ``info`` raises NotImplementedError by design): it never holds a place."""
    try:
        return connection.info
    except NotImplementedError:
        return None


def writers_of(engine: Engine) -> WriterQueue | None:
    """The queue of an SQLite engine's write transactions (None on PostgreSQL)."""
    return _QUEUES.get(engine)


_QUEUES: WeakKeyDictionary[Engine, WriterQueue] = WeakKeyDictionary()
