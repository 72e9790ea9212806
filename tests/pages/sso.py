"""Signing in through the test identity provider: the pages on the ``driver``'s database,
configured for single sign-on against a provider answering over HTTP on 127.0.0.1. The
fixtures are made available by tests/pages/conftest.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
import requests
from picycle.api import create_app

from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, new_key, serving

if TYPE_CHECKING:
    from tests.pages.conftest import Browser

CALLBACK = "http://localhost/sign-in/sso/callback"
MEMBERSHIPS = {
    "pi": [{"group": "PI Unit"}],
    "planning": [{"group": "Department Team", "unit": ["Directorate of Planning"]}],
    "admins": [{"role": "admin"}],
    "ghost-town": [{"group": "Department Team", "unit": ["Directorate of Planning", "Nowhere"]}],
}


@pytest.fixture(scope="session")
def served_provider() -> Iterator[Provider]:
    """One provider per test process, with a key of its own."""
    with serving(new_key()) as provider:
        yield provider


@pytest.fixture
def provider(served_provider) -> Provider:
    """The provider, forgetting what earlier tests did; it signs in ``sami`` by default."""
    served_provider.reset([CALLBACK])
    served_provider.user = {"sub": "subject-sami", "preferred_username": "sami", "groups": []}
    return served_provider


def settings(provider: Provider, **overrides: Any) -> dict[str, Any]:
    return {
        "PICYCLE_OIDC_ISSUER": provider.issuer,
        "PICYCLE_OIDC_CLIENT_ID": CLIENT_ID,
        "PICYCLE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "PICYCLE_OIDC_DISPLAY_NAME": "Test IdP",
        "PICYCLE_OIDC_MEMBERSHIPS": json.dumps(MEMBERSHIPS),
        **overrides,
    }


def sso_app_with(driver, provider: Provider, **overrides: Any):
    """The pages with single sign-on, ``overrides`` in their config."""
    return create_app(
        {
            "PICYCLE_ENGINE": driver.engine,
            "TESTING": True,
            "SECRET_KEY": "a secret for the tests only",
            "PICYCLE_SECURE_COOKIES": False,
            **settings(provider),
            **overrides,
        }
    )


@pytest.fixture
def sso_app(driver, provider):
    return sso_app_with(driver, provider)


def to_provider(visitor: Browser, next_path: str | None = None) -> str:
    """Press the sign-in page's button: the provider's authorization URL it leads to."""
    visitor.get("/sign-in")
    form = {"next": next_path} if next_path else {}
    response = visitor.post("/sign-in/sso", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.location


def at_provider(authorize_url: str) -> str:
    """The browser at the provider, which signs the user in: the callback it sends back to."""
    answer = requests.get(authorize_url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    assert answer.headers["Location"].startswith(CALLBACK), answer.headers["Location"]
    return answer.headers["Location"]


def back_from_provider(visitor: Browser, callback_url: str):
    parts = urlsplit(callback_url)
    return visitor.get(f"{parts.path}?{parts.query}")


def sign_in_through(visitor: Browser, next_path: str | None = None):
    """The whole round trip; the callback's response."""
    return back_from_provider(visitor, at_provider(to_provider(visitor, next_path)))
