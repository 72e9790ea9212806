"""Moving running cycles onto another version of their process definition."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ..actors import Actor, require_admin
from ..db.models import Cycle, ProcessDefinition
from ..errors import Conflict
from ..projection import save_cycle
from ..spiff.runner import CycleInstance
from ..uow import Engine, UnitOfWork
from .cycles import RUNNING, get_cycle, open_tasks
from .definitions import definition_version, form_of, spec_loader


@dataclass
class MigrationPlan:
    cycle_id: int
    from_version: int
    to_version: int
    problems: list[str] = field(default_factory=list)
    migrated: bool = False

    @property
    def possible(self) -> bool:
        return not self.problems


def migrate_cycle(
    uow: UnitOfWork, actor: Actor, cycle_id: int, to_version: int | None, dry_run: bool = False
) -> MigrationPlan:
    """Move the cycle when every element it has reached exists in the target and its open
    tasks' data fits the target's forms; otherwise Conflict listing why (or, in a dry run,
    the plan with its problems)."""
    require_admin(actor, "migrate cycles")
    cycle = get_cycle(uow, cycle_id, for_update=True)
    target = definition_version(uow, cycle.process_id, to_version)
    plan = MigrationPlan(cycle.id, cycle.definition.version, target.version)
    instance = _check(uow, cycle, target, plan)
    if dry_run or not plan.possible:
        if not plan.possible and not dry_run:
            raise Conflict(
                f"cycle #{cycle.id} cannot move to version {target.version}: "
                + "; ".join(plan.problems)
            )
        return plan
    cycle.definition = target
    uow.record(
        actor.name,
        "cycle_migrated",
        cycle_id=cycle.id,
        process_id=cycle.process_id,
        from_version=plan.from_version,
        to_version=plan.to_version,
    )
    save_cycle(uow, cycle, instance, actor.name, refresh_open=True)
    plan.migrated = True
    return plan


def _check(
    uow: UnitOfWork, cycle: Cycle, target: ProcessDefinition, plan: MigrationPlan
) -> CycleInstance | None:
    if cycle.status != RUNNING:
        plan.problems.append(f"the cycle is {cycle.status}")
        return None
    if target.id == cycle.definition_id:
        plan.problems.append(f"the cycle already runs on version {target.version}")
        return None
    loader = spec_loader(uow, target.id)
    missing = uow.runner.missing_elements(target.id, loader, cycle.state)
    if missing:
        plan.problems.append(
            f"version {target.version} lacks elements the cycle has reached: {', '.join(missing)}"
        )
        return None
    instance = uow.runner.restore(target.id, loader, cycle.state)
    ready = {task.id: task for task in instance.ready_human_tasks()}
    for row in open_tasks(uow, cycle.id):
        task = ready.get(row.id)
        if task is None:
            plan.problems.append(f"open task '{row.title}' is not a user task in the target")
            continue
        if task.form_file:
            form = form_of(uow, target.deployment_id, task.form_file)
            for path, messages in form.violations(form.starting_data(task.data)).items():
                plan.problems.append(
                    f"the data of open task '{row.title}' breaks the target's form at {path}: "
                    + "; ".join(messages)
                )
    return instance


def migrate_all(
    engine: Engine, actor: Actor, process_id: str, to_version: int | None, dry_run: bool = False
) -> list[MigrationPlan]:
    """Every running cycle of the process that can move does, each in its own transaction;
    the plans of those that cannot say why."""
    with engine.unit_of_work(write=False) as uow:
        require_admin(actor, "migrate cycles")
        ids = list(
            uow.session.scalars(
                select(Cycle.id)
                .where(Cycle.process_id == process_id, Cycle.status == RUNNING)
                .order_by(Cycle.id)
            )
        )
    plans = []
    for cycle_id in ids:
        with engine.unit_of_work() as uow:
            plan = migrate_cycle(uow, actor, cycle_id, to_version, dry_run=True)
            if plan.possible and not dry_run:
                plan = migrate_cycle(uow, actor, cycle_id, to_version)
                uow.commit()
            plans.append(plan)
    return plans
