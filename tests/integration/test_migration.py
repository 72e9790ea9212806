"""Moving running cycles onto a new version of the PI cycle."""

from __future__ import annotations

import json
import shutil

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.errors import Conflict, PermissionDenied
from picycle.engine.services import definitions, migration


@pytest.fixture
def draft(tmp_path):
    """A copy of the shipped processes that a test edits into version 2."""
    folder = tmp_path / "processes"
    shutil.copytree(shipped_processes(), folder)
    return folder


def deploy(driver, folder) -> int:
    with driver.engine.unit_of_work() as uow:
        (definition,) = definitions.deploy(uow, SYSTEM, read_bundle(folder)).definitions
        return definition.version


def edit_form(folder, name, change) -> None:
    path = folder / "forms" / name
    schema = json.loads(path.read_text())
    change(schema)
    path.write_text(json.dumps(schema, indent=2))


def migrate(driver, cycle_id, to_version, dry_run=False, by="ada"):
    with driver.engine.unit_of_work() as uow:
        plan = migration.migrate_cycle(uow, driver.actor(by), cycle_id, to_version, dry_run)
        return plan


def test_a_running_cycle_moves_to_a_changed_form(driver, draft):
    cycle_id = driver.start()
    edit_form(
        draft,
        "assess-performance.schema.json",
        lambda s: s.update(title="Assess performance (revised)"),
    )
    assert deploy(driver, draft) == 2
    dry = migrate(driver, cycle_id, 2, dry_run=True)
    assert dry.possible and not dry.migrated
    assert driver.cycle(cycle_id).version == 1

    plan = migrate(driver, cycle_id, 2)
    assert (plan.migrated, plan.from_version, plan.to_version) == (True, 1, 2)
    assert driver.cycle(cycle_id).version == 2
    moved = [e for e in driver.events(cycle_id) if e.type == "cycle_migrated"]
    assert [(e.actor, e.data["from_version"], e.data["to_version"]) for e in moved] == [
        ("ada", 1, 2)
    ]
    driver.restart()
    driver.assess(cycle_id)
    assert driver.task(cycle_id, "identify_gaps").state == "open"


def test_a_cycle_waiting_at_a_removed_step_stays_where_it_is(driver, draft):
    cycle_id = driver.start()
    bpmn = draft / "pi_cycle.bpmn"
    renamed = bpmn.read_text().replace("assess_performance", "assess_indicators")
    # The step's rules keep their name: only the element is renamed.
    bpmn.write_text(renamed.replace('value="assess_indicators"', 'value="assess_performance"'))
    deploy(driver, draft)
    with pytest.raises(Conflict, match="'assess_performance'"):
        migrate(driver, cycle_id, 2)
    assert driver.cycle(cycle_id).version == 1
    assert not [e for e in driver.events(cycle_id) if e.type == "cycle_migrated"]


def test_data_that_breaks_the_new_form_blocks_the_move(driver, draft, clock):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    edit_form(
        draft,
        "identify-gaps.schema.json",
        lambda s: s["properties"]["gaps"]["items"]["properties"]["gap"].update(maximum=5),
    )
    deploy(driver, draft)
    plan = migrate(driver, cycle_id, 2, dry_run=True)
    assert not plan.possible
    assert "breaks the target's form at gaps.0.gap" in plan.problems[0]


def test_bulk_migration_moves_what_it_can_and_reports_the_rest(driver, draft, clock):
    waiting_at_assessment = driver.start()
    at_gap_analysis = driver.start(unit="Directorate of Finance")
    driver.assess(at_gap_analysis)
    edit_form(
        draft,
        "identify-gaps.schema.json",
        lambda s: s["properties"]["gaps"]["items"]["properties"]["gap"].update(maximum=5),
    )
    deploy(driver, draft)
    plans = migration.migrate_all(driver.engine, driver.actor("ada"), "pi_cycle", None)
    outcome = {p.cycle_id: p.migrated for p in plans}
    assert outcome == {waiting_at_assessment: True, at_gap_analysis: False}
    with pytest.raises(PermissionDenied):
        migration.migrate_all(driver.engine, driver.actor("pia"), "pi_cycle", None)
