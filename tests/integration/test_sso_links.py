"""Linking a user who existed before single sign-on to their identity at the provider, and
unlinking them: admins only, never an identity that is another user's, every change on
the audit trail; the next sign-in through the provider is then theirs."""

from __future__ import annotations

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from picycle.engine.services import single_sign_on, sso_links, users
from picycle.engine.services.single_sign_on import ClaimMapping, Identity, SingleSignOnRefused

ISSUER = "https://id.ministry.example/realms/staff"


def _identity(subject: str, name: str) -> Identity:
    return Identity(ISSUER, subject, name, frozenset())


def _events(driver, kind: str) -> list[dict]:
    return [{"actor": e.actor, **e.data} for e in driver.events() if e.type == kind]


def _sign_in(driver, subject: str, name: str):
    return single_sign_on.sign_in(
        driver.engine, _identity(subject, name), ClaimMapping({}), "192.0.2.1"
    )


def test_a_user_linked_by_an_admin_signs_in_through_the_provider_as_themself(driver):
    with pytest.raises(SingleSignOnRefused) as refused:
        _sign_in(driver, "pia-at-idp", "pia")
    assert refused.value.reason == "name_taken"
    failed = _events(driver, "sign_in_failed")[-1]
    assert (failed["issuer"], failed["subject"]) == (ISSUER, "pia-at-idp")
    with driver.engine.unit_of_work() as uow:
        linked = sso_links.link(uow, driver.actor("ada"), "PIA", ISSUER, "pia-at-idp")
    assert (linked.user, linked.issuer, linked.subject) == ("pia", ISSUER, "pia-at-idp")
    assert _sign_in(driver, "pia-at-idp", "whatever-name-the-provider-gives").name == "pia"
    assert _events(driver, "user_linked") == [
        {"actor": "ada", "user": "pia", "issuer": ISSUER, "subject": "pia-at-idp"}
    ]
    with driver.engine.unit_of_work(write=False) as uow:
        assert sso_links.read_link(uow, driver.actor("audrey"), "pia") == linked
        assert sso_links.find_link(uow, SYSTEM, "dana") is None


def test_linking_again_to_the_same_identity_changes_nothing(driver):
    with driver.engine.unit_of_work() as uow:
        first = sso_links.link(uow, SYSTEM, "pia", ISSUER, "pia-at-idp")
    with driver.engine.unit_of_work() as uow:
        assert sso_links.link(uow, SYSTEM, "pia", ISSUER, "pia-at-idp") == first
    assert len(_events(driver, "user_linked")) == 1


def test_an_identity_linked_to_another_user_is_refused(driver):
    _sign_in(driver, "sami-at-idp", "sami")  # provisioned, linked
    with driver.engine.unit_of_work() as uow, pytest.raises(Conflict) as refused:
        sso_links.link(uow, SYSTEM, "pia", ISSUER, "sami-at-idp")
    assert str(refused.value) == (
        f"the identity sami-at-idp at {ISSUER} is already linked to sami; unlink sami first"
    )
    assert _sign_in(driver, "sami-at-idp", "sami").name == "sami"


def test_an_identity_linked_elsewhere_meanwhile_is_a_conflict_not_a_database_error(
    driver, monkeypatch
):
    with driver.engine.unit_of_work() as uow:
        sso_links.link(uow, SYSTEM, "dana", ISSUER, "shared")
    # As if another transaction linked it between the look-up and the insert.
    monkeypatch.setattr(sso_links, "linked_user", lambda uow, issuer, subject: None)
    with driver.engine.unit_of_work() as uow, pytest.raises(Conflict) as refused:
        sso_links.link(uow, SYSTEM, "pia", ISSUER, "shared")
    assert "was linked to another user at the same moment" in str(refused.value)
    with driver.engine.unit_of_work(write=False) as uow:
        assert sso_links.find_link(uow, SYSTEM, "pia") is None


