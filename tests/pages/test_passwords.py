"""Passwords and signing in, at the engine's services: argon2id hashes, who may set one,
failed attempts limited per user name and per address across engines, all audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from picycle.engine import passwords
from picycle.engine.actors import SYSTEM
from picycle.engine.db.models import AuditEvent, User
from picycle.engine.errors import PermissionDenied, SignInRefused, ValidationFailed
from picycle.engine.services import sign_in, users
from picycle.engine.services.sign_in import SignInLimits
from picycle.engine.uow import UnitOfWork
from sqlalchemy import select

from tests.pages.conftest import Browser

PASSWORD = "correct horse battery"
LIMITS = SignInLimits(per_user=3, per_address=5, window=timedelta(minutes=15))


def set_password(driver, by: str, name: str, password: str = PASSWORD):
    actor = SYSTEM if by == "system" else driver.actor(by)
    with driver.engine.unit_of_work() as uow:
        return users.set_password(uow, actor, name, password)


def attempt(driver, name: str, password: str, address: str = "192.0.2.1"):
    return sign_in.sign_in(driver.engine, name, password, address, LIMITS)


def events(driver, type: str) -> list[dict]:
    with driver.engine.unit_of_work(write=False) as uow:
        rows = uow.session.scalars(select(AuditEvent).where(AuditEvent.type == type))
        return [{"actor": row.actor, **row.data} for row in rows]


def test_the_password_is_kept_as_an_argon2id_hash_and_signs_in(driver):
    set_password(driver, "system", "pia")
    with driver.engine.unit_of_work(write=False) as uow:
        stored = uow.session.scalar(select(User.password_hash).where(User.name == "pia"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    signed = attempt(driver, "Pia", PASSWORD)
    assert signed.name == "pia"
    assert events(driver, "password_set") == [{"actor": "system", "user": "pia"}]
    assert events(driver, "signed_in") == [{"actor": "pia", "user": "pia", "address": "192.0.2.1"}]


def test_users_set_their_own_password_and_only_admins_set_others(driver):
    set_password(driver, "dana", "dana")
    set_password(driver, "ada", "omar")
    with pytest.raises(PermissionDenied):
        set_password(driver, "dana", "omar")


@pytest.mark.parametrize("password", ["", "   ", "short", "x" * 11, "a" * 1025])
def test_weak_passwords_are_refused(driver, password):
    with pytest.raises(ValidationFailed) as refused:
        set_password(driver, "system", "pia", password)
    assert "password" in refused.value.errors


def test_a_wrong_password_an_unknown_user_and_no_password_are_refused_alike(driver):
    set_password(driver, "system", "pia")
    messages = set()
    for name, password in [("pia", "wrong password!"), ("nobody", PASSWORD), ("dana", PASSWORD)]:
        with pytest.raises(SignInRefused) as refused:
            attempt(driver, name, password)
        assert not refused.value.too_many
        messages.add(str(refused.value))
    assert len(messages) == 1
    failed = events(driver, "sign_in_failed")
    assert [(e["actor"], e["user"]) for e in failed] == [
        ("system", "pia"),
        ("system", "nobody"),
        ("system", "dana"),
    ]


def test_a_deactivated_user_cannot_sign_in(driver):
    set_password(driver, "system", "pia")
    with driver.engine.unit_of_work() as uow:
        users.update_user(uow, SYSTEM, "pia", active=False)
    with pytest.raises(SignInRefused):
        attempt(driver, "pia", PASSWORD)


def test_failures_per_user_name_are_limited_across_engines_and_the_window_slides(driver, clock):
    set_password(driver, "system", "pia")
    for _ in range(LIMITS.per_user):
        with pytest.raises(SignInRefused):
            attempt(driver, "pia", "wrong password!", address=f"192.0.2.{_}")
        driver.restart()  # another process: the count is in the database
    with pytest.raises(SignInRefused) as refused:
        attempt(driver, "pia", PASSWORD, address="198.51.100.7")
    assert refused.value.too_many
    assert events(driver, "sign_in_failed")[-1]["reason"] == "too many failed attempts"
    clock.advance(seconds=LIMITS.window.total_seconds() + 1)
    assert attempt(driver, "pia", PASSWORD).name == "pia"


def test_failures_per_address_are_limited_whatever_the_names(driver):
    set_password(driver, "system", "pia")
    for number in range(LIMITS.per_address):
        with pytest.raises(SignInRefused):
            attempt(driver, f"guess{number}", "wrong password!")
    with pytest.raises(SignInRefused) as refused:
        attempt(driver, "pia", PASSWORD)
    assert refused.value.too_many
    assert attempt(driver, "pia", PASSWORD, address="198.51.100.7").name == "pia"


def test_a_success_clears_the_names_count(driver):
    set_password(driver, "system", "pia")
    for _ in range(LIMITS.per_user - 1):
        with pytest.raises(SignInRefused):
            attempt(driver, "pia", "wrong password!")
    attempt(driver, "pia", PASSWORD)
    with pytest.raises(SignInRefused) as refused:
        attempt(driver, "pia", "wrong password!")
    assert not refused.value.too_many


def test_the_session_ends_when_the_password_changes_or_the_user_is_deactivated(driver):
    set_password(driver, "system", "pia")
    signed = attempt(driver, "pia", PASSWORD)

    def session_actor(version: int):
        with driver.engine.unit_of_work(write=False) as uow:
            return users.in_session(uow, "pia", version)

    assert session_actor(signed.session_version).actor.groups == {"PI Unit"}
    set_password(driver, "pia", "pia", "another long password")
    assert session_actor(signed.session_version) is None
    again = attempt(driver, "pia", "another long password")
    with driver.engine.unit_of_work() as uow:
        users.update_user(uow, SYSTEM, "pia", active=False)
    with driver.engine.unit_of_work() as uow:
        users.update_user(uow, SYSTEM, "pia", active=True)
    assert session_actor(again.session_version) is None


@pytest.fixture
def checks(monkeypatch):
    """Each password check, with the write units of work open while it ran; ``during``
    (when set) runs inside the next check, as another request meanwhile would."""
    open_writes: list[UnitOfWork] = []
    enter, leave = UnitOfWork.__enter__, UnitOfWork.__exit__

    def entering(uow):
        if uow._write:
            open_writes.append(uow)
        return enter(uow)

    def leaving(uow, *exc_info):
        if uow in open_writes:
            open_writes.remove(uow)
        return leave(uow, *exc_info)

    class Checks(list):
        during = None

    made = Checks()
    verify = passwords.verify

    def checking(stored, password):
        made.append(list(open_writes))
        during, made.during = made.during, None
        if during:
            during()
        return verify(stored, password)

    monkeypatch.setattr(UnitOfWork, "__enter__", entering)
    monkeypatch.setattr(UnitOfWork, "__exit__", leaving)
    monkeypatch.setattr(sign_in.passwords, "verify", checking)
    return made


def test_the_password_is_checked_outside_any_write_transaction(driver, app, checks):
    # Through the page: the request's own unit of work must not be a writing one either.
    set_password(driver, "system", "pia")
    assert Browser(app.test_client()).sign_in("pia").status_code == 302
    assert Browser(app.test_client()).sign_in("pia", "wrong password!").status_code == 401
    assert checks == [[], []]


def test_a_password_changed_while_it_was_checked_fails_the_sign_in(driver, checks):
    set_password(driver, "system", "pia")
    checks.during = lambda: set_password(driver, "system", "pia", "another long password")
    with pytest.raises(SignInRefused):
        attempt(driver, "pia", PASSWORD)
    assert [e["reason"] for e in events(driver, "sign_in_failed")] == [
        "wrong user name or password"
    ]
    assert attempt(driver, "pia", "another long password").name == "pia"


def test_failures_recorded_while_the_password_was_checked_count(driver, checks):
    set_password(driver, "system", "pia")
    for _ in range(LIMITS.per_user - 1):
        with pytest.raises(SignInRefused):
            attempt(driver, "pia", "wrong password!")

    def another_failure():
        with pytest.raises(SignInRefused):
            attempt(driver, "pia", "wrong password!")

    checks.during = another_failure
    with pytest.raises(SignInRefused) as refused:
        attempt(driver, "pia", PASSWORD)
    assert refused.value.too_many
