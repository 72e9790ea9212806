"""Model scripts run sandboxed; concurrent completions of one task never both succeed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle
from picycle.engine.errors import Conflict, ModelError
from picycle.engine.services import cycles, definitions

from tests.support import INDICATORS

HOSTILE = Path(__file__).parent.parent / "data" / "hostile_script"


def test_a_script_that_reaches_for_files_fails_and_leaves_the_cycle_intact(driver):
    with driver.engine.unit_of_work() as uow:
        definitions.deploy(uow, SYSTEM, read_bundle(HOSTILE))
        uow.commit()
    with driver.engine.unit_of_work() as uow:
        cycle_id = cycles.start_cycle(uow, driver.actor("pia"), "Audit", "t", "hostile").id
        uow.commit()
    state_before = driver.cycle(cycle_id).state
    events_before = len(driver.events())
    with pytest.raises(ModelError, match="'open' is not available"):
        driver.complete("pia", cycle_id, "note", {"note": "hello"})
    assert driver.cycle(cycle_id).state == state_before
    assert driver.task(cycle_id, "note").state == "open"
    assert len(driver.events()) == events_before


def test_two_people_completing_one_task_at_once_one_wins(driver):
    cycle_id = driver.start()
    task_id = driver.task(cycle_id, "assess_performance").id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def complete() -> None:
        barrier.wait()
        try:
            driver.complete_task("pia", task_id, {"indicators": INDICATORS})
            outcomes.append("completed")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=complete) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["completed", "conflict"]
    completions = [e for e in driver.events(cycle_id) if e.type == "task_completed"]
    assert len(completions) == 1
    assert len(driver.open_tasks(cycle_id, "identify_gaps")) == 1
