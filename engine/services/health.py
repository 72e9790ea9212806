"""Whether the engine can do its work: the database answers, and its schema is the one
this code was written for (``picycle init`` brings it there)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..db.database import head_revision, schema_revision
from ..db.models import Cycle
from ..read_models import Readiness
from ..uow import Engine
from ..vocabulary import CycleStatus


def readiness(engine: Engine) -> Readiness:
    """Whether the database answers, and at which migration its schema is."""
    try:
        schema = schema_revision(engine.database)
    except SQLAlchemyError:
        return Readiness(False, None, head_revision())
    return Readiness(True, schema, head_revision())


def inbox_mismatches(engine: Engine) -> list[int]:
    """Running cycles whose open tasks in the inbox are not the user tasks their workflow
    waits on: there should be none, whatever crashed (each change writes both in one
    transaction). Restores every running cycle: an operator's check, after an incident."""
    with engine.unit_of_work(write=False) as uow:
        running = uow.session.scalars(
            select(Cycle.id).where(Cycle.status == CycleStatus.RUNNING).order_by(Cycle.id)
        ).all()
    mismatched = []
    for cycle_id in running:
        # A writing unit of work, though it writes nothing: it locks the cycle while
        # restoring it, which a reading one (READ ONLY on PostgreSQL) may not.
        with engine.unit_of_work() as uow:
            cycle = uow.cycles.lock(cycle_id)
            ready, _ = cycle.instance.waiting()
            if ready.keys() != cycle.open_tasks.keys():
                mismatched.append(cycle_id)
    return mismatched
