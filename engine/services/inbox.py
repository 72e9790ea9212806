"""The inbox: the open tasks an actor may work, read from the ``tasks`` index table alone.

A member's inbox is the union of disjoint arms: the tasks they hold, the unclaimed tasks
assigned to them, and the unclaimed, unassigned tasks of each of their groups (of a group
held in units, those of the units its memberships cover: each task row carries its cycle's
unit, resolved to the covered units' ids when the request was authenticated). Each arm is
answered from one covering index of ``tasks`` (``Task.__table_args__``) in the order the
page needs, so a page merges the arms' first offset + limit rows and the total sums their
counts. One OR across the arms would make the database read and sort every row instead.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, select, union_all

from ..actors import Actor, require_reader
from ..db.models import Cycle, Task
from ..errors import ValidationFailed
from ..read_models import Page, TaskSummary, task_summary
from ..uow import UnitOfWork
from ..vocabulary import InboxScope, TaskState
from .units import units_at_or_below

SCOPES = tuple(scope.value for scope in InboxScope)
SORTS = ("created", "due")

# The columns a summary is made of: the page reads only these, not forms or instructions.
SUMMARY_COLUMNS = tuple(getattr(Task, field.name) for field in fields(TaskSummary))


@dataclass(frozen=True)
class InboxQuery:
    scope: InboxScope = InboxScope.MINE
    cycle_id: int | None = None
    unit: str | None = None
    process_id: str | None = None
    overdue: bool = False
    due_before: datetime | None = None
    sort: str = "created"
    limit: int = 50
    offset: int = 0

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ValidationFailed(f"unknown scope '{self.scope}'", {"scope": [f"one of {SCOPES}"]})
        if self.sort not in SORTS:
            raise ValidationFailed(f"unknown sort '{self.sort}'", {"sort": [f"one of {SORTS}"]})


def list_inbox(uow: UnitOfWork, actor: Actor, query: InboxQuery) -> Page[TaskSummary]:
    """One page of the open tasks in the actor's scope; never restores a workflow.

    ``mine``: held by the actor, unclaimed and assigned to them, or unclaimed, unassigned
    and for one of their groups; ``groups``: only the last; ``all``: admins and auditors.
    """
    units = units_at_or_below(uow, query.unit) if query.unit else None
    arms = [_matching(query, uow.now, units, arm) for arm in _arms(actor, query.scope)]
    if not arms:
        return Page(items=(), total=0)
    counts = [arm.with_only_columns(func.count()).scalar_subquery() for arm in arms]
    total = sum(uow.session.execute(select(*counts)).one())
    rows = uow.session.execute(_page(arms, query))
    return Page(items=tuple(task_summary(row) for row in rows), total=total)


def _arms(actor: Actor, scope: InboxScope) -> list[list[ColumnElement[bool]]]:
    """The conditions of each arm of the scope. No task meets two arms' conditions: a
    claimed task is in its holder's arm only, and it has one candidate group. Each group is
    an arm of its own so that its index yields its tasks already in order; a group held
    both in the whole organisation and in units is the former's arm alone."""
    unclaimed = Task.claimed_by.is_(None)
    groups = [
        [unclaimed, Task.assignee.is_(None), Task.candidate_group == group]
        for group in sorted(actor.groups)
    ]
    in_units = {group for group, _ in actor.unit_groups} - actor.groups
    groups += [
        [
            unclaimed,
            Task.assignee.is_(None),
            Task.candidate_group == group,
            Task.unit_id.in_(sorted(actor.units_of(group))),
        ]
        for group in sorted(in_units)
    ]
    if scope == InboxScope.ALL:
        require_reader(actor, "list all open tasks")
        return [[]]
    if scope == InboxScope.GROUPS:
        return groups
    return [[Task.claimed_by == actor.name], [unclaimed, Task.assignee == actor.name], *groups]


def _matching(
    query: InboxQuery, now: datetime, units: list[int] | None, arm: list[ColumnElement[bool]]
) -> Select:
    """The ids of the open tasks in one arm that pass the query's filters; ``units``: those
    of the unit filter and the units below it."""
    statement = select(Task.id).where(Task.state == TaskState.OPEN, *arm)
    if query.cycle_id is not None:
        statement = statement.where(Task.cycle_id == query.cycle_id)
    if units is not None:
        statement = statement.where(Task.unit_id.in_(units))
    if query.process_id:
        statement = statement.join(Cycle, Cycle.id == Task.cycle_id).where(
            Cycle.process_id == query.process_id
        )
    if query.overdue:
        statement = statement.where(Task.due_at < now)
    if query.due_before is not None:
        statement = statement.where(Task.due_at < query.due_before)
    return statement


def _page(arms: list[Select], query: InboxQuery) -> Select:
    """The page's summaries: each arm's first offset + limit keys from its index, merged
    and cut to the page; only then the page's rows themselves."""
    key = Task.due_at if query.sort == "due" else Task.created_at
    firsts = [
        arm.add_columns(key.label("key"))
        .order_by(_ascending(key), Task.id)
        .limit(query.offset + query.limit)
        .subquery()
        for arm in arms
    ]
    # SQLite takes an arm's ORDER BY and LIMIT in a compound select only inside a subquery.
    merged = union_all(*[first.select() for first in firsts]).subquery()
    page = (
        select(merged)
        .order_by(_ascending(merged.c.key), merged.c.id)
        .limit(query.limit)
        .offset(query.offset)
        .subquery()
    )
    return (
        select(*SUMMARY_COLUMNS)
        .join(page, page.c.id == Task.id)
        .order_by(_ascending(page.c.key), page.c.id)
    )


def _ascending(key: ColumnElement) -> ColumnElement:
    """Tasks without a due date last, on both databases (SQLite puts NULLs first, PostgreSQL
    last); ``created_at`` is never NULL, so its index order still serves."""
    return key.asc().nulls_last()
