"""Claiming due work so that any number of workers can run at once (timers; an outbox).

A claim is the lock held by the transaction that does the work, not a column: on
PostgreSQL ``FOR UPDATE SKIP LOCKED`` hands each worker rows no other transaction holds,
so workers never wait on each other nor take the same row; on SQLite the write transaction
(``BEGIN IMMEDIATE``) holds the whole database, so claims queue. The work commits with
its claim or rolls back with it: a worker killed mid-job loses its connection, the
database rolls its transaction back and the row is due again for the next worker. No
lease to expire, no clock to trust, and nothing done twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Table
from sqlalchemy.orm import Session


def claim_next(session: Session, due: Select, table: Table) -> Any | None:
    """The first row of ``due`` (the rows to claim, most urgent first) whose row of
    ``table`` no other transaction holds, now held by this one; None when there is none.
    The session must be in a write transaction (on SQLite, that is the claim)."""
    claimable = due.limit(1).with_for_update(of=table, skip_locked=True)
    return session.execute(claimable).first()
