"""The admin pages in a real browser, in English and in Arabic: ada compares the previous
PI cycle with the shipped one on both diagrams, moves a running cycle onto the shipped
one, issues a token, revokes one and then all, and deactivates a user. Every page is
checked with axe-core and must fit a 360-pixel-wide phone screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle
from picycle.engine.services import definitions, users

from tests.browser.pairs import EACH_DATABASE_IN_A_LANGUAGE
from tests.browser.test_cycle_walk import Person, catalog
from tests.pages.conftest import PASSWORD

pytestmark = pytest.mark.browser

PREVIOUS_MODEL = Path(__file__).parents[1] / "data" / "pi_cycle_v1"


def marked(page, marker: str) -> list[str]:
    return page.evaluate(
        """(marker) => [...document.querySelectorAll(`.diagram .djs-shape.${marker}`)]
            .map((shape) => [shape.closest(".diagram").dataset.xml, shape.dataset.elementId])""",
        marker,
    )


@EACH_DATABASE_IN_A_LANGUAGE
def test_an_admin_compares_migrates_and_manages_people(chromium, live, camera, driver, language):
    with driver.engine.unit_of_work() as uow:
        definitions.deploy(uow, SYSTEM, read_bundle(PREVIOUS_MODEL))  # version 2
    cycle_id = driver.start()
    with driver.engine.unit_of_work() as uow:
        users.set_password(uow, SYSTEM, "ada", PASSWORD)
    words = catalog(language)
    say = lambda text: words.get(text) or text  # noqa: E731
    ada = Person(chromium, live, camera(f"admin-{language}"), "ada", language)
    ada.sign_in()
    page = ada.page

    page.click("nav a[href='/models']")
    ada.look("models")
    page.click("a[href='/models/pi_cycle/diff?from=1&to=2']")
    page.wait_for_selector(".diagram[data-xml$='/1/diagram'] .djs-container svg")
    page.wait_for_selector(".diagram[data-xml$='/2/diagram'] .djs-container svg")
    # The shipped version 1 plans the next cycle; the previous model (2) does not.
    assert ["/models/pi_cycle/versions/1/diagram", "plan_next_cycle"] in marked(
        page, "picycle-removed"
    )
    assert page.locator("tr.change-removed[data-element='plan_next_cycle']").count() == 1
    assert page.evaluate("getComputedStyle(document.querySelector('.diagram')).direction") == "ltr"
    ada.look("diff")
    assert ada.fits(360)

    page.goto("/models/pi_cycle/migrate")
    page.select_option("#target", "1")
    page.click("form[method='get'] button")
    ada.look("migrate")
    assert ada.fits(360)
    page.check(f"#cycle-{cycle_id}")
    page.click("form[method='post'] button.primary")
    page.wait_for_selector("#done-heading")
    ada.look("migrated")
    assert driver.cycle(cycle_id).version == 1

    page.click("nav a[href='/admin/users']")
    ada.look("users")
    assert ada.fits(360)
    page.click("a[href='/admin/users/dana']")
    ada.look("user")
    page.click("form[action$='/dana/tokens'] button")
    token = page.text_content("#new-token")
    assert token and token.startswith("pic_")
    ada.look("token-issued")
    assert ada.fits(360)
    with driver.engine.unit_of_work(write=False) as uow:
        _, first = users.list_tokens(uow, SYSTEM, "dana")
    page.click(f"form[action$='/dana/tokens/{first.id}/revoke'] button")
    revoked_one = say("Token #%(id)s is revoked; the other tokens keep working.")
    assert revoked_one.replace("%(id)s", str(first.id)) in page.text_content(".flash")
    with driver.engine.unit_of_work(write=False) as uow:
        assert users.authenticate(uow, token).name == "dana"
    ada.look("token-revoked")
    assert ada.fits(360)
    page.click("form[action$='/dana/tokens/revoke'] button")
    assert say("Tokens revoked: %(count)s.").replace("%(count)s", "1") in page.text_content(
        ".flash"
    )
    with driver.engine.unit_of_work(write=False) as uow:
        assert users.authenticate(uow, token) is None
    page.click("form[action$='/dana/active'] button")
    assert page.text_content(".flash") == say("The user is deactivated.")
    ada.look("deactivated")

    page.click("nav a[href='/admin/units']")
    ada.look("units")
    assert ada.fits(360)
    page.locator("ul.tree a").first.click()
    ada.look("unit")
    assert ada.fits(360)
