from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _every_scenario_on_each_database(driver):
    """pytest-bdd asks for step fixtures only while running; naming the driver here lets
    pytest see it at collection, so each scenario runs on SQLite and on PostgreSQL."""
    return driver
