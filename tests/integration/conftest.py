"""Fixtures of the command-line tests: run ``picycle`` against the test database."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from picycle.cli.main import main
from picycle.engine.actors import SYSTEM
from picycle.engine.services import cycles


@pytest.fixture
def picycle(engine, database_url):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), env={"PICYCLE_DATABASE_URL": database_url})

    return run


@pytest.fixture
def demo(picycle, database_url):
    """Runs the demo on the test's own database."""
    return lambda: picycle("demo", "--database-url", database_url)


@pytest.fixture
def started(picycle, engine) -> str:
    """The units Planning and Licensing; pia (PI Unit), ada (admin) and audrey (auditor);
    pia's cycle #1 for Planning is running. Returns the id of its open task, Assess
    performance."""
    picycle("unit", "add", "Planning")
    picycle("unit", "add", "Licensing")
    picycle("user", "add", "pia", "--group", "PI Unit")
    picycle("user", "add", "ada", "--role", "admin")
    picycle("user", "add", "audrey", "--role", "auditor")
    result = picycle("cycle", "start", "--unit", "Planning", "--title", "Permits", "--as", "pia")
    assert result.exit_code == 0, result.output
    with engine.unit_of_work(write=False) as uow:
        (task,) = cycles.get_cycle(uow, SYSTEM, 1).open_tasks
    return task.id
