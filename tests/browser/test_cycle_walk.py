"""A whole cycle worked through the pages in a real browser, once in English and once in
Arabic: the PI unit (pia), two department team members (dana, omar) and leadership (lena),
each in a browser of their own, every task named in their language. The PI unit starts the
cycle from the unit's page, seeing what it starts with. On the way: a microproject too big
for its due date,
refused beside the field; a design sent back by leadership and redesigned; a microproject
that runs late, escalated by the timer worker to the PI unit; the next cycle planned, and
started by the timer worker. Every page is checked with
axe-core; the inbox and a task form must fit a 360-pixel-wide phone screen."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from babel.messages.pofile import read_po
from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import shipped_processes
from picycle.engine.services import timers, users
from picycle.engine.texts import parse_catalog
from picycle.pages.i18n import TRANSLATIONS

from tests.pages.conftest import PASSWORD
from tests.support import UNIT, ensure_unit

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def catalog(language: str) -> dict[str, str]:
    """msgid -> the language's text (English: itself)."""
    if language == "en":
        return {}
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return {m.id: m.string for m in read_po(po) if isinstance(m.id, str)}


def process_text(language: str, text: str) -> str:
    """A text of the shipped process in the language (English: itself)."""
    catalog = shipped_processes() / "translations" / f"{language}.json"
    if language == "en":
        return text
    return parse_catalog(catalog.read_text(encoding="utf-8")).translate(text) or text


class Person:
    """One user in a browser context of their own, looking at pages through the camera."""

    def __init__(self, chromium, live: str, camera, name: str, language: str):
        self.name = name
        self.language = language
        self.camera = camera
        self.page = chromium.new_context(base_url=live, viewport=DESKTOP).new_page()
        camera.watch(self.page)

    def look(self, what: str) -> None:
        self.camera.look(self.page, f"{self.name}-{what}")

    def sign_in(self) -> None:
        page = self.page
        page.goto("/sign-in")
        page.select_option("#language", self.language)
        page.click("form:has(#language) button")
        self.look("sign-in")
        page.fill("#name", self.name)
        page.fill("#password", PASSWORD)
        page.click("main form button.primary")
        self.look("inbox")

    def open_task(self, title: str, scope: str = "mine") -> None:
        """The task called ``title`` in English, named in the person's language."""
        self.page.goto(f"/?scope={scope}")
        self.look(f"inbox-{scope}")
        self.page.locator("a.title", has_text=process_text(self.language, title)).click()
        self.look("task")

    def claim(self) -> None:
        """Completing claims a task too; claiming first keeps others off it meanwhile."""
        self.page.click("form[action$='/claim'] button")
        self.look("task-claimed")

    def fill(self, fields: dict[str, str]) -> None:
        for name, value in fields.items():
            field = self.page.locator(f"[name='{name}']")
            if field.evaluate("e => e.tagName") == "SELECT":
                field.select_option(value)
            elif field.get_attribute("type") == "checkbox":
                field.set_checked(value == "true")
            else:
                field.fill(value)

    def add_row(self, rows: str) -> None:
        self.page.click(f"button[name='add_row'][value='{rows}']")

    def submit(self, what: str) -> None:
        self.page.click("form[novalidate] button.primary")
        self.look(what)

    def error_beside(self, path: str) -> str:
        field_id = "f-" + path.replace(".", "-")
        return self.page.locator(f".field:has(#{field_id}) .error").inner_text()

    def fits(self, width: int) -> bool:
        """No horizontal scrolling at this viewport width."""
        self.page.set_viewport_size({**PHONE, "width": width})
        scroll_width = self.page.evaluate("document.scrollingElement.scrollWidth")
        self.look(f"{width}px")
        self.page.set_viewport_size(DESKTOP)
        return scroll_width <= width


def indicator_rows() -> dict[str, str]:
    rows = [
        ("permits", "Permits issued within 30 days", "%", "increase", "55", "80"),
        ("complaints", "Open complaints", "cases", "decrease", "120", "60"),
    ]
    keys = ("key", "name", "unit", "direction", "baseline", "target")
    return {
        f"indicators.{n}.{key}": value
        for n, row in enumerate(rows)
        for key, value in zip(keys, row, strict=True)
    }