def test_a_user_linked_to_another_identity_is_unlinked_first(driver):
    with driver.engine.unit_of_work() as uow:
        sso_links.link(uow, SYSTEM, "pia", ISSUER, "pia-at-idp")
    with driver.engine.unit_of_work() as uow, pytest.raises(Conflict) as refused:
        sso_links.link(uow, SYSTEM, "pia", ISSUER, "someone-else")
    assert "pia is already linked to pia-at-idp" in str(refused.value)
    with driver.engine.unit_of_work() as uow:
        sso_links.unlink(uow, SYSTEM, "pia")
        sso_links.link(uow, SYSTEM, "pia", ISSUER, "someone-else")
    with driver.engine.unit_of_work(write=False) as uow:
        assert sso_links.read_link(uow, SYSTEM, "pia").subject == "someone-else"


@pytest.mark.parametrize("who", ["pia", "audrey"])
def test_only_admins_link_and_unlink(driver, who):
    with driver.engine.unit_of_work() as uow:
        sso_links.link(uow, SYSTEM, "dana", ISSUER, "dana-at-idp")
    with driver.engine.unit_of_work() as uow:
        with pytest.raises(PermissionDenied):
            sso_links.link(uow, driver.actor(who), who, ISSUER, "mallory")
        with pytest.raises(PermissionDenied):
            sso_links.unlink(uow, driver.actor(who), "dana")
    with driver.engine.unit_of_work(write=False) as uow:
        with pytest.raises(PermissionDenied):
            sso_links.read_link(uow, driver.actor("pia"), "dana")
        assert sso_links.read_link(uow, SYSTEM, "dana").subject == "dana-at-idp"
    assert len(_events(driver, "user_linked")) == 1


def test_unlinking_is_audited_and_ends_the_users_sign_ins(driver):
    with driver.engine.unit_of_work() as uow:
        sso_links.link(uow, SYSTEM, "pia", ISSUER, "pia-at-idp")
    with driver.engine.unit_of_work(write=False) as uow:
        version = users.get_user(uow, "pia").session_version
    with driver.engine.unit_of_work() as uow:
        removed = sso_links.unlink(uow, driver.actor("ada"), "pia")
    assert removed.subject == "pia-at-idp"
    assert _events(driver, "user_unlinked") == [
        {"actor": "ada", "user": "pia", "issuer": ISSUER, "subject": "pia-at-idp"}
    ]
    with driver.engine.unit_of_work(write=False) as uow:
        assert users.get_user(uow, "pia").session_version == version + 1
        assert sso_links.find_link(uow, SYSTEM, "pia") is None
    with pytest.raises(SingleSignOnRefused):
        _sign_in(driver, "pia-at-idp", "pia")  # the name is pia's, no longer linked
    with driver.engine.unit_of_work() as uow, pytest.raises(NotFound):
        sso_links.unlink(uow, SYSTEM, "pia")


@pytest.mark.parametrize(
    ("issuer", "subject", "field"),
    [
        ("", "sub", "issuer"),
        ("id.ministry.example", "sub", "issuer"),
        ("javascript:alert(1)", "sub", "issuer"),
        (ISSUER, "", "subject"),
        (ISSUER, "s" * 256, "subject"),
        (ISSUER, "nul\x00", "subject"),
        (ISSUER, "sub ", "subject"),
        (ISSUER, "sub\n", "subject"),
        ("https://id.ministry.example/\n", "sub", "issuer"),
    ],
)
def test_an_issuer_or_subject_that_cannot_be_one_is_refused(driver, issuer, subject, field):
    with driver.engine.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        sso_links.link(uow, SYSTEM, "pia", issuer, subject)
    assert field in refused.value.errors


def test_linking_a_user_who_does_not_exist_is_not_found(driver):
    with driver.engine.unit_of_work() as uow, pytest.raises(NotFound):
        sso_links.link(uow, SYSTEM, "ghost", ISSUER, "ghost-at-idp")
