"""Moving running cycles onto another version of their process definition."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from sqlalchemy import select

from ..actors import Actor, require_admin
from ..db.models import Cycle as CycleRow
from ..deployed import version_of
from ..errors import Conflict, ValidationFailed
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
        ids = _running(uow, process_id)
    return _migrate_each(engine, actor, ids, to_version, dry_run)


def migrate_chosen(
    engine: Engine, actor: Actor, process_id: str, cycle_ids: Collection[int], to_version: int
) -> list[MigrationPlan]:
    """The chosen running cycles of the process that can move do, each in its own
    transaction (one that cannot move holds none of the others back); the plans of those
    that cannot say why. A choice naming no running cycle of the process is refused at
    ``cycles`` and nothing moves."""
    with engine.unit_of_work(write=False) as uow:
        require_migrator(actor)
        version_of(uow, process_id, to_version)
        running = set(_running(uow, process_id))
    if not cycle_ids:
        message = "choose at least one cycle to move"
        raise ValidationFailed(message, {"cycles": [message]})
    strangers = sorted(set(cycle_ids) - running)
    if strangers:
        listed = ", ".join(f"#{cycle_id}" for cycle_id in strangers)
        message = f"not a running cycle of {process_id}: {listed}"
        raise ValidationFailed(message, {"cycles": [message]})
    return _migrate_each(engine, actor, sorted(set(cycle_ids)), to_version, dry_run=False)


def _running(uow: UnitOfWork, process_id: str) -> list[int]:
    return list(
        uow.session.scalars(
            select(CycleRow.id)
            .where(CycleRow.process_id == process_id, CycleRow.status == CycleStatus.RUNNING)
            .order_by(CycleRow.id)
        )
    )


def _migrate_each(
    engine: Engine, actor: Actor, ids: list[int], to_version: int | None, dry_run: bool
) -> list[MigrationPlan]:
    plans = []
    for cycle_id in ids:
        with engine.unit_of_work() as uow:
            try:
                plans.append(migrate_cycle(uow, actor, cycle_id, to_version, dry_run))
            except MigrationRefused as refused:
                plans.append(refused.plan)
    return plans
