"""The API on the ``engine`` fixture (SQLite and PostgreSQL), with the people of
``tests.support`` and their tokens."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from picycle.api import create_app
from picycle.engine.actors import SYSTEM
from picycle.engine.db.models import AuditEvent
from picycle.engine.services import users
from sqlalchemy import func, select

from tests.support import INDICATORS, PEOPLE, UNIT, UNITS, ensure_unit

PROBLEM = "application/problem+json"


@pytest.fixture
def app(engine):
    made = create_app({"PICYCLE_ENGINE": engine, "TESTING": True})
    yield made


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def tokens(engine) -> dict[str, str]:
    """name -> API token for everyone in ``PEOPLE``, plus ``pim``, a second PI Unit member."""
    people = {**PEOPLE, "pim": ("member", ["PI Unit"])}
    for unit in UNITS:
        ensure_unit(engine, unit)
    made = {}
    for name, (role, groups) in people.items():
        with engine.unit_of_work() as uow:  # the service commits
            made[name] = users.add_user(uow, SYSTEM, name, role, groups).token
    return made


@pytest.fixture
def auth(tokens):
    """``auth("pia")`` -> the headers that make a request as pia."""

    def headers(name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[name]}"}

    return headers


@pytest.fixture
def api(client, auth):
    """``api.post("pia", "/cycles", json=...)``: a request as someone, under /api/v1."""

    class Api:
        def __getattr__(self, method: str):
            def call(who: str | None, path: str, **kwargs):
                headers = {**kwargs.pop("headers", {}), **(auth(who) if who else {})}
                send = getattr(client, method)
                return send("/api/v1" + path, headers=headers, **kwargs)

            return call

    return Api()


@pytest.fixture
def start_cycle(api, tokens, engine):
    """Start a cycle as pia (for a unit made first when new); returns its detail."""

    def start(unit: str = UNIT, title: str = "Faster permits", who: str = "pia") -> dict:
        ensure_unit(engine, unit)
        response = api.post(who, "/cycles", json={"unit": unit, "title": title})
        assert response.status_code == 201, response.json
        return response.json

    return start


@pytest.fixture
def assessment_task(start_cycle) -> dict:
    """The open 'Assess performance' task of a fresh cycle."""
    cycle = start_cycle()
    (task,) = cycle["open_tasks"]
    return task


@contextmanager
def running(server) -> Iterator[int]:
    """Run a waitress server on a thread; yields its port. ``create_server`` has bound and
    listens on the socket before the thread starts, so a request made at once waits in the
    backlog: there is nothing to poll for. The server is closed by its own loop, woken
    through its trigger: closed from another thread, the loop would sleep out its poll
    timeout or poll a closed descriptor (EBADF)."""

    def close() -> None:
        for channel in list(server.active_channels.values()):
            channel.close()
        server.close()

    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server.effective_port
    finally:
        try:
            server.trigger.pull_trigger(close)
        except OSError:
            # Its wake-up pipe already closed (seen once in thousands of runs), the loop is
            # closed from here: it ends within its one-second poll timeout.
            close()
        thread.join(timeout=10)
        server.task_dispatcher.shutdown()
        assert not thread.is_alive(), "the server did not stop"


def audit_count(engine) -> int:
    """Events that record a change; refused writes (``access_denied``) are on the trail
    too, in a transaction of their own, and are not counted here."""
    with engine.unit_of_work(write=False) as uow:
        return uow.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.type != "access_denied")
        )


def audit_events(engine, type: str) -> list[AuditEvent]:
    with engine.unit_of_work(write=False) as uow:
        return list(
            uow.session.scalars(
                select(AuditEvent).where(AuditEvent.type == type).order_by(AuditEvent.seq)
            )
        )


def assert_problem(response, status: int, **expected) -> dict:
    """The response is an RFC 9457 problem with this status (and these fields)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.json
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    for key, value in expected.items():
        assert body[key] == value, (key, body)
    return body


ASSESSMENT = {"indicators": INDICATORS}


class Walker:
    """Drives one cycle through the API, step by step, as the people of each lane."""

    def __init__(self, api, cycle_id: int):
        self.api = api
        self.cycle_id = cycle_id

    def cycle(self) -> dict:
        response = self.api.get("audrey", f"/cycles/{self.cycle_id}")
        assert response.status_code == 200, response.json
        return response.json

    def task(self, element_id: str) -> dict:
        found = [t for t in self.cycle()["open_tasks"] if t["element_id"] == element_id]
        assert len(found) == 1, found
        return self.api.get("audrey", f"/tasks/{found[0]['id']}").json

    def complete(self, who: str, element_id: str, data: dict) -> dict:
        task = self.task(element_id)
        response = self.api.post(who, f"/tasks/{task['id']}/complete", json={"data": data})
        assert response.status_code == 200, response.json
        return response.json

    def assess(self) -> None:
        self.complete("pia", "assess_performance", ASSESSMENT)

    def identify_gaps(self) -> None:
        gaps = self.task("identify_gaps")["form_data"]["gaps"]
        analysed = [
            {**g, "cause_category": "tools_resources", "cause": "Paper", "impact": 5, "effort": 2}
            for g in gaps
        ]
        self.complete("dana", "identify_gaps", {"gaps": analysed})

    def design(self, today, due_in_days: int = 30) -> None:
        due = (today + timedelta(days=due_in_days)).isoformat()
        projects = [
            {"title": title, "gap": gap, "owner": owner, "due": due, "deliverable": deliverable}
            for title, gap, owner, deliverable in [
                ("Digital intake", "permits", "dana", "Online form"),
                ("Triage desk", "backlog", "omar", "Daily rota"),
            ]
        ]
        self.complete("dana", "design_microprojects", {"microprojects": projects})

    def approve(self) -> None:
        self.complete("lena", "leadership_approval", {"approved": True, "comment": "Go"})

    def implement_all(self) -> None:
        for task in self.cycle()["open_tasks"]:
            if task["element_id"] == "implement_microproject":
                response = self.api.post(
                    task["assignee"],
                    f"/tasks/{task['id']}/complete",
                    json={"data": {"status": "done", "report": "Delivered"}},
                )
                assert response.status_code == 200, response.json

    def evaluate(self, permits: float, backlog: float) -> None:
        measurements = [
            {"indicator": "permits", "actual": permits},
            {"indicator": "backlog", "actual": backlog},
        ]
        self.complete(
            "pia",
            "evaluate_results",
            {"measurements": measurements, "lessons_learned": "Small steps work"},
        )

    def institutionalise(self) -> None:
        self.complete(
            "lena",
            "institutionalise_and_share",
            {"standardised_practices": ["Online intake"], "presented_to": "All directorates"},
        )

    def plan_next(self, start: str = "2026-06-01") -> None:
        self.complete(
            "pia",
            "plan_next_cycle",
            {"next_cycle_start": start, "next_cycle_title": "Faster permits, round 2"},
        )


@pytest.fixture
def walker(api, start_cycle):
    """``walker()`` starts a cycle and returns a Walker for it."""

    def make(**kwargs) -> Walker:
        return Walker(api, start_cycle(**kwargs)["id"])

    return make
