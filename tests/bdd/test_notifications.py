"""Steps for features/notifications.feature: e-mail when a task waits for someone, in
their words; sent by the worker to a local SMTP server."""

from __future__ import annotations

import pytest
from picycle.cli.worker import mail_pass
from picycle.engine.actors import SYSTEM
from picycle.engine.notifications.smtp import SmtpSettings
from picycle.engine.services import mail, notification_settings, users
from pytest_bdd import given, parsers, scenarios, then, when

from tests.mail import free_port
from tests.support import PEOPLE

scenarios("notifications.feature")


def address(name: str) -> str:
    return f"{name}@example.org"


@pytest.fixture
def post(smtp_server):
    """What the worker sends through, and how many e-mails were seen so far."""
    return {"settings": smtp_server.settings(), "seen": 0}


def settle(driver, name: str, **wanted) -> None:
    with driver.engine.unit_of_work() as uow:
        notification_settings.change_settings(uow, SYSTEM, name, **wanted)


@given("everyone has given their e-mail address")
def addresses(driver):
    for name in PEOPLE:
        settle(driver, name, email=address(name))


@given("the PI unit has completed the assessment")
@when("the PI unit completes the assessment")
def assessed(driver, cycle):
    driver.assess(cycle["id"])


@when("the worker makes its rounds")
@when("the worker makes its rounds again")
def rounds(driver, post, smtp_server):
    post["seen"] = len(smtp_server.received)
    driver.fire_timers()
    mail_pass(driver.engine, post["settings"], lambda: False)


@when("a day passes")
def a_day(clock):
    clock.advance(days=1)


def new_mail(smtp_server, post, name: str) -> list:
    return [m for m in smtp_server.received[post["seen"] :] if m.to == address(name)]


def got(smtp_server, post, name: str, subject: str):
    found = [m for m in new_mail(smtp_server, post, name) if m.subject == subject]
    assert len(found) == 1, [m.subject for m in new_mail(smtp_server, post, name)]
    return found[0]


@then(parsers.parse('dana and omar each get an e-mail "{subject}"'))
def both_got(smtp_server, post, subject):
    for name in ("dana", "omar"):
        got(smtp_server, post, name, subject)


@then(parsers.parse('{name} gets an e-mail "{subject}" that lists "{task}"'))
def got_listing(smtp_server, post, name, subject, task):
    assert f"“\u2068{task}\u2069”" in got(smtp_server, post, name, subject).part("plain")


@then(parsers.parse('{name} gets an e-mail "{subject}" written right to left'))
def got_rtl(smtp_server, post, name, subject):
    assert 'dir="rtl"' in got(smtp_server, post, name, subject).part("html")


@then(parsers.parse('{name} gets an e-mail "{subject}"'))
def got_one(smtp_server, post, name, subject):
    got(smtp_server, post, name, subject)


@then("the e-mail links to the task")
def links(driver, cycle, smtp_server):
    task = driver.task(cycle["id"], "identify_gaps")
    assert f"/tasks/{task.id}" in smtp_server.to(address("dana"))[-1].part("plain")


@then(parsers.parse("{name} gets no e-mail"))
def got_none(smtp_server, post, name):
    assert new_mail(smtp_server, post, name) == []


@then(parsers.parse("{name} gets no digest"))
def no_digest(smtp_server, post, name):
    assert not [m for m in new_mail(smtp_server, post, name) if m.subject.startswith("Your")]


@then("nobody gets another e-mail")
def nothing_more(smtp_server, post):
    assert smtp_server.received[post["seen"] :] == []


@given(parsers.parse("{name} has asked for a daily digest"))
def wants_digest(driver, name):
    settle(driver, name, digest=True)


@given("dana has chosen Arabic")
def arabic(driver):
    with driver.engine.unit_of_work() as uow:
        users.set_language(uow, SYSTEM, "dana", "ar")


@given(parsers.parse("{name} wants no e-mail when a task becomes open to his group"))
def no_group_mail(driver, name):
    settle(driver, name, group_open=False)


@given(parsers.parse("{name} has removed her e-mail address"))
def no_address(driver, name):
    settle(driver, name, email="")


@given("the mail server is away")
def away(post):
    post["settings"] = SmtpSettings("127.0.0.1", free_port(), "none", None, None, "p@example.org")


@then("nobody gets an e-mail yet")
def none_yet(smtp_server):
    assert smtp_server.received == []


def waiting(driver) -> int:
    with driver.engine.unit_of_work(write=False) as uow:
        return mail.outbox_backlog(uow).waiting


@then(parsers.parse("{count:d} e-mails wait"))
def some_wait(driver, count):
    assert waiting(driver) == count


@then("no e-mail waits")
def none_waits(driver):
    assert waiting(driver) == 0


@when("the mail server is back and a few minutes pass")
def back(post, smtp_server, clock):
    post["settings"] = smtp_server.settings()
    clock.advance(minutes=5)
