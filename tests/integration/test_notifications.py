"""E-mail notifications, on both databases, sent to a local SMTP server: who is told of
what, in their language; the outbox written with the change; workers that race, die
mid-send or find the SMTP server away."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import timedelta

import picycle.engine.uow as uow_module
import pytest
from click.testing import CliRunner
from picycle.cli.main import main
from picycle.engine import Engine
from picycle.engine.actors import SYSTEM
from picycle.engine.db.models import OutboxMessage, Task, User
from picycle.engine.errors import PermissionDenied, ValidationFailed
from picycle.engine.notifications.smtp import Mailer, SmtpSettings
from picycle.engine.services import mail, notification_settings, tasks, users
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from tests.mail import SmtpServer, free_port
from tests.support import PEOPLE, UNIT, UNITS


def address(name: str) -> str:
    return f"{name}@example.org"


@pytest.fixture
def people(driver):
    """Everyone with an address and the default choices."""
    for name in PEOPLE:
        with driver.engine.unit_of_work() as uow:
            notification_settings.change_settings(uow, SYSTEM, name, email=address(name))
    return driver


def settle(driver, **choices) -> None:
    """``name={"choice": value, ...}``"""
    for name, wanted in choices.items():
        with driver.engine.unit_of_work() as uow:
            notification_settings.change_settings(uow, SYSTEM, name, **wanted)


def send(driver, smtp_server):
    return mail.send_outbox(driver.engine, smtp_server.settings())


def outbox(driver) -> list[OutboxMessage]:
    with driver.engine.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def approved(driver) -> int:
    cycle_id = driver.start()
    driver.to_implementation(cycle_id)
    return cycle_id


def test_a_task_open_to_a_group_mails_its_members_but_the_one_who_moved_it(people, smtp_server):
    cycle_id = people.start()
    assert outbox(people) == []  # pia opened it, and is the PI unit's only member
    people.assess(cycle_id)
    waiting = outbox(people)
    assert sorted(m.recipient for m in waiting) == ["dana", "omar"]
    assert {m.kind for m in waiting} == {"group_open"}
    assert send(people, smtp_server).sent == 2
    (to_dana,) = smtp_server.to(address("dana"))
    assert to_dana.subject == "New task for Department Team: Identify gaps"
    text = to_dana.part("plain")
    assert "Hello dana," in text
    task = people.task(cycle_id, "identify_gaps")
    assert f"http://127.0.0.1:8080/tasks/{task.id}" in text
    assert f'href="http://127.0.0.1:8080/tasks/{task.id}"' in to_dana.part("html")
    assert "Faster permits" in text and UNIT in text
    assert send(people, smtp_server).sent == 0  # sent is sent


def test_a_task_assigned_to_someone_mails_them_alone(people, smtp_server, clock):
    approved(people)
    assigned = [m for m in outbox(people) if m.kind == "assigned"]
    assert sorted(m.recipient for m in assigned) == ["dana", "omar"]
    send(people, smtp_server)
    subjects = sorted(m.subject for m in smtp_server.to(address("omar")) if "Assigned" in m.subject)
    assert subjects == ["Assigned to you: Implement: Complaint triage desk"]


def offered_again(driver, cycle_id: int, by: str = "dana") -> list[str]:
    """Who is told of the identify-gaps task when ``by`` takes it and gives it back."""
    told_before = len(outbox(driver))
    task = driver.task(cycle_id, "identify_gaps")
    with driver.engine.unit_of_work() as uow:
        tasks.claim_task(uow, driver.actor(by), task.id)
    with driver.engine.unit_of_work() as uow:
        tasks.unclaim_task(uow, driver.actor(by), task.id)
    return sorted(m.recipient for m in outbox(driver)[told_before:])


def test_a_task_given_back_is_offered_to_the_group_again(people):
    cycle_id = people.start()
    people.assess(cycle_id)
    assert offered_again(people, cycle_id) == ["omar"]  # dana gave it back herself


# Who is told is read once and kept while the directory's token (users, memberships, the
# unit tree) stays; each change below comes after the department team was told once.


def test_someone_joining_a_group_is_told_of_its_next_task(people):
    cycle_id = people.start()
    people.assess(cycle_id)
    with people.engine.unit_of_work() as uow:
        users.add_user(uow, SYSTEM, "eve", "member", ["Department Team"])
    settle(people, eve={"email": address("eve")})
    assert offered_again(people, cycle_id) == ["eve", "omar"]


def test_a_change_another_process_writes_to_the_database_is_followed(people):
    cycle_id = people.start()
    people.assess(cycle_id)
    with people.engine.database.begin() as connection:  # not through a unit of work
        connection.execute(update(User).where(User.name == "omar").values(email=address("omar.k")))
    assert offered_again(people, cycle_id) == ["omar"]
    assert outbox(people)[-1].address == address("omar.k")


@pytest.mark.parametrize("written_by", ["statement", "object"])
def test_a_change_made_after_the_lock_in_the_same_transaction_is_followed(people, written_by):
    cycle_id = people.start()
    people.assess(cycle_id)
    task = people.task(cycle_id, "identify_gaps")
    with people.engine.unit_of_work() as uow:
        tasks.claim_task(uow, people.actor("dana"), task.id)
    told_before = len(outbox(people))
    with people.engine.unit_of_work() as uow:
        cycle = uow.cycles.lock(cycle_id)  # reads the directory's token
        if written_by == "statement":
            uow.session.execute(
                update(User).where(User.name == "omar").values(notify_group_open=False)
            )
        else:  # written when the unit of work commits
            omar = uow.session.scalars(select(User).where(User.name == "omar")).one()
            omar.notify_group_open = False
        cycle.give_back(people.actor("ada"), task.id, "dana moved to another team")
        uow.commit()
    assert [m.recipient for m in outbox(people)[told_before:]] == ["dana"]


def test_the_outbox_commits_with_the_change_or_not_at_all(people, monkeypatch):
    cycle_id = people.start()
    task = people.task(cycle_id, "assess_performance")
    real_commit = uow_module.committed_at_end

    @contextmanager
    def written_then_lost(session):
        yield  # the change's rows and its e-mails, written
        raise OperationalError("COMMIT", {}, Exception("the database went away"))

    monkeypatch.setattr(uow_module, "committed_at_end", written_then_lost)
    with pytest.raises(OperationalError):
        people.assess(cycle_id)
    monkeypatch.setattr(uow_module, "committed_at_end", real_commit)
    assert outbox(people) == []
    people.restart()
    assert people.task(cycle_id, "assess_performance").id == task.id  # still open


def test_a_task_falling_overdue_mails_who_it_is_for_once(people, smtp_server, clock):
    approved(people)
    assert mail.write_overdue_notices(people.engine) == 0
    clock.advance(days=31)
    assert mail.write_overdue_notices(people.engine) == 2
    assert mail.write_overdue_notices(people.engine) == 0  # once
    send(people, smtp_server)
    (overdue,) = [m for m in smtp_server.to(address("dana")) if m.subject.startswith("Overdue")]
    assert overdue.subject == "Overdue: Implement: Digital permit intake"
    assert "is still open" in overdue.part("plain")


def test_a_moved_due_date_is_told_again_when_it_passes(people, clock):
    approved(people)
    clock.advance(days=31)
    mail.write_overdue_notices(people.engine)
    with people.engine.unit_of_work() as uow:
        task = uow.session.scalars(select(Task).where(Task.assignee == "dana")).one()
        task.due_at = clock() + timedelta(days=2)
        uow.session.commit()
    assert mail.write_overdue_notices(people.engine) == 0
    clock.advance(days=3)
    assert mail.write_overdue_notices(people.engine) == 1


def test_the_daily_digest_lists_open_tasks_once_a_day(people, smtp_server, clock):
    settle(people, dana={"digest": True}, omar={"digest": True}, pia={"digest": True})
    with people.engine.unit_of_work() as uow:
        users.set_language(uow, SYSTEM, "omar", "nl")
    cycle_id = people.start()
    people.assess(cycle_id)
    # 09:00, after the digest time (07:00): dana and omar have a task, pia none.
    assert mail.write_digests(people.engine) == 2
    assert mail.write_digests(people.engine) == 0  # not twice a day
    send(people, smtp_server)
    (digest,) = [m for m in smtp_server.to(address("dana")) if m.subject.startswith("Your")]
    assert digest.subject == "Your tasks on Mar 2, 2026"
    assert "Open tasks: 1. Overdue: 0." in digest.part("plain")
    said = "“\u2068Identify gaps\u2069” of the cycle “\u2068Faster permits\u2069”"
    assert said in digest.part("plain")
    to_omar = smtp_server.to(address("omar"))  # the task opened to his group, the digest
    assert len(to_omar) == 2
    assert all("Knelpunten bepalen" in m.part("plain") for m in to_omar)  # the Dutch name
    assert not any("Identify gaps" in m.part("plain") for m in to_omar)
    assert smtp_server.to(address("pia")) == []
    clock.advance(hours=20)  # 05:00 the next day: before the digest time
    assert mail.write_digests(people.engine) == 0
    clock.advance(hours=2)
    assert mail.write_digests(people.engine) == 2


def test_no_mail_for_choices_off_deactivated_users_or_users_without_address(
    people, smtp_server, clock
):
    settle(people, dana={"group_open": False})
    with people.engine.unit_of_work() as uow:
        users.update_user(uow, SYSTEM, "omar", active=False)
    cycle_id = people.start()
    people.assess(cycle_id)
    assert outbox(people) == []
    settle(people, dana={"group_open": True, "email": ""})
    with people.engine.unit_of_work() as uow:
        users.update_user(uow, SYSTEM, "omar", active=True)
    people.identify_gaps(cycle_id)  # design: the department team's again
    assert [m.recipient for m in outbox(people)] == ["omar"]


def test_mail_waiting_for_a_user_is_not_sent_once_they_are_deactivated(people, smtp_server):
    cycle_id = people.start()
    people.assess(cycle_id)  # the department team's task: dana and omar are told
    assert {m.recipient for m in outbox(people)} == {"dana", "omar"}
    with people.engine.unit_of_work() as uow:
        users.update_user(uow, SYSTEM, "omar", active=False)
    assert send(people, smtp_server).sent == 1
    assert smtp_server.to(address("omar")) == [] and len(smtp_server.to(address("dana"))) == 1
    (to_omar,) = [m for m in outbox(people) if m.recipient == "omar"]
    assert to_omar.failed_at is not None and to_omar.last_error == "the recipient was deactivated"


@pytest.mark.parametrize(
    ("language", "subject", "direction"),
    [
        ("ar", "مهمة جديدة لـ Department Team: تحديد الفجوات", "rtl"),
        ("nl", "Nieuwe taak voor Department Team: Knelpunten bepalen", "ltr"),
    ],
)
def test_mail_is_written_in_the_recipients_language(
    people, smtp_server, language, subject, direction
):
    with people.engine.unit_of_work() as uow:
        users.set_language(uow, SYSTEM, "dana", language)
    cycle_id = people.start()
    people.assess(cycle_id)
    send(people, smtp_server)
    (to_dana,) = smtp_server.to(address("dana"))
    assert to_dana.subject == subject
    assert to_dana.email["Content-Language"] == language
    assert f'<html lang="{language}" dir="{direction}">' in to_dana.part("html")
    (to_omar,) = smtp_server.to(address("omar"))
    assert to_omar.subject.startswith("New task for")  # omar chose no language


def test_two_workers_racing_send_each_mail_once(people, smtp_server, database_url, clock):
    for unit in UNITS:
        people.assess(people.start(unit=unit))
    expected = len(outbox(people))
    engines = [Engine(database_url, clock) for _ in range(2)]
    barrier = threading.Barrier(2)
    done = []

    def work(engine):
        barrier.wait()
        done.append(mail.send_outbox(engine, smtp_server.settings()))

    workers = [threading.Thread(target=work, args=(engine,)) for engine in engines]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for engine in engines:
        engine.dispose()
    assert sum(report.sent for report in done) == expected == 2 * len(UNITS)
    ids = [m.message_id for m in smtp_server.received]
    assert len(ids) == len(set(ids)) == expected


def test_a_worker_dying_before_it_sends_leaves_the_mail_to_another(people, smtp_server, clock):
    people.assess(people.start())
    with people.engine.unit_of_work() as uow:
        taken = mail.take_next(uow, "picycle@example.org")
    assert taken is not None  # ... and the worker dies here
    clock.advance(minutes=4)
    assert send(people, smtp_server).sent == 1  # the other e-mail; this one is leased
    clock.advance(minutes=2)
    assert send(people, smtp_server).sent == 1
    assert sorted(m.to for m in smtp_server.received) == [address("dana"), address("omar")]


def test_a_worker_dying_between_send_and_mark_sends_again_with_the_same_id(
    people, smtp_server, clock
):
    people.start()
    people.assess(1)
    with people.engine.unit_of_work() as uow:
        taken = mail.take_next(uow, "picycle@example.org")
    with Mailer(smtp_server.settings()) as mailer:
        mailer.send(taken.email)  # accepted; the worker dies before marking it sent
    clock.advance(minutes=6)
    assert send(people, smtp_server).sent == 2
    first, *_ = smtp_server.received
    again = [m for m in smtp_server.received if m.to == first.to]
    assert len(again) == 2 and again[0].message_id == again[1].message_id
    assert all(m.sent_at is not None for m in outbox(people))


def test_an_smtp_server_away_is_tried_again_later(people, smtp_server, clock):
    people.assess(people.start())
    away = SmtpSettings("127.0.0.1", free_port(), "none", None, None, "picycle@example.org")
    report = mail.send_outbox(people.engine, away)
    assert (report.sent, report.retrying) == (0, 1)  # the pass stops at the first failure
    failed = [m for m in outbox(people) if m.attempts]
    assert len(failed) == 1 and "Connection refused" in failed[0].last_error
    assert failed[0].next_attempt_at == clock() + timedelta(minutes=1)
    with people.engine.unit_of_work(write=False) as uow:
        backlog = mail.outbox_backlog(uow)
    assert (backlog.waiting, backlog.due, backlog.failed) == (2, 1, 0)
    assert send(people, smtp_server).sent == 1  # the one not tried yet
    clock.advance(minutes=1)
    assert send(people, smtp_server).sent == 1
    assert len(smtp_server.received) == 2


def test_an_address_beyond_ascii_to_a_server_without_smtputf8_is_given_up_at_once(people):
    with people.engine.unit_of_work() as uow:
        notification_settings.change_settings(uow, SYSTEM, "dana", email="dané@example.org")
    people.assess(people.start())
    plain = SmtpServer(utf8=False)
    plain.start()
    try:
        report = send(people, plain)
    finally:
        plain.stop()
    assert (report.sent, report.failed, report.retrying) == (1, 1, 0)
    [given_up] = [m for m in outbox(people) if m.address == "dané@example.org"]
    assert given_up.failed_at is not None and given_up.attempts == 1
    assert "SMTPUTF8" in given_up.last_error


def test_a_refusal_for_good_gives_up_and_shows_in_the_backlog(people, smtp_server, clock):
    people.assess(people.start())
    smtp_server.refuse = "550 5.1.1 mailbox unavailable"
    report = send(people, smtp_server)
    assert (report.sent, report.failed) == (0, 2)
    with people.engine.unit_of_work(write=False) as uow:
        backlog = mail.outbox_backlog(uow)
    assert (backlog.waiting, backlog.failed) == (0, 2)
    assert all("550" in m.last_error for m in outbox(people))


def test_a_mail_that_cannot_be_written_is_given_up_and_the_rest_still_go(people, smtp_server):
    people.assess(people.start())
    # An address stored before addresses were checked for encoded words breaks its header.
    first, second = outbox(people)
    with people.engine.unit_of_work() as uow:
        uow.session.get_one(OutboxMessage, first.id).address = "=?utf-8?q?a=0Ab?=@example.org"
        uow.commit()
    report = send(people, smtp_server)
    assert (report.sent, report.failed) == (1, 1)
    assert [m.to for m in smtp_server.received] == [second.address]
    given_up = outbox(people)[0]
    assert given_up.failed_at is not None
    assert given_up.last_error.startswith("cannot be written as an e-mail: ")


def test_a_mail_that_keeps_failing_is_given_up_after_the_last_attempt(people, smtp_server, clock):
    people.start()
    people.assess(1)
    smtp_server.refuse = "451 4.3.0 try again later"
    for _ in range(2 * mail.MAX_ATTEMPTS):  # a pass stops at a failure not the e-mail's own
        send(people, smtp_server)
        clock.advance(hours=3)
    messages = outbox(people)
    assert all(m.failed_at is not None for m in messages)
    assert {m.attempts for m in messages} == {mail.MAX_ATTEMPTS}


def test_settings_are_the_users_own_or_an_admins(people):
    dana, omar, ada = (people.actor(name) for name in ("dana", "omar", "ada"))
    with people.engine.unit_of_work() as uow, pytest.raises(PermissionDenied):
        notification_settings.change_settings(uow, omar, "dana", email="omar@evil.example")
    with people.engine.unit_of_work(write=False) as uow, pytest.raises(PermissionDenied):
        notification_settings.read_settings(uow, omar, "dana")
    with people.engine.unit_of_work() as uow:
        changed = notification_settings.change_settings(uow, dana, "dana", digest=True)
    assert (changed.email, changed.digest, changed.assigned) == (address("dana"), True, True)
    with people.engine.unit_of_work() as uow:
        notification_settings.change_settings(uow, ada, "dana", overdue=False)
    with people.engine.unit_of_work(write=False) as uow:
        assert notification_settings.read_settings(uow, dana, "dana").overdue is False
    (event,) = [
        e
        for e in people.events()
        if e.type == "user_changed" and e.actor == "ada" and e.data["user"] == "dana"
    ]
    assert event.data["before"] == {"overdue": True} and event.data["after"] == {"overdue": False}


@pytest.mark.parametrize(
    "bad",
    [
        "dana@example.org\r\nBcc: everyone@example.org",
        "Dana <dana@example.org>",
        "dana@localhost",
        "dana",
        "a@b.org, c@d.org",
        "x" * 250 + "@example.org",
        "=?utf-8?q?dana=0A?=@example.org",
    ],
)
def test_a_bad_address_is_refused_at_its_field_and_changes_nothing(people, bad):
    with people.engine.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        notification_settings.change_settings(uow, SYSTEM, "dana", email=bad, digest=True)
    assert list(refused.value.errors) == ["email"]
    with people.engine.unit_of_work(write=False) as uow:
        kept = notification_settings.read_settings(uow, SYSTEM, "dana")
    assert (kept.email, kept.digest) == (address("dana"), False)


def test_what_users_and_models_wrote_is_escaped_in_the_html(people, smtp_server):
    cycle_id = people.start(title='<img src=x onerror="alert(1)">')
    people.assess(cycle_id)
    send(people, smtp_server)
    html = smtp_server.to(address("dana"))[0].part("html")
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_the_worker_command_sends_and_its_status_shows_the_outbox(
    people, smtp_server, database_url
):
    people.assess(people.start())
    env = {"PICYCLE_DATABASE_URL": database_url}
    status = CliRunner().invoke(main, ["worker", "--status"], env=env)
    assert status.stdout.splitlines()[4:] == [
        "e-mail waiting: 2 (2 due now)",
        "e-mail oldest due: 2026-03-02T09:00:00+00:00",
        status.stdout.splitlines()[6],
        "e-mail given up (see their last error): 0",
    ]
    assert int(status.stdout.splitlines()[6].split()[2]) > 0  # the lag, in seconds
    env.update(PICYCLE_SMTP_HOST="127.0.0.1", PICYCLE_SMTP_PORT=str(smtp_server.port))
    env.update(PICYCLE_SMTP_SECURITY="none", PICYCLE_MAIL_FROM="pi@example.org")
    once = CliRunner().invoke(main, ["worker", "--once"], env=env)
    assert once.stdout.splitlines() == [
        "no timers due",
        "e-mail: 0 written, 2 sent, 0 to try again, 0 given up",
    ]
    assert {m.email["From"] for m in smtp_server.received} == {"pi@example.org"}


def test_the_user_command_shows_and_changes_notifications(people, database_url):
    env = {"PICYCLE_DATABASE_URL": database_url}

    def picycle(*args):
        return CliRunner().invoke(main, ["user", "notifications", *args], env=env)

    changed = picycle("dana", "--email", "d@example.org", "--digest", "--no-overdue")
    assert changed.stdout.splitlines() == [
        "email: d@example.org",
        "assigned: yes",
        "group_open: yes",
        "overdue: no",
        "digest: yes",
    ]
    assert picycle("dana", "--as", "dana", "--no-digest").exit_code == 0
    refused = picycle("dana", "--as", "omar", "--email", "o@evil.example")
    assert refused.exit_code != 0 and "only an admin or dana" in refused.stderr
    bad = picycle("dana", "--email", "not an address")
    assert bad.exit_code != 0 and "is not an e-mail address" in bad.stderr
    assert "digest: no" in picycle("dana", "--as", "dana").stdout
