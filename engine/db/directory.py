"""Whether a session wrote who is who (users, memberships, the unit tree) in its current
transaction: what it reads of them afterwards must come from the database, not from what a
process kept at the directory's token (``notifications.recipients``), since the token it
read may predate its own writes."""

from __future__ import annotations

from itertools import chain

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from .models import DirectoryVersion, Membership, UnitPath, User

DIRECTORY_TABLES = frozenset(
    model.__tablename__ for model in (User, Membership, UnitPath, DirectoryVersion)
)
_WROTE = "picycle_wrote_directory"


def watch_directory_writes(sessions: sessionmaker) -> None:
    """Every session ``sessions`` makes notes its writes to the directory's tables, made
    through its objects (at flush) or through statements it executes."""
    event.listen(sessions, "before_flush", _flushing)
    event.listen(sessions, "do_orm_execute", _executing)


def wrote_directory(session: Session) -> bool:
    return session.info.get(_WROTE, False)


def forget_directory_writes(session: Session) -> None:
    """After the transaction ended: its writes are committed or gone."""
    session.info.pop(_WROTE, None)


def _flushing(session: Session, flush_context, instances) -> None:
    changed = chain(session.new, session.dirty, session.deleted)
    if any(type(instance).__tablename__ in DIRECTORY_TABLES for instance in changed):
        session.info[_WROTE] = True


def _executing(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and (
        state.statement.table.name in DIRECTORY_TABLES
    ):
        state.session.info[_WROTE] = True
