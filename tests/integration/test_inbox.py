"""The inbox service: its arms merged into pages that match one ordered listing.

The tasks are written straight into the ``tasks`` index table (the inbox reads nothing
else), next to real cycles, so that every arm, tie and missing due date is there on purpose.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from picycle.engine.actors import Actor
from picycle.engine.db.models import Cycle, Task
from picycle.engine.errors import PermissionDenied, ValidationFailed
from picycle.engine.services.inbox import InboxQuery, list_inbox
from picycle.engine.vocabulary import InboxScope, Role, TaskState
from sqlalchemy import select

from tests.conftest import START

DEPARTMENT, PI_UNIT, LEADERSHIP = "Department Team", "PI Unit", "Leadership"
DANA = Actor("dana", Role.MEMBER, frozenset({DEPARTMENT}))
BO = Actor("bo", Role.MEMBER, frozenset({DEPARTMENT, PI_UNIT}))  # two groups: two arms
LONER = Actor("lou", Role.MEMBER)
ADA = Actor("ada", Role.ADMIN)
UNITS = ("North", "South", "East")


def task_id(n: int) -> str:
    """Ids that sort as their numbers do, so ties on the sort key have a known order."""
    return str(uuid.UUID(int=n))


def make_task(n: int, cycle_id: int, **columns) -> Task:
    values = {
        "element_id": "made_up",
        "title": f"task {n}",
        "state": TaskState.OPEN,
        "created_at": START,
        "form_data": {},
        **columns,
    }
    return Task(id=task_id(n), cycle_id=cycle_id, **values)


def add(driver, *tasks: Task) -> None:
    """Store the tasks, each carrying its cycle's unit as the engine's rows do."""
    with driver.engine.unit_of_work() as uow:
        for task in tasks:
            task.unit_id = uow.session.get(Cycle, task.cycle_id).unit_id
        uow.session.add_all(tasks)
        uow.commit()


def listed(driver, actor: Actor, **query):
    with driver.engine.unit_of_work(write=False) as uow:
        return list_inbox(uow, actor, InboxQuery(**query))


def titles(page) -> list[str]:
    return [task.title for task in page.items]


# --- arms that could overlap, due dates, totals ------------------------------------------------


def test_a_task_meeting_several_arms_conditions_is_listed_once(driver):
    cycle_id = driver.start()
    add(
        driver,
        make_task(1, cycle_id, claimed_by="dana", assignee="dana", candidate_group=DEPARTMENT),
        make_task(2, cycle_id, claimed_by="dana", candidate_group=DEPARTMENT),
        make_task(3, cycle_id, assignee="dana", candidate_group=DEPARTMENT),
        make_task(4, cycle_id, claimed_by="omar", assignee="dana"),
        make_task(5, cycle_id, assignee="omar", candidate_group=DEPARTMENT),
    )
    page = listed(driver, DANA)
    assert (titles(page), page.total) == (["task 1", "task 2", "task 3"], 3)
    assert listed(driver, DANA, scope=InboxScope.GROUPS).total == 0


def test_sorting_by_due_date_puts_tasks_without_one_last(driver):
    cycle_id = driver.start()
    day = timedelta(days=1)
    add(
        driver,
        make_task(1, cycle_id, candidate_group=DEPARTMENT, created_at=START - 5 * day),
        make_task(2, cycle_id, assignee="dana", due_at=START + 3 * day),
        make_task(3, cycle_id, claimed_by="dana", created_at=START - 9 * day),
        make_task(4, cycle_id, claimed_by="dana", due_at=START + day, created_at=START + day),
        make_task(5, cycle_id, candidate_group=DEPARTMENT, due_at=START + day),
    )
    by_due = listed(driver, DANA, sort="due")
    assert titles(by_due) == ["task 4", "task 5", "task 2", "task 1", "task 3"]
    assert titles(listed(driver, DANA)) == ["task 3", "task 1", "task 2", "task 5", "task 4"]
    assert titles(listed(driver, DANA, sort="due", limit=2, offset=2)) == ["task 2", "task 1"]


def test_the_total_counts_every_match_whatever_the_page(driver, clock):
    cycle_id = driver.start()
    add(
        driver,
        make_task(1, cycle_id, claimed_by="dana", due_at=START - timedelta(days=1)),
        make_task(2, cycle_id, assignee="dana", due_at=START - timedelta(days=2)),
        make_task(3, cycle_id, assignee="dana", due_at=START + timedelta(days=2)),
        make_task(4, cycle_id, candidate_group=DEPARTMENT),
        make_task(5, cycle_id, candidate_group=DEPARTMENT, state=TaskState.COMPLETED),
    )
    assert [listed(driver, DANA, limit=limit).total for limit in (1, 2, 50)] == [4, 4, 4]
    beyond = listed(driver, DANA, offset=10)
    assert (beyond.items, beyond.total) == ((), 4)
    assert listed(driver, DANA, overdue=True, limit=1).total == 2
    clock.advance(days=3)
    assert listed(driver, DANA, overdue=True).total == 3


def test_who_may_list_every_open_task(driver):
    driver.start()
    with pytest.raises(PermissionDenied):
        listed(driver, DANA, scope=InboxScope.ALL)
    assert titles(listed(driver, ADA, scope=InboxScope.ALL)) == ["Assess performance"]
    assert listed(driver, LONER, scope=InboxScope.GROUPS).total == 0
    with pytest.raises(ValidationFailed):
        InboxQuery(scope="everything")
    with pytest.raises(ValidationFailed):
        InboxQuery(sort="title")


# --- pages of made-up inboxes against one listing worked out row by row ------------------------


@dataclass(frozen=True)
class MadeUp:
    tasks: list[Task]  # every task row, the cycles' own included
    units: dict[int, str]  # cycle id -> unit


@pytest.fixture
def made_up(driver) -> MadeUp:
    """Real cycles in three units, and tasks of every kind spread over them: held, assigned,
    for a group, for several at once, completed; with many ties on creation and due dates."""
    units = {driver.start(unit=unit): unit for unit in UNITS}
    cycle_ids = list(units)
    rng = random.Random(1849)
    people = ["dana", "omar", "bo", None, None, None, None]
    groups = [DEPARTMENT, PI_UNIT, LEADERSHIP, None]
    add(
        driver,
        *[
            make_task(
                n,
                rng.choice(cycle_ids),
                claimed_by=rng.choice(people),
                assignee=rng.choice(people),
                candidate_group=rng.choice(groups),
                state=rng.choice([TaskState.OPEN] * 5 + [TaskState.COMPLETED]),
                created_at=START - timedelta(hours=rng.randrange(8)),
                due_at=rng.choice([None, START + timedelta(days=rng.randrange(-3, 3))]),
            )
            for n in range(1, 81)
        ],
    )
    with driver.engine.unit_of_work(write=False) as uow:
        return MadeUp(list(uow.session.scalars(select(Task))), units)


def expected(made_up: MadeUp, actor: Actor, query: InboxQuery) -> list[str]:
    """The ids the inbox lists, in order, from the rows one by one."""

    def in_scope(task: Task) -> bool:
        unclaimed = task.claimed_by is None
        for_groups = unclaimed and task.assignee is None and task.candidate_group in actor.groups
        if query.scope == InboxScope.ALL:
            return True
        if query.scope == InboxScope.GROUPS:
            return for_groups
        return (
            task.claimed_by == actor.name
            or (unclaimed and task.assignee == actor.name)
            or for_groups
        )

    def due_before(task: Task, moment: datetime | None) -> bool:
        return moment is None or (task.due_at is not None and task.due_at < moment)

    found = [
        task
        for task in made_up.tasks
        if task.state == TaskState.OPEN
        and in_scope(task)
        and query.cycle_id in (None, task.cycle_id)
        and query.unit in (None, made_up.units[task.cycle_id])
        and query.process_id in (None, "pi_cycle")
        and due_before(task, START if query.overdue else None)
        and due_before(task, query.due_before)
    ]
    if query.sort == "due":
        never = datetime.max.replace(tzinfo=UTC)
        found.sort(key=lambda task: (task.due_at or never, task.id))
    else:
        found.sort(key=lambda task: (task.created_at, task.id))
    return [task.id for task in found]


SCOPES_OF = [
    (DANA, InboxScope.MINE),
    (BO, InboxScope.MINE),
    (BO, InboxScope.GROUPS),
    (ADA, InboxScope.ALL),
]
SCOPE_IDS = [f"{actor.name}-{scope}" for actor, scope in SCOPES_OF]


@pytest.mark.parametrize("sort", ["created", "due"])
@pytest.mark.parametrize(("actor", "scope"), SCOPES_OF, ids=SCOPE_IDS)
def test_every_page_is_a_slice_of_one_ordered_listing(driver, made_up, actor, scope, sort):
    whole = expected(made_up, actor, InboxQuery(scope=scope, sort=sort))
    assert len(whole) > 8, "too few tasks in this inbox to page across its arms"
    with driver.engine.unit_of_work(write=False) as uow:
        for limit in (1, 3, 7):
            for offset in range(len(whole) + 2):
                query = InboxQuery(scope=scope, sort=sort, limit=limit, offset=offset)
                page = list_inbox(uow, actor, query)
                assert [t.id for t in page.items] == whole[offset : offset + limit], query
                assert page.total == len(whole), query


FILTERS = [
    {"overdue": True},
    {"due_before": START + timedelta(days=1)},
    {"unit": "South"},
    {"process_id": "pi_cycle"},
    {"process_id": "other"},
    {"unit": "East", "overdue": True, "sort": "due"},
]


@pytest.mark.parametrize("filters", FILTERS, ids=str)
def test_filters_keep_the_matching_tasks_of_every_arm(driver, made_up, filters):
    one_cycle = min(made_up.units)
    queries = [
        *[(actor, InboxQuery(scope=scope, limit=200, **filters)) for actor, scope in SCOPES_OF],
        (BO, InboxQuery(cycle_id=one_cycle, limit=200, **filters)),
    ]
    with driver.engine.unit_of_work(write=False) as uow:
        for actor, query in queries:
            whole = expected(made_up, actor, query)
            page = list_inbox(uow, actor, query)
            assert ([t.id for t in page.items], page.total) == (whole, len(whole)), query


def test_a_summary_carries_the_tasks_columns(driver, made_up):
    (first, *_) = listed(driver, DANA).items
    (row,) = [task for task in made_up.tasks if task.id == first.id]
    assert (first.title, first.cycle_id, first.claimed_by, first.assignee) == (
        row.title,
        row.cycle_id,
        row.claimed_by,
        row.assignee,
    )
    assert (first.state, first.created_at, first.due_at) == (
        TaskState.OPEN,
        row.created_at,
        row.due_at,
    )
