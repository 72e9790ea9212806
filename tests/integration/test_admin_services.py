"""The services behind the admin pages: finding users a page at a time, a user's tokens
(listed, revoked one at a time), adding and ending one membership, moving chosen cycles,
and a version's diagram."""

from __future__ import annotations

from pathlib import Path

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle
from picycle.engine.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from picycle.engine.services import definitions, migration, units, users

PREVIOUS_MODEL = Path(__file__).parents[1] / "data" / "pi_cycle_v1"


def test_users_are_found_by_part_of_their_name_a_page_at_a_time(driver):
    with driver.engine.unit_of_work(write=False) as uow:
        found = users.find_users(uow, SYSTEM, "D", limit=2, offset=1)
        assert ([u.name for u in found.items], found.total) == (["audrey", "dana"], 3)
        assert users.find_users(uow, SYSTEM, "_").total == 0  # no wildcard
        assert users.find_users(uow, driver.actor("audrey")).total == 6
        with pytest.raises(PermissionDenied):
            users.find_users(uow, driver.actor("pia"))


def test_a_users_tokens_are_listed_newest_first_without_their_secret(driver):
    with driver.engine.unit_of_work() as uow:
        issued = users.issue_token(uow, SYSTEM, "dana")
    with driver.engine.unit_of_work() as uow:
        users.revoke_tokens(uow, SYSTEM, "dana")
    with driver.engine.unit_of_work(write=False) as uow:
        tokens = users.list_tokens(uow, SYSTEM, "dana")
        assert len(tokens) == 2 and tokens[0].id > tokens[1].id
        assert all(t.revoked_at is not None for t in tokens)
        assert issued.token not in repr(tokens)
        assert len(users.list_tokens(uow, driver.actor("dana"), "dana")) == 2
        with pytest.raises(PermissionDenied):
            users.list_tokens(uow, driver.actor("pia"), "dana")


def test_one_token_is_revoked_and_the_users_others_keep_working(driver):
    with driver.engine.unit_of_work() as uow:
        kept = users.issue_token(uow, driver.actor("dana"), "dana")
    with driver.engine.unit_of_work(write=False) as uow:
        new, leaked = users.list_tokens(uow, SYSTEM, "dana")
    with driver.engine.unit_of_work() as uow:
        revoked = users.revoke_token(uow, driver.actor("dana"), "dana", leaked.id)
    assert (revoked.id, revoked.created_at) == (leaked.id, leaked.created_at)
    assert revoked.revoked_at is not None
    with driver.engine.unit_of_work(write=False) as uow:
        assert [t.revoked_at is None for t in users.list_tokens(uow, SYSTEM, "dana")] == [
            True,
            False,
        ]
        assert users.authenticate(uow, kept.token).name == "dana"
    issued, revocation = [e for e in driver.events() if e.type.startswith("token_")][-2:]
    assert (issued.type, issued.actor, issued.data) == (
        "token_issued",
        "dana",
        {"user": "dana", "token": new.id},
    )
    assert (revocation.type, revocation.actor, revocation.data) == (
        "token_revoked",
        "dana",
        {"user": "dana", "token": leaked.id},
    )


def test_a_token_is_revoked_once_and_only_through_its_user(driver):
    with driver.engine.unit_of_work(write=False) as uow:
        (danas,) = users.list_tokens(uow, SYSTEM, "dana")
        (pias,) = users.list_tokens(uow, SYSTEM, "pia")
    with driver.engine.unit_of_work() as uow:
        users.revoke_token(uow, SYSTEM, "dana", danas.id)
    events = len(driver.events())
    with driver.engine.unit_of_work() as uow:
        with pytest.raises(Conflict, match="revoked already"):
            users.revoke_token(uow, SYSTEM, "dana", danas.id)
        # Another user's token is not there, admin or not: nothing says it exists.
        with pytest.raises(NotFound) as missing:
            users.revoke_token(uow, SYSTEM, "dana", pias.id)
        assert str(missing.value) == f"dana has no token #{pias.id}"
        with pytest.raises(PermissionDenied):
            users.revoke_token(uow, driver.actor("dana"), "pia", pias.id)
        with pytest.raises(PermissionDenied):
            users.revoke_token(uow, driver.actor("audrey"), "pia", pias.id)
        with pytest.raises(NotFound):
            users.revoke_token(uow, SYSTEM, "nobody", pias.id)
    assert len(driver.events()) == events
    with driver.engine.unit_of_work(write=False) as uow:
        assert users.list_tokens(uow, SYSTEM, "pia")[0].revoked_at is None


def test_one_membership_is_added_and_ended_keeping_the_others(driver):
    with driver.engine.unit_of_work(write=False) as uow:
        roads = units.find_unit(uow, "Roads").id
    with driver.engine.unit_of_work() as uow:
        users.add_membership(uow, driver.actor("ada"), "dana", "Leadership", roads)
    with driver.engine.unit_of_work() as uow:
        held = users.remove_membership(uow, driver.actor("ada"), "dana", "Department Team", None)
    assert [(m.group, m.unit_id) for m in held.memberships] == [("Leadership", roads)]
    changes = [e for e in driver.events() if e.type == "user_changed"]
    assert [e.actor for e in changes[-2:]] == ["ada", "ada"]
    with driver.engine.unit_of_work() as uow:
        with pytest.raises(NotFound):
            users.remove_membership(uow, SYSTEM, "dana", "Department Team", None)
        with pytest.raises(PermissionDenied):
            users.add_membership(uow, driver.actor("pia"), "nobody", "Leadership", None)


def test_only_the_chosen_running_cycles_move(driver):
    with driver.engine.unit_of_work() as uow:
        definitions.deploy(uow, SYSTEM, read_bundle(PREVIOUS_MODEL))
    chosen, left = driver.start(), driver.start(unit="Roads")
    ada = driver.actor("ada")
    (plan,) = migration.migrate_chosen(driver.engine, ada, "pi_cycle", [chosen], 1)
    assert plan.migrated and plan.cycle_id == chosen
    assert (driver.cycle(chosen).version, driver.cycle(left).version) == (1, 2)
    for wrong in ([], [left, 999]):
        with pytest.raises(ValidationFailed) as refused:
            migration.migrate_chosen(driver.engine, ada, "pi_cycle", wrong, 1)
        assert list(refused.value.errors) == ["cycles"]
    assert driver.cycle(left).version == 2
    with pytest.raises(PermissionDenied):
        migration.migrate_chosen(driver.engine, driver.actor("pia"), "pi_cycle", [left], 1)


def test_a_versions_diagram_is_the_bpmn_file_that_defines_it(driver):
    with driver.engine.unit_of_work(write=False) as uow:
        diagram = definitions.version_diagram(uow, "pi_cycle", 1)
        assert (diagram.file, diagram.version) == ("pi_cycle.bpmn", 1)
        assert 'id="pi_cycle"' in diagram.xml
        with pytest.raises(NotFound):
            definitions.version_diagram(uow, "pi_cycle", 2)
