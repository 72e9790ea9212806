from __future__ import annotations

import pytest

from engine.uow import Engine
from tests.support import Driver


@pytest.fixture
def driver(engine, database_url, clock) -> Driver:
    """Users in place; every ``restart()`` builds a new engine on the same database."""
    made = Driver(lambda: Engine(database_url, clock))
    made.add_people()
    yield made
    made.engine.dispose()
