"""Moving running cycles onto another version of their process definition."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from ..actors import Actor, require_admin
from ..db.models import Cycle as CycleRow
from ..deployed import version_of
from ..errors import Conflict
from ..read_models import MigrationPlan
from ..uow import Engine, UnitOfWork
from ..vocabulary import CycleStatus


def require_migrator(actor: Actor) -> None:
    """PermissionDenied unless ``actor`` may migrate cycles (an admin): lets an interface
    refuse before it looks anything up. The migrations check it again."""
    require_admin(actor, "migrate cycles")


def migrate_cycle(
    uow: UnitOfWork, actor: Actor, cycle_id: int, to_version: int | None, dry_run: bool = False
) -> MigrationPlan:
    """Move the cycle when every element it has reached exists in the target and its open
    tasks' data fits the target's forms; otherwise Conflict listing why (or, in a dry run,
    the plan with its problems)."""
    require_migrator(actor)
    cycle = uow.cycles.lock(cycle_id)
    target = version_of(uow, cycle.record.definition.process_id, to_version)
    problems, moved = cycle.migration_problems(target)
    plan = MigrationPlan(cycle.id, cycle.record.definition.version, target.version, problems)
    if dry_run:
        return plan
    if problems:
        raise MigrationRefused(plan)
    cycle.migrate(actor, target, moved)
    uow.commit()
    return replace(plan, migrated=True)


class MigrationRefused(Conflict):
    """The cycle cannot move; ``plan.problems`` says why."""

    def __init__(self, plan: MigrationPlan):
        super().__init__(
            f"cycle #{plan.cycle_id} cannot move to version {plan.to_version}: "
            + "; ".join(plan.problems)
        )
        self.plan = plan


def migrate_all(
    engine: Engine, actor: Actor, process_id: str, to_version: int | None, dry_run: bool = False
) -> list[MigrationPlan]:
    """Every running cycle of the process that can move does, each in its own transaction;
    the plans of those that cannot say why."""
    with engine.unit_of_work(write=False) as uow:
        require_migrator(actor)
        version_of(uow, process_id, to_version)  # NotFound for an unknown process or version
        ids = list(
            uow.session.scalars(
                select(CycleRow.id)
                .where(CycleRow.process_id == process_id, CycleRow.status == CycleStatus.RUNNING)
                .order_by(CycleRow.id)
            )
        )
    plans = []
    for cycle_id in ids:
        with engine.unit_of_work() as uow:
            try:
                plans.append(migrate_cycle(uow, actor, cycle_id, to_version, dry_run))
            except MigrationRefused as refused:
                plans.append(refused.plan)
    return plans
