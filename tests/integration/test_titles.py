"""Titles are one line that reads as written: the title a cycle starts with, the title of
the next cycle its plan task names, a retitled plan and a microproject's title (which
names its owner's task) refuse control characters and the characters that turn the text
after them around, naming the character. Direction marks and joiners, which Arabic and
Persian text needs, are kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from picycle.engine.errors import ValidationFailed
from picycle.engine.services import cycles, planned_cycles

from tests.support import UNIT, microprojects

TURNING = ["Q1 \u202eevil", "Line\nbreak", "Tab\there", "\u2067isolated"]
KEPT = "تحسين\u200cالأداء \u200fQ1"  # a zero-width non-joiner and a right-to-left mark


def start(driver, title: str) -> int:
    with driver.engine.unit_of_work() as uow:
        return cycles.start_cycle(uow, driver.actor("pia"), UNIT, title).id


@pytest.mark.parametrize("title", TURNING)
def test_a_cycle_does_not_start_under_a_title_that_turns_or_breaks(driver, title):
    with pytest.raises(ValidationFailed) as refused:
        start(driver, title)
    [message] = refused.value.errors["title"]
    assert message.code == "unseen_character" and message.startswith("must not contain U+")


def test_direction_marks_and_joiners_are_kept(driver):
    assert driver.cycle(start(driver, KEPT)).title == KEPT


@pytest.mark.parametrize("title", TURNING[:2])
def test_the_next_cycles_title_is_checked_where_it_is_planned_and_changed(driver, title):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, driver.engine.clock().date())
    driver.approve(cycle_id)
    driver.implement_all(cycle_id)
    driver.evaluate(cycle_id, permits=82, backlog=55)
    driver.institutionalise(cycle_id)
    with pytest.raises(ValidationFailed) as refused:
        driver.plan_next(cycle_id, title=title)
    assert refused.value.errors["next_cycle_title"][0].code == "unseen_character"
    driver.plan_next(cycle_id)
    with driver.engine.unit_of_work() as uow, pytest.raises(ValidationFailed) as retitled:
        planned_cycles.change_planned_cycle(uow, driver.actor("pia"), cycle_id, title=title)
    assert retitled.value.errors["title"][0].code == "unseen_character"


@pytest.mark.parametrize("title", TURNING[:2])
def test_a_microproject_title_that_turns_or_breaks_is_refused_at_its_row(driver, title):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    designed = microprojects((driver.engine.clock().date() + timedelta(days=30)).isoformat())
    designed[1]["title"] = title
    with pytest.raises(ValidationFailed) as refused:
        driver.complete("dana", cycle_id, "design_microprojects", {"microprojects": designed})
    assert list(refused.value.errors) == ["microprojects.1.title"]
