"""The process's queue of SQLite write transactions, on its own."""

from __future__ import annotations

import pytest
from picycle.engine.db.sqlite_writers import WriterQueue
from sqlalchemy.exc import OperationalError


def test_one_writer_at_a_time_and_the_next_once_it_leaves():
    queue = WriterQueue(timeout=0.01)
    first, second = {}, {}
    queue.enter(first)
    assert not queue.free
    with pytest.raises(OperationalError, match="database is locked"):
        queue.enter(second)  # as SQLite says it when its own wait runs out
    queue.leave(first)
    queue.enter(second)
    queue.leave(second)
    assert queue.free


def test_leaving_without_a_place_frees_nothing():
    queue = WriterQueue(timeout=0.01)
    holder = {}
    queue.enter(holder)
    queue.leave({})  # another connection's transaction ended: a reader's, say
    queue.leave(None)  # a connection already invalidated
    assert not queue.free
    queue.leave(holder)
    queue.leave(holder)  # a second end of the same transaction (its connection returned)
    assert queue.free
