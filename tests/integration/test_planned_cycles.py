"""Moving, retitling and calling off the next cycle a completed cycle planned, on both
databases: the rules, the trail, and what the timer worker then does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from picycle.engine.actors import Actor
from picycle.engine.db.models import Cycle as CycleRow
from picycle.engine.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from picycle.engine.services import incidents, planned_cycles
from picycle.engine.services.cycles import CycleFilter, list_cycles
from picycle.engine.vocabulary import Role

from tests.support import UNIT


@pytest.fixture
def completed(driver) -> int:
    """A completed cycle of the Directorate of Planning that planned its next one in 30
    days, "Faster permits, round 2"."""
    cycle_id = driver.start()
    driver.work_whole_cycle(cycle_id)
    return cycle_id


def change(driver, who: str, cycle_id: int, **changes):
    with driver.engine.unit_of_work() as uow:
        return planned_cycles.change_planned_cycle(uow, driver.actor(who), cycle_id, **changes)


def call_off(driver, who: str, cycle_id: int, reason: str = "The unit merges in May"):
    with driver.engine.unit_of_work() as uow:
        return planned_cycles.call_off_planned_cycle(uow, driver.actor(who), cycle_id, reason)


def planned(driver, who: str, cycle_id: int):
    with driver.engine.unit_of_work(write=False) as uow:
        return planned_cycles.planned_cycle(uow, driver.actor(who), cycle_id)


def unit_cycles(driver) -> list:
    with driver.engine.unit_of_work(write=False) as uow:
        return list_cycles(uow, driver.actor("ada"), CycleFilter(unit=UNIT)).items


def test_a_moved_plan_starts_on_its_new_date_under_its_new_title(driver, clock, completed):
    today = clock().date()
    moved = change(
        driver, "pia", completed, start_on=today + timedelta(days=40), title="Round 2, later"
    )
    assert (moved.start_on, moved.title, moved.pending) == (
        today + timedelta(days=40),
        "Round 2, later",
        True,
    )
    last = driver.events(completed)[-1]
    assert (last.type, last.actor) == ("next_cycle_scheduled", "pia")
    assert last.data == {
        "start_on": (today + timedelta(days=40)).isoformat(),
        "title": "Round 2, later",
        "previous_start_on": (today + timedelta(days=30)).isoformat(),
        "previous_title": "Faster permits, round 2",
    }
    assert driver.cycle(completed).records["next_cycle"]["title"] == "Round 2, later"

    clock.advance(days=31)  # the old date has passed
    driver.fire_timers()
    assert len(unit_cycles(driver)) == 1
    clock.advance(days=9)
    driver.restart()
    driver.fire_timers()
    latest = unit_cycles(driver)[0]
    assert (latest.cycle_number, latest.title, latest.started_by) == (2, "Round 2, later", "system")
    assert driver.events(completed)[-1].type == "next_cycle_started"
    assert planned(driver, "pia", completed).pending is False


def test_a_plan_moved_earlier_starts_earlier_and_keeps_its_title(driver, clock, completed):
    change(driver, "ada", completed, start_on=clock().date() + timedelta(days=3))
    assert planned(driver, "pia", completed).title == "Faster permits, round 2"
    clock.advance(days=3)
    driver.fire_timers()
    assert unit_cycles(driver)[0].title == "Faster permits, round 2"


def test_a_called_off_plan_never_starts(driver, clock, completed):
    gone = call_off(driver, "pia", completed)
    assert (gone.pending, gone.may_change) == (False, False)
    last = driver.events(completed)[-1]
    assert (last.type, last.actor, last.data["reason"]) == (
        "next_cycle_skipped",
        "pia",
        "The unit merges in May",
    )
    clock.advance(days=400)
    driver.fire_timers()
    assert len(unit_cycles(driver)) == 1
    assert driver.events(completed)[-1].type == "next_cycle_skipped"
    # What was planned stays on record; it waits no more.
    assert driver.cycle(completed).records["next_cycle"]["title"] == "Faster permits, round 2"
    assert planned(driver, "pia", completed).pending is False


def test_a_plan_left_as_it_was_records_nothing(driver, clock, completed):
    before = len(driver.events(completed))
    same = change(driver, "pia", completed, title="Faster permits, round 2")
    assert same.title == "Faster permits, round 2"
    assert len(driver.events(completed)) == before


def test_the_new_date_follows_the_plan_tasks_rule_by_the_engines_clock(driver, clock, completed):
    today = clock().date()
    for start_on, code in [
        (today - timedelta(days=1), "start_in_past"),
        (today + timedelta(days=367), "start_too_far"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            change(driver, "pia", completed, start_on=start_on)
        assert [m.code for m in refused.value.errors["start_on"]] == [code]
    with pytest.raises(ValidationFailed) as refused:
        change(driver, "pia", completed, start_on=today - timedelta(days=1), title="  ")
    assert set(refused.value.errors) == {"start_on", "title"}
    with pytest.raises(ValidationFailed) as refused:
        change(driver, "pia", completed, title="x" * 501)
    assert set(refused.value.errors) == {"title"}
    assert change(driver, "pia", completed, start_on=today).start_on == today
    assert planned(driver, "pia", completed).title == "Faster permits, round 2"


def test_calling_off_needs_a_reason(driver, completed):
    with pytest.raises(ValidationFailed) as refused:
        call_off(driver, "pia", completed, reason=" ")
    assert set(refused.value.errors) == {"reason"}
    assert planned(driver, "pia", completed).pending is True


def test_only_a_pending_plan_of_a_completed_cycle_changes(driver, clock, completed):
    running = driver.start(unit="Roads")
    with pytest.raises(Conflict, match="only a completed cycle"):
        change(driver, "pia", running, title="Later")
    with pytest.raises(Conflict, match="only a completed cycle"):
        call_off(driver, "pia", running)

    call_off(driver, "pia", completed)
    with pytest.raises(Conflict, match="no next cycle waiting"):
        change(driver, "pia", completed, title="Again")
    with pytest.raises(Conflict, match="no next cycle waiting"):
        call_off(driver, "pia", completed)


def test_a_started_or_skipped_plan_no_longer_changes(driver, clock, completed):
    clock.advance(days=30)
    driver.fire_timers()
    with pytest.raises(Conflict, match="no next cycle waiting"):
        change(driver, "pia", completed, title="Too late")

    second = unit_cycles(driver)[0].id
    driver.work_whole_cycle(second)
    driver.start(title="Started by hand")
    clock.advance(days=30)
    driver.fire_timers()
    assert driver.events(second)[-1].type == "next_cycle_skipped"
    with pytest.raises(Conflict, match="no next cycle waiting"):
        call_off(driver, "pia", second)


def test_those_who_may_start_a_cycle_in_the_unit_may_change_its_plan(driver, completed):
    with pytest.raises(PermissionDenied):
        change(driver, "audrey", completed, title="Audited")
    assert planned(driver, "audrey", completed).may_change is False
    assert planned(driver, "pia", completed).may_change is True

    # dana owned a microproject of the cycle, so she sees it from another unit's team;
    # starting, and so planning, the unit's cycles is not hers.
    owner = Actor("dana", Role.MEMBER, unit_groups=frozenset({("Department Team", 999)}))
    with driver.engine.unit_of_work() as uow, pytest.raises(PermissionDenied):
        planned_cycles.change_planned_cycle(uow, owner, completed, title="Mine")
    with driver.engine.unit_of_work(write=False) as uow:
        assert planned_cycles.planned_cycle(uow, owner, completed).may_change is False

    stranger = Actor("sam", Role.MEMBER, unit_groups=frozenset({("PI Unit", 999)}))
    with driver.engine.unit_of_work() as uow, pytest.raises(NotFound):
        planned_cycles.call_off_planned_cycle(uow, stranger, completed, "Not mine")
    assert planned(driver, "pia", completed).pending is True


def test_a_cycle_that_planned_nothing_has_no_plan_to_show(driver):
    running = driver.start()
    assert planned(driver, "pia", running) is None


def incidents_of(driver) -> list:
    with driver.engine.unit_of_work(write=False) as uow:
        return incidents.list_incidents(uow, driver.actor("ada"), open_only=False).items


def plan_kept_before_titles_were_checked(driver, cycle_id: int, title: str) -> None:
    """The completed cycle's plan as a version that did not check titles kept it."""
    with driver.engine.unit_of_work() as uow:
        row = uow.session.get_one(CycleRow, cycle_id)
        row.data = {**row.data, "next_cycle": {**row.data["next_cycle"], "title": title}}
        uow.session.commit()
    driver.restart()  # the cycle is read again from its row


def test_a_plan_titled_before_titles_were_checked_starts_fit_for_one_line(driver, clock, completed):
    plan_kept_before_titles_were_checked(driver, completed, "Round 2\n\u202eof permits\t ")
    clock.advance(days=31)
    assert driver.fire_timers() == 1
    latest = unit_cycles(driver)[0]
    assert (latest.cycle_number, latest.title) == (2, "Round 2 of permits")
    assert driver.events(completed)[-1].type == "next_cycle_started"
    assert incidents_of(driver) == []


def test_a_plan_whose_title_is_nothing_fit_for_one_line_is_skipped_saying_why(
    driver, clock, completed
):
    plan_kept_before_titles_were_checked(driver, completed, "\u202e\n")
    clock.advance(days=31)
    driver.fire_timers()
    assert [c.cycle_number for c in unit_cycles(driver)] == [1]
    last = driver.events(completed)[-1]
    assert (last.type, last.data["reason"]) == (
        "next_cycle_skipped",
        "its planned title must not be empty",
    )
    assert incidents_of(driver) == []
