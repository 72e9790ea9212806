"""Accounts on both databases: user names nobody can confuse, and deactivation that ends
a user's tokens for good."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.migration import MigrationContext
from picycle.engine.actors import SYSTEM
from picycle.engine.db.database import alembic_config, open_database
from picycle.engine.errors import Conflict, NotFound, ValidationFailed
from picycle.engine.services import users
from sqlalchemy.exc import IntegrityError

from tests.support import Driver

USERS = sa.table(
    "users", *(sa.column(n) for n in ("name", "role", "active")), sa.column("created_at")
)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def table(driver: Driver, sql: str) -> list[tuple]:
    with driver.engine.database.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(sql))]


def snapshot(driver: Driver) -> tuple:
    """The users and how many events the trail holds."""
    return table(driver, "SELECT name FROM users ORDER BY name"), len(driver.events())


def add(driver: Driver, name: str, role: str = "member") -> str:
    with driver.engine.unit_of_work() as uow:
        return users.add_user(uow, SYSTEM, name, role, ["PI Unit"]).token


# --- names -------------------------------------------------------------------------------

HOSTILE = {
    "system": "the name picycle itself acts under",
    "p\u0456a": "look-alike of pia, with a Cyrillic і",
    "\u0430da": "look-alike of ada, with a Cyrillic а",
    " nora": "a leading space",
    "nora ": "a trailing space",
    "no\x1bra": "a control character",
    "a/b": "a slash: unreachable at /users/{name}",
    "nora\nada": "a newline",
}


@pytest.mark.parametrize("name", HOSTILE, ids=HOSTILE.values())
def test_a_hostile_name_is_refused_and_nothing_is_created(driver, name):
    before = snapshot(driver)
    with pytest.raises(ValidationFailed) as refused:
        add(driver, name)
    assert list(refused.value.errors) == ["name"]
    assert snapshot(driver) == before


def test_names_are_unique_whatever_their_case(driver):
    before = snapshot(driver)
    for taken in ["PIA", "Pia", "ＰＩＡ"]:
        with pytest.raises(Conflict, match="there is already a user called pia"):
            add(driver, taken)
    assert snapshot(driver) == before


def test_a_name_is_stored_lower_case_and_found_however_it_is_written(driver):
    add(driver, "Nora")
    assert table(driver, "SELECT name FROM users WHERE name LIKE '%ora'") == [("nora",)]
    with driver.engine.unit_of_work(write=False) as uow:
        assert users.actor_named(uow, "NORA").name == "nora"
        assert users.read_user(uow, SYSTEM, "Ｎｏｒａ").name == "nora"
        assert users.read_user(uow, users.actor_named(uow, "nora"), "Nora").name == "nora"


def test_the_database_refuses_names_that_differ_only_in_case(driver):
    """Whatever writes to the table, the service or not."""
    with pytest.raises(IntegrityError), driver.engine.database.begin() as connection:
        connection.execute(
            sa.insert(USERS).values(name="PIA", role="member", active=True, created_at=T0)
        )


def test_nobody_can_act_as_the_system_actor(driver):
    with (
        driver.engine.unit_of_work(write=False) as uow,
        pytest.raises(NotFound, match="there is no user called system"),
    ):
        users.actor_named(uow, "SYSTEM")


# --- tokens ------------------------------------------------------------------------------


def authenticates(driver: Driver, token: str) -> bool:
    with driver.engine.unit_of_work(write=False) as uow:
        return users.authenticate(uow, token) is not None


def set_active(driver: Driver, name: str, active: bool) -> None:
    with driver.engine.unit_of_work() as uow:
        users.update_user(uow, SYSTEM, name, active=active)


def test_reactivating_a_user_does_not_bring_their_old_tokens_back(driver):
    token = add(driver, "nora")
    assert authenticates(driver, token)
    set_active(driver, "nora", False)
    assert not authenticates(driver, token)
    set_active(driver, "nora", True)
    assert not authenticates(driver, token)
    revoked = [e for e in driver.events() if e.type == "token_revoked"]
    assert [(e.actor, e.data) for e in revoked] == [("system", {"user": "nora", "count": 1})]
    with driver.engine.unit_of_work() as uow:
        fresh = users.issue_token(uow, SYSTEM, "nora").token
    assert authenticates(driver, fresh)


def test_a_token_left_by_an_earlier_deactivation_is_revoked_on_reactivation(driver):
    """Users deactivated before deactivation revoked tokens still hold unrevoked ones."""
    token = add(driver, "nora")
    with driver.engine.database.begin() as connection:
        connection.execute(sa.update(USERS).where(USERS.c.name == "nora").values(active=False))
    set_active(driver, "nora", True)
    assert not authenticates(driver, token)


# --- migration 0009 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "named"),
    [
        (["pia", "Pia"], "'Pia'"),
        (["system"], "'system'"),
        (["a/b", "pia "], "'pia '"),
    ],
    ids=["case duplicate", "reserved", "outside the set"],
)
def test_migration_0009_refuses_names_it_would_have_to_change(blank_database_url, names, named):
    database = open_database(blank_database_url)
    config = alembic_config(database)
    try:
        command.upgrade(config, "0008")
        rows = [dict(name=n, role="member", active=True, created_at=T0) for n in names]
        with database.begin() as connection:
            connection.execute(sa.insert(USERS), rows)
        with pytest.raises(Conflict) as refused:
            command.upgrade(config, "head")
        assert named in str(refused.value)
        assert "Nothing was changed" in str(refused.value)
        with database.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == "0008"
            kept = connection.scalars(sa.text("SELECT name FROM users ORDER BY id")).all()
        assert kept == names
    finally:
        database.dispose()


def test_migration_0009_keeps_names_that_follow_the_rule(blank_database_url):
    database = open_database(blank_database_url)
    config = alembic_config(database)
    try:
        command.upgrade(config, "0008")
        with database.begin() as connection:
            connection.execute(
                sa.insert(USERS),
                [dict(name=n, role="member", active=True, created_at=T0) for n in ["pia", "o.b"]],
            )
        command.upgrade(config, "head")
        with pytest.raises(IntegrityError), database.begin() as connection:
            connection.execute(
                sa.insert(USERS).values(name="O.B", role="member", active=True, created_at=T0)
            )
    finally:
        database.dispose()
