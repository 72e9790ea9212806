"""The texts of the process versions cycles run, in a reader's language: task names, form
titles, descriptions and labels, from the catalogs deployed with each version."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from ..db.models import Cycle, ProcessDefinition
from ..read_models import ProcessTexts
from ..uow import UnitOfWork


def cycle_texts(
    uow: UnitOfWork, cycle_ids: Iterable[int], language: str
) -> dict[int, ProcessTexts]:
    """Each cycle's process texts in ``language``: those of the version it runs. Texts are
    the model's, not the cycle's: whoever asks already reads the cycles."""
    wanted = sorted(set(cycle_ids))
    if not wanted:
        return {}
    rows = uow.session.execute(
        select(Cycle.id, ProcessDefinition.deployment_id)
        .join(ProcessDefinition, ProcessDefinition.id == Cycle.definition_id)
        .where(Cycle.id.in_(wanted))
    ).all()
    models = uow.cycles.models
    by_deployment = {
        deployment: models.process_texts(deployment, language)
        for deployment in {row.deployment_id for row in rows}
    }
    return {row.id: by_deployment[row.deployment_id] for row in rows}
