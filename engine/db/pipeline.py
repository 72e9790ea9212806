"""A transaction's last writes and its COMMIT, sent to PostgreSQL in one round trip."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session


@contextmanager
def committed_at_end(session: Session) -> Iterator[None]:
    """Runs the block's writes, then commits. On PostgreSQL the writes and the COMMIT go
    to the server together (psycopg's pipeline mode) instead of each waiting for its
    answer, so a statement in the block must not read its result, not even a row count.
    The first statement that fails is raised at the end, as SQLAlchemy raises errors, and
    nothing is committed. SQLite answers within the process: it just commits."""
    session.flush()  # an ORM row flushed inside the block would read back its key
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        errors = connection.dialect.loaded_dbapi.Error
        try:
            with driver.pipeline():
                yield
                # Sent with the writes and answered at the pipeline's end, which always
                # waits for the server (driver.commit() would wait once more before it).
                driver.execute("COMMIT")
        except errors as error:
            lost = connection.dialect.is_disconnect(error, driver, None)
            if lost:
                connection.invalidate(error)
            raise DBAPIError.instance(
                "COMMIT",
                None,
                error,
                errors,
                connection_invalidated=lost,
                dialect=connection.dialect,
            ) from error
    else:
        yield
    session.commit()  # on PostgreSQL already committed: SQLAlchemy's own state follows
