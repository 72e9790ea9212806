"""Whether the engine can do its work: the database answers."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..uow import Engine


def database_answers(engine: Engine) -> bool:
    try:
        with engine.unit_of_work(write=False) as uow:
            uow.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True
