"""Who is told of what: active users with an address who chose the kind of notice, among
those a task is for (its holder, its assignee, or the members of its group whose
memberships cover the task's unit, as in the inbox)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import Session

from ..db.models import MEMBERSHIPS, UNIT_PATHS, USERS, Membership
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
    return (
        select(USERS.name, USERS.email, USERS.language)
        .where(USERS.active, USERS.email.is_not(None), CHOICES[notice])
        .order_by(USERS.name)
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


# Built once per kind of notice: the statements are read on every step that offers a
# task, and building one costs more than the database takes to answer it.
_NAMED = {
    notice: _wanting(notice).where(USERS.name.in_(bindparam("names", expanding=True)))
    for notice in Notice
}
_GROUP_MEMBERS = {notice: _members_of_group(notice) for notice in Notice}


def _recipients(session: Session, query: Select, values: dict) -> list[Recipient]:
    return [
        Recipient(name, address, language_of(language))
        for name, address, language in session.execute(query, values)
    ]


def named(session: Session, notice: Notice, names: list[str]) -> list[Recipient]:
    return _recipients(session, _NAMED[notice], {"names": names})


def group_members(
    session: Session, notice: Notice, group: str, unit_id: int | None
) -> list[Recipient]:
    """The members of ``group`` in the whole organisation, or in ``unit_id`` or a unit
    above it; auditors work no tasks."""
    return _recipients(session, _GROUP_MEMBERS[notice], {"group": group, "unit_id": unit_id})


def of_task(
    session: Session,
    notice: Notice,
    holder: str | None,
    assignee: str | None,
    group: str | None,
    unit_id: int | None,
) -> list[Recipient]:
    """Those a task is for: its holder, else its assignee, else its group's members."""
    person = holder or assignee
    if person is not None:
        return named(session, notice, [person])
    if group is None:
        return []
    return group_members(session, notice, group, unit_id)