def microproject(n: int, title: str, gap: str, owner: str, due: date) -> dict[str, str]:
    return {
        f"microprojects.{n}.title": title,
        f"microprojects.{n}.gap": gap,
        f"microprojects.{n}.owner": owner,
        f"microprojects.{n}.due": due.isoformat(),
        f"microprojects.{n}.deliverable": "Something people use",
    }


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_whole_cycle_through_the_pages(language, chromium, live, camera, driver, clock):
    names = ("pia", "dana", "omar", "lena")
    for name in names:
        with driver.engine.unit_of_work() as uow:
            users.set_password(uow, SYSTEM, name, PASSWORD)
    unit_id = ensure_unit(driver.engine, UNIT)
    shots = camera(language)
    pia, dana, omar, lena = (Person(chromium, live, shots, n, language) for n in names)
    today = clock().date()
    words = catalog(language)

    pia.sign_in()
    html = pia.page.locator("html")
    assert html.get_attribute("lang") == language
    assert html.get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    assert pia.page.locator("h1").inner_text() == words.get("Inbox", "Inbox")
    assert pia.fits(360)

    pia.page.click("nav a[href='/units']")
    pia.look("units")
    pia.page.click(f"a[href='/units/{unit_id}']")
    pia.look("unit")
    assert pia.fits(360)
    pia.page.fill("#title", "Faster permits")
    pia.page.click("form[action$='/cycles'] button.primary")
    pia.look("cycle-started")
    cycle_id = int(pia.page.url.rsplit("/", 1)[-1])
    assert driver.cycle(cycle_id).title == "Faster permits"

    pia.open_task("Assess performance")
    assert pia.fits(360)
    pia.claim()
    pia.add_row("indicators")
    pia.fill(indicator_rows())
    pia.submit("assessed")
    assert pia.page.locator(".flash").count() == 1

    dana.sign_in()
    dana.open_task("Identify gaps", scope="groups")
    for n, (category, cause) in enumerate(
        [("tools_resources", "Applications arrive on paper"), ("capacity", "Nobody triages")]
    ):
        dana.fill(
            {
                f"gaps.{n}.cause_category": category,
                f"gaps.{n}.cause": cause,
                f"gaps.{n}.impact": "5",
                f"gaps.{n}.effort": "2",
            }
        )
    dana.submit("gaps-identified")

    dana.open_task("Design microprojects", scope="groups")
    dana.fill(microproject(0, "Digitise everything", "permits", "dana", today + timedelta(365)))
    dana.submit("too-big")
    assert "90" in dana.error_beside("microprojects.0.due")
    focused = dana.page.evaluate("document.activeElement.className")
    assert focused == "error-summary"  # read out first, and Tab goes on to its links
    assert dana.page.locator("#context-heading").count() == 1  # the gaps, still shown
    too_big = "A microproject must finish within %(days)s days, by %(latest)s: split it into "
    too_big = words.get(too_big + "smaller ones.", too_big).split("%(")[0]
    assert dana.error_beside("microprojects.0.due").startswith(too_big)
    assert dana.page.locator("#f-microprojects-0-due").get_attribute("aria-invalid") == "true"
    soon, later = today + timedelta(14), today + timedelta(30)
    dana.fill(microproject(0, "Online permit intake", "permits", "dana", later))
    dana.add_row("microprojects")
    dana.fill(microproject(1, "Daily complaint triage", "complaints", "omar", soon))
    dana.submit("designed")

    lena.sign_in()
    lena.open_task("Leadership approval", scope="groups")
    lena.fill({"approved": "false", "comment": "Name who staffs the triage desk."})
    lena.submit("rejected")

    omar.sign_in()
    omar.open_task("Design microprojects", scope="groups")
    assert "Name who staffs the triage desk." in omar.page.locator("main").inner_text()
    omar.fill({"microprojects.1.deliverable": "A triage rota staffed by omar"})
    omar.submit("redesigned")

    lena.open_task("Leadership approval", scope="groups")
    lena.fill({"approved": "true", "comment": "Go ahead."})
    lena.submit("approved")

    dana.open_task("Implement: Online permit intake")
    dana.fill({"status": "done", "report": "Applications are accepted online."})
    dana.submit("implemented")

    clock.advance(days=15)  # the triage microproject is overdue now
    assert timers.fire_due_timers(driver.engine) == 1
    omar.page.goto("/")
    omar.look("inbox-overdue")
    assert omar.page.locator(".badge.overdue").count() == 1
    pia.open_task("Follow up overdue microproject: Daily complaint triage", scope="groups")
    pia.fill({"action_taken": "Asked omar for a date", "new_due": clock().date().isoformat()})
    pia.submit("followed-up")
    omar.open_task("Implement: Daily complaint triage")
    omar.fill({"status": "done", "report": "The rota runs daily."})
    omar.submit("implemented")

    pia.open_task("Evaluate results", scope="groups")
    pia.fill({"measurements.0.indicator": "permits", "measurements.0.actual": "84"})
    pia.add_row("measurements")
    pia.fill({"measurements.1.indicator": "complaints", "measurements.1.actual": "55"})
    pia.fill({"lessons_learned": "Start with the smallest change staff can own."})
    pia.submit("evaluated")

    lena.open_task("Institutionalise and share", scope="groups")
    lena.fill({"standardised_practices.0": "Online permit intake", "presented_to": "Everyone"})
    lena.submit("institutionalised")

    pia.open_task("Plan the next cycle", scope="groups")
    next_start = clock().date().isoformat()
    pia.fill({"next_cycle_start": next_start, "next_cycle_title": "Keep the gains"})
    pia.submit("next-cycle-planned")
    pia.page.goto(f"/cycles/{cycle_id}")
    pia.look("cycle-plan")  # the plan, with the forms that move it or call it off
    assert pia.page.input_value("#plan-title") == "Keep the gains"
    assert pia.fits(360)

    lena.page.goto(f"/cycles/{cycle_id}")
    lena.look("cycle")
    assert lena.page.locator(".badge.status-completed").count() == 1
    assert driver.cycle(cycle_id).status == "completed"
    timers.fire_due_timers(driver.engine)  # the next cycle starts on the planned day
    lena.page.goto("/cycles")
    lena.look("cycles")
    assert lena.page.locator("a.title", has_text="Keep the gains").count() == 1

    pia.page.goto(f"/units/{unit_id}")
    pia.look("unit-after")
    assert pia.page.locator("a.title", has_text="Keep the gains").count() == 1
    assert pia.page.locator(f"a[href='/cycles/{cycle_id}']").count() >= 1
    pia.page.goto(f"/cycles/{cycle_id}")
    pia.look("cycle-steps")
    done = pia.page.locator("ol[aria-labelledby='steps-done'] li").all_inner_texts()
    assert done[1].startswith(process_text(language, "Assess performance"))
