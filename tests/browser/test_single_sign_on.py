"""Signing in through the organisation's identity provider in Chromium: the sign-in page
with its single sign-on button (in English and Arabic, checked with axe-core and saved as
a screenshot), the round trip through the test provider, and the inbox of the user the
provider made; their membership comes from the provider's claim. Signing out goes on to
the provider's end-session endpoint (the page's policy lets the form go there) and back
to the sign-in page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from picycle.api import create_app
from picycle.api.serve import create_server

from tests.api.conftest import running
from tests.browser.test_cycle_walk import DESKTOP, catalog
from tests.pages.sso import settings

pytestmark = pytest.mark.browser


@pytest.fixture
def live_sso(driver, provider) -> Iterator[str]:
    """The app served over http with single sign-on through the test provider."""
    app = create_app(
        {
            "PICYCLE_ENGINE": driver.engine,
            "SECRET_KEY": "a secret for the tests only",
            "PICYCLE_SECURE_COOKIES": False,
            **settings(provider),
        }
    )
    with running(create_server(app, port=0, threads=4)) as port:
        live = f"http://127.0.0.1:{port}"
        provider.reset([f"{live}/sign-in/sso/callback"])
        provider.user = {"sub": "subject-sami", "preferred_username": "sami", "groups": ["pi"]}
        yield live


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("language", ["en", "ar"])
def test_signing_in_and_out_through_the_provider(chromium, live_sso, provider, camera, language):
    shots = camera(f"sso-{language}")
    page = chromium.new_context(base_url=live_sso, viewport=DESKTOP).new_page()
    shots.watch(page)
    page.goto("/sign-in")
    page.select_option("#language", language)
    page.click("form:has(#language) button")
    button = page.locator("#single-sign-on")
    expected = catalog(language).get("Sign in with %(provider)s") or "Sign in with %(provider)s"
    assert button.inner_text() == expected % {"provider": "\u2068Test IdP\u2069"}
    shots.look(page, "sign-in")
    button.focus()  # reachable and pressed from the keyboard
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_sso}/")
    assert page.locator(".who").inner_text() == "sami"
    assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "ar" else "ltr")
    shots.look(page, "inbox")
    page.click("form[action='/sign-out'] button")
    page.wait_for_url(f"{live_sso}/sign-in?state=*")
    assert [asked["post_logout_redirect_uri"] for asked in provider.ended] == [
        f"{live_sso}/sign-in"
    ]
    assert page.locator("#single-sign-on").is_visible()
