"""Whether the engine can do its work: the database answers, and its schema is the one
this code was written for (``picycle init`` brings it there)."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from ..db.database import head_revision, schema_revision
from ..read_models import Readiness
from ..uow import Engine


def readiness(engine: Engine) -> Readiness:
    """Whether the database answers, and at which migration its schema is."""
    try:
        schema = schema_revision(engine.database)
    except SQLAlchemyError:
        return Readiness(False, None, head_revision())
    return Readiness(True, schema, head_revision())
