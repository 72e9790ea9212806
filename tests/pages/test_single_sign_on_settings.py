"""Single sign-on's settings: a wrong one stops the app from starting, naming the setting;
without a password sign-in, the form is gone and its post refused."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from picycle.api import create_app
from picycle.api.serve import make_app
from picycle.cli.main import main
from picycle.engine import Engine
from picycle.engine.errors import ConfigurationError

from tests.pages.conftest import Browser, text_of
from tests.pages.sso import (
    settings,
    sign_in_through,
)

GOOD = {
    "PICYCLE_OIDC_ISSUER": "https://login.example.org/realms/ministry",
    "PICYCLE_OIDC_CLIENT_ID": "picycle",
}


@pytest.fixture
def offline_engine(tmp_path):
    made = Engine(f"sqlite:///{tmp_path / 'unused.db'}")
    yield made
    made.dispose()


def _start(engine, **config):
    return create_app({"PICYCLE_ENGINE": engine, "SECRET_KEY": "for the tests", **config})


@pytest.mark.parametrize(
    ("config", "named", "why"),
    [
        ({"PICYCLE_OIDC_CLIENT_ID": "picycle"}, "PICYCLE_OIDC_CLIENT_ID", "is not"),
        ({**GOOD, "PICYCLE_OIDC_CLIENT_ID": " "}, "PICYCLE_OIDC_CLIENT_ID", "must be set"),
        (
            {**GOOD, "PICYCLE_OIDC_ISSUER": "http://login.example.org"},
            "PICYCLE_OIDC_ISSUER",
            "https",
        ),
        ({**GOOD, "PICYCLE_OIDC_SCOPES": "profile email"}, "PICYCLE_OIDC_SCOPES", "openid"),
        ({**GOOD, "PICYCLE_OIDC_MEMBERSHIPS": "{not json"}, "PICYCLE_OIDC_MEMBERSHIPS", "JSON"),
        ({**GOOD, "PICYCLE_OIDC_MEMBERSHIPS": "[]"}, "PICYCLE_OIDC_MEMBERSHIPS", "object"),
        (
            {**GOOD, "PICYCLE_OIDC_MEMBERSHIPS": json.dumps({"pi": {"group": "PI Unit"}})},
            "PICYCLE_OIDC_MEMBERSHIPS: 'pi'",
            "list of grants",
        ),
        (
            {**GOOD, "PICYCLE_OIDC_MEMBERSHIPS": json.dumps({"pi": [{"grup": "PI Unit"}]})},
            "PICYCLE_OIDC_MEMBERSHIPS: 'pi', grant 1",
            '{"group": G}',
        ),
        (
            {**GOOD, "PICYCLE_OIDC_MEMBERSHIPS": json.dumps({"boss": [{"role": "owner"}]})},
            "'boss', grant 1",
            "admin or auditor",
        ),
        (
            {
                **GOOD,
                "PICYCLE_OIDC_MEMBERSHIPS": json.dumps(
                    {"planning": [{"group": "Team", "unit": "Planning"}]}
                ),
            },
            "'planning', grant 1",
            "list of unit names",
        ),
        (
            {**GOOD, "PICYCLE_OIDC_CLIENT_SECRET": "s", "PICYCLE_OIDC_CLIENT_SECRET_FILE": "f"},
            "PICYCLE_OIDC_CLIENT_SECRET_FILE",
            "not both",
        ),
        (
            {**GOOD, "PICYCLE_OIDC_CLIENT_SECRET_FILE": "/nonexistent/secret"},
            "PICYCLE_OIDC_CLIENT_SECRET_FILE",
            "cannot read",
        ),
        ({"PICYCLE_PASSWORD_SIGN_IN": "false"}, "PICYCLE_PASSWORD_SIGN_IN", "nobody"),
    ],
)
def test_a_wrong_setting_stops_the_start_naming_it(offline_engine, config, named, why):
    with pytest.raises(ConfigurationError) as refused:
        _start(offline_engine, **config)
    assert named in str(refused.value) and why in str(refused.value)


def test_the_settings_come_from_the_environment_of_serve(offline_engine, monkeypatch):
    monkeypatch.setenv("PICYCLE_OIDC_CLIENT_ID", "picycle")
    with pytest.raises(ConfigurationError, match="PICYCLE_OIDC_CLIENT_ID is set but"):
        make_app(offline_engine)


def test_the_secret_and_the_mapping_may_come_from_files(offline_engine, tmp_path):
    secret, mapping = tmp_path / "secret", tmp_path / "memberships.json"
    secret.write_text("  the secret\n")
    mapping.write_text(json.dumps({"pi": [{"group": "PI Unit"}]}))
    app = _start(
        offline_engine,
        **GOOD,
        PICYCLE_OIDC_CLIENT_SECRET_FILE=str(secret),
        PICYCLE_OIDC_MEMBERSHIPS_FILE=str(mapping),
    )
    provider = app.extensions["picycle_pages"].single_sign_on
    assert provider.client.client_secret == "the secret"
    assert provider.mapping.grants["pi"][0].group == "PI Unit"
    assert provider.display_name == "login.example.org"


def test_without_password_sign_in_only_the_provider_is_offered(driver, provider, passwords):
    passwords("pia")
    app = _start(
        driver.engine,
        PICYCLE_SECURE_COOKIES=False,
        PICYCLE_PASSWORD_SIGN_IN="false",
        **settings(provider),
    )
    visitor = Browser(app.test_client())
    page = text_of(visitor.get("/sign-in"))
    assert "Sign in with \u2068Test IdP\u2069" in page and 'name="password"' not in page
    assert visitor.post("/sign-in", {"name": "pia", "password": "x" * 12}).status_code == 404
    assert sign_in_through(visitor).status_code == 302


def _press_the_button(driver, provider, issuer: str):
    """The sign-in button pressed on an app whose issuer setting is ``issuer``."""
    app = _start(
        driver.engine,
        PICYCLE_SECURE_COOKIES=False,
        **settings(provider, PICYCLE_OIDC_ISSUER=issuer),
    )
    visitor = Browser(app.test_client())
    visitor.get("/sign-in")
    return visitor.post("/sign-in/sso")


def test_a_provider_that_does_not_answer_is_said_so(driver, provider):
    response = _press_the_button(driver, provider, "http://127.0.0.1:9")
    assert response.status_code == 502
    assert "Signing in with Test IdP did not work." in text_of(response)
    assert "ConnectionError" in driver.events()[-1].data["reason"]


def test_a_discovery_document_naming_another_issuer_is_not_believed(driver, provider):
    issuer = provider.issuer.replace("127.0.0.1", "localhost")
    assert _press_the_button(driver, provider, issuer).status_code == 502
    assert "names the issuer" in driver.events()[-1].data["reason"]


def test_serve_stops_before_any_process_starts_naming_the_wrong_setting(tmp_path):
    result = CliRunner().invoke(
        main,
        ["serve", "--processes", "2", "--port", "0"],
        env={
            "PICYCLE_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
            "PICYCLE_OIDC_ISSUER": "https://login.example.org",
        },
    )
    assert result.exit_code == 1
    assert "error: PICYCLE_OIDC_CLIENT_ID must be set with PICYCLE_OIDC_ISSUER" in result.output
