"""Who is told of what: active users with an address who chose the kind of notice, among
those a task is for (its holder, its assignee, or the members of its group whose
memberships cover the task's unit, as in the inbox)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CompoundSelect,
    Select,
    bindparam,
    cast,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from ..cache import LruCache
from ..db.models import DIRECTORY_VERSION, MEMBERSHIPS, UNIT_PATHS, USERS, Membership
from ..vocabulary import Role
from .catalogs import language_of


class Notice(StrEnum):
    """The kinds of notification; each user chooses which they get."""

    ASSIGNED = "assigned"  # a task is assigned to them
    GROUP_OPEN = "group_open"  # a task became open to their group
    OVERDUE = "overdue"  # a task of theirs fell overdue
    DIGEST = "digest"  # their open and overdue tasks, once a day


# Built on the tables (db/models.py: USERS): these statements run on every step that offers
# a task.
CHOICES = {
    Notice.ASSIGNED: USERS.notify_assigned,
    Notice.GROUP_OPEN: USERS.notify_group_open,
    Notice.OVERDUE: USERS.notify_overdue,
    Notice.DIGEST: USERS.notify_digest,
}


@dataclass(frozen=True)
class Recipient:
    name: str
    address: str
    language: str  # one of the catalogs' languages


def _wanting(notice: Notice) -> Select:
    # The fourth column is the token's (_beside_the_token), typed for PostgreSQL's UNION.
    return select(USERS.name, USERS.email, USERS.language, cast(null(), BigInteger)).where(
        USERS.active, USERS.email.is_not(None), CHOICES[notice]
    )


def _members_of_group(notice: Notice) -> Select:
    covering = select(UNIT_PATHS.ancestor_id).where(
        UNIT_PATHS.descendant_id == bindparam("unit_id")
    )
    return (
        _wanting(notice)
        .join(Membership.__table__, MEMBERSHIPS.user_id == USERS.id)
        .where(
            MEMBERSHIPS.group_name == bindparam("group"),
            or_(MEMBERSHIPS.unit_id.is_(None), MEMBERSHIPS.unit_id.in_(covering)),
            USERS.role != Role.AUDITOR,
        )
        .distinct()
    )


def _beside_the_token(recipients: Select) -> CompoundSelect:
    """The recipients by name, and one more row holding only the directory's token, read
    by the same statement: the token they were read at, found even when no one is."""
    token = select(null(), null(), null(), DIRECTORY_VERSION.token)
    both = union_all(recipients, token)
    return both.order_by(both.selected_columns[0])


# Built once per kind of notice: the statements are read on every step that offers a
# task, and building one costs more than the database takes to answer it.
_NAMED = {
    notice: _beside_the_token(
        _wanting(notice).where(USERS.name.in_(bindparam("names", expanding=True)))
    )
    for notice in Notice
}
_GROUP_MEMBERS = {notice: _beside_the_token(_members_of_group(notice)) for notice in Notice}

# The token a question was answered at (None: unknown), and who it found.
Found = tuple[int | None, tuple[Recipient, ...]]


class RecipientCache:
    """Recipients read before, each with the directory token they were read at: while the
    token stays, the same question finds the same people (no write to users, memberships
    or the unit tree came between). Shared by every request thread."""

    def __init__(self, size: int = 512):
        self._kept: LruCache[tuple, Found] = LruCache(size)

    def found(self, token: int, key: tuple) -> tuple[Recipient, ...] | None:
        kept = self._kept.get(key)
        return kept[1] if kept is not None and kept[0] == token else None

    def keep(self, key: tuple, found: Found) -> None:
        if found[0] is not None:
            self._kept.put(key, found)


@dataclass(frozen=True)
class Directory:
    """Who is told of what, as one transaction sees it. Given the directory's ``token``
    read in this transaction, with no write of its own to users, memberships or the unit
    tree before or since, it takes what ``cache`` kept at that token instead of asking
    the database again."""

    session: Session
    token: int | None = None
    cache: RecipientCache | None = None

    def named(self, notice: Notice, names: list[str]) -> tuple[Recipient, ...]:
        key = ("named", notice, *names)
        return self._recipients(key, _NAMED[notice], {"names": names})

    def group_members(
        self, notice: Notice, group: str, unit_id: int | None
    ) -> tuple[Recipient, ...]:
        """The members of ``group`` in the whole organisation, or in ``unit_id`` or a
        unit above it; auditors work no tasks."""
        key = ("group", notice, group, unit_id)
        values = {"group": group, "unit_id": unit_id}
        return self._recipients(key, _GROUP_MEMBERS[notice], values)

    def _recipients(self, key: tuple, query: CompoundSelect, values: dict) -> tuple[Recipient, ...]:
        if self.cache is not None and self.token is not None:
            kept = self.cache.found(self.token, key)
            if kept is not None:
                return kept
        token, recipients = None, []
        for name, address, language, read_at in self.session.execute(query, values):
            if name is None:
                token = read_at
            else:
                recipients.append(Recipient(name, address, language_of(language)))
        found = (token, tuple(recipients))
        if self.cache is not None:
            self.cache.keep(key, found)
        return found[1]


def named(session: Session, notice: Notice, names: list[str]) -> tuple[Recipient, ...]:
    return Directory(session).named(notice, names)


def of_task(
    session: Session,
    notice: Notice,
    holder: str | None,
    assignee: str | None,
    group: str | None,
    unit_id: int | None,
) -> tuple[Recipient, ...]:
    """Those a task is for: its holder, else its assignee, else its group's members."""
    person = holder or assignee
    if person is not None:
        return named(session, notice, [person])
    if group is None:
        return ()
    return Directory(session).group_members(notice, group, unit_id)
