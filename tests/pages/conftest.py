"""The pages on the ``driver``'s database, worked by a browser-like test client that sends
each form's CSRF token back, as a browser would."""

from __future__ import annotations

import re

import pytest
from picycle.api import create_app
from picycle.engine.actors import SYSTEM
from picycle.engine.services import users

from tests.pages.sso import provider, served_provider, sso_app  # noqa: F401  (fixtures)

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app(driver):
    return create_app(
        {
            "PICYCLE_ENGINE": driver.engine,
            "TESTING": True,
            "SECRET_KEY": "a secret for the tests only",
            "PICYCLE_SECURE_COOKIES": False,  # the test client speaks http
        }
    )


class Browser:
    """Keeps its cookies and the CSRF token of the last page it read."""

    def __init__(self, client):
        self.client = client
        self.token: str | None = None

    def get(self, path: str, **kwargs):
        response = self.client.get(path, **kwargs)
        self._remember(response)
        return response

    def post(self, path: str, data: dict | None = None, csrf: bool = True, **kwargs):
        form = dict(data or {})
        if csrf:
            if self.token is None:
                self.get("/sign-in")
            form.setdefault("csrf_token", self.token)
        response = self.client.post(path, data=form, **kwargs)
        self._remember(response)
        return response

    def _remember(self, response) -> None:
        found = _TOKEN.search(response.get_data(as_text=True))
        if found:
            self.token = found.group(1)

    def sign_in(self, name: str, password: str = PASSWORD):
        self.get("/sign-in")
        return self.post("/sign-in", {"name": name, "password": password})


@pytest.fixture
def passwords(driver):
    """``passwords("pia")``: pia has ``PASSWORD`` (hashing is slow on purpose: only those
    a test signs in as get one)."""
    done: set[str] = set()

    def give(name: str) -> None:
        if name not in done:
            with driver.engine.unit_of_work() as uow:
                users.set_password(uow, SYSTEM, name, PASSWORD)
            done.add(name)

    return give


@pytest.fixture
def browser(app, passwords):
    """``browser("pia")``: a new browser, signed in as pia, on her inbox; ``browser()``: a
    visitor signed in as no one."""

    def open_as(name: str | None = None) -> Browser:
        made = Browser(app.test_client())
        if name:
            passwords(name)
            response = made.sign_in(name)
            assert response.status_code == 302, response.get_data(as_text=True)
            made.get(response.location)  # as a browser follows: a new session's token
        return made

    return open_as


def text_of(response) -> str:
    return response.get_data(as_text=True)
