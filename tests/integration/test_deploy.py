"""Deploying bundles: validated first, versioned, idempotent, with a dry run."""

from __future__ import annotations

import shutil

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.db.models import ProcessDefinition
from picycle.engine.errors import InvalidModel, PermissionDenied
from picycle.engine.services import definitions
from sqlalchemy import func, select


@pytest.fixture
def draft(tmp_path):
    folder = tmp_path / "processes"
    shutil.copytree(shipped_processes(), folder)
    return folder


def deploy(engine, folder, dry_run=False, actor=SYSTEM):
    with engine.unit_of_work() as uow:
        result = definitions.deploy(uow, actor, read_bundle(folder), dry_run)
        return result


def versions(engine) -> int:
    with engine.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(ProcessDefinition))


def test_the_same_files_deploy_once(engine):
    assert deploy(engine, shipped_processes()).unchanged
    assert versions(engine) == 1


def test_a_broken_draft_lists_every_problem_and_deploys_nothing(engine, draft):
    bpmn = draft / "pi_cycle.bpmn"
    broken = bpmn.read_text().replace("approved == False", "${approved} === false")
    bpmn.write_text(broken.replace("assess-performance.schema.json", "missing.schema.json"))
    with pytest.raises(InvalidModel) as refused:
        deploy(engine, draft)
    messages = " ".join(p["message"] for p in refused.value.problems)
    assert "missing.schema.json" in messages
    assert "==" in messages and "${" in messages
    assert all(p["file"] == "pi_cycle.bpmn" for p in refused.value.problems)
    assert any(key.startswith("pi_cycle.bpmn:") for key in refused.value.errors)
    assert versions(engine) == 1


def test_a_dry_run_validates_without_deploying(engine, draft):
    (draft / "forms" / "decide-on-cycle.schema.json").write_text(
        (draft / "forms" / "decide-on-cycle.schema.json")
        .read_text()
        .replace('"title": "Decide on cycle"', '"title": "Decide on the cycle"')
    )
    result = deploy(engine, draft, dry_run=True)
    assert result.dry_run and result.definitions == []
    assert versions(engine) == 1
    assert [d.version for d in deploy(engine, draft).definitions] == [2]


def test_lanes_without_a_group_are_warnings(engine):
    result = deploy(engine, shipped_processes(), dry_run=True)
    groups = {w.message.split('"')[1] for w in result.warnings if "group" in w.message}
    assert {"PI Unit", "Department Team", "Leadership"} <= groups


def test_only_admins_deploy(driver, draft):
    with pytest.raises(PermissionDenied):
        deploy(driver.engine, draft, actor=driver.actor("pia"))
