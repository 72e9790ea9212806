"""The cycle page's diagram: the BPMN file of the cycle's version, served to those who may
see the cycle; the marks of where it stands, from its path; the vendored viewer and the
text alternative on the page, in every language."""

from __future__ import annotations

import re

from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import shipped_processes
from picycle.engine.services import users

from tests.pages.conftest import text_of
from tests.support import ensure_unit

VIEWER = "/assets/vendor/bpmn-js/bpmn-viewer.production.min.js"


def shipped_diagram() -> str:
    return (shipped_processes() / "pi_cycle.bpmn").read_text(encoding="utf-8")


def sent_back(driver, clock) -> int:
    """A cycle whose design leadership sent back: designing again."""
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, clock.now.date())
    driver.approve(cycle_id, approved=False, comment="Too big")
    return cycle_id


def test_the_diagram_is_the_bpmn_file_of_the_cycles_version(browser, driver):
    cycle_id = driver.start()
    for reader in ("pia", "lena", "audrey"):  # lena sees the cycle, takes no part yet
        response = browser(reader).get(f"/cycles/{cycle_id}/diagram")
        assert response.status_code == 200
        assert response.mimetype == "application/xml"
        assert text_of(response) == shipped_diagram()
        # A model is the deployer's text: opened on its own, nothing in it runs.
        assert "sandbox" in response.headers["Content-Security-Policy"]
    again = browser("pia").get(
        f"/cycles/{cycle_id}/diagram", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


def test_no_diagram_nor_marks_beyond_the_cycles_unit(browser, driver):
    cycle_id = driver.start()
    roads = ensure_unit(driver.engine, "Roads")
    with driver.engine.unit_of_work() as uow:
        users.add_user(uow, SYSTEM, "zoe", "member", [], [("Department Team", roads)])
    zoe = browser("zoe")
    for path in ("", "/diagram", "/marks"):
        assert zoe.get(f"/cycles/{cycle_id}{path}").status_code == 404
        assert browser("pia").get(f"/cycles/4242{path}").status_code == 404
    assert browser("pia").get(f"/cycles/{cycle_id}/diagram").status_code == 200


def test_the_marks_follow_the_cycle(browser, driver, clock):
    cycle_id = sent_back(driver, clock)
    marks = browser("dana").get(f"/cycles/{cycle_id}/marks").get_json()
    assert marks["current"] == ["design_microprojects"]  # done once, and at it again
    assert {"assess_performance", "identify_gaps", "leadership_approval"} <= set(marks["done"])
    assert "design_microprojects" not in marks["done"]
    assert "implement_microproject" not in marks["done"] + marks["current"]
    assert ["design_approved", "design"] in marks["flows"]  # the way back to design

    driver.design(cycle_id, clock.now.date())
    driver.approve(cycle_id)
    marks = browser("dana").get(f"/cycles/{cycle_id}/marks").get_json()
    # Two microprojects under way (in the subprocesses that hold them), and the timer that
    # waits for their due date.
    assert {"implement_microprojects", "implement_microproject", "microproject_overdue"} <= set(
        marks["current"]
    )
    assert "design_microprojects" in marks["done"]


def test_marks_are_read_as_the_history_is(browser, driver):
    cycle_id = driver.start()
    assert browser("lena").get(f"/cycles/{cycle_id}/marks").status_code == 403
    assert browser("audrey").get(f"/cycles/{cycle_id}/marks").get_json()["current"] == [
        "assess_performance"
    ]


def test_the_cycle_page_loads_the_viewer_and_says_the_same_in_text(browser, driver, clock):
    cycle_id = sent_back(driver, clock)
    page = text_of(browser("dana").get(f"/cycles/{cycle_id}"))
    assert f'<script src="{VIEWER}" defer></script>' in page
    assert '<script src="/assets/diagram.js" defer></script>' in page
    assert '<link rel="stylesheet" href="/assets/vendor/bpmn-js/diagram-js.css">' in page
    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == []  # no inline script
    assert f'data-xml="/cycles/{cycle_id}/diagram"' in page
    assert f'data-marks="/cycles/{cycle_id}/marks"' in page
    current = section(page, "steps-current")
    assert steps(current) == ["Design microprojects"]
    # Only what a person recognises, each time it was done: no gateways, no scripts.
    assert steps(section(page, "steps-done")) == [
        "Cycle started",
        "Assess performance",
        "Identify gaps",
        "Design microprojects",
        "Leadership approval",
    ]


def test_steps_done_carry_the_historys_times_and_people(browser, driver, clock):
    cycle_id = driver.start()
    clock.advance(days=2)
    driver.assess(cycle_id)
    page = text_of(browser("audrey").get(f"/cycles/{cycle_id}"))
    done = section(page, "steps-done")
    times = re.findall(r'<time datetime="([^"]+)">', done)
    history = driver.events(cycle_id)
    started = next(e for e in history if e.type == "cycle_started")
    assessed = next(e for e in history if e.type == "task_completed")
    assert times == [started.at.isoformat(), assessed.at.isoformat()]
    assert "· <bdi>pia</bdi> ·" in done


def test_the_diagram_stays_left_to_right_on_arabic_pages(browser, driver, clock):
    cycle_id = sent_back(driver, clock)
    page = text_of(browser("dana").get(f"/cycles/{cycle_id}", headers={"Accept-Language": "ar"}))
    assert '<html lang="ar" dir="rtl">' in page
    assert re.search(r'<div class="diagram" dir="ltr"', page)
    assert "أين وصلت الدورة" in page and "الخطوات المنجزة" in page
    # The process's own texts, from the catalog its version was deployed with.
    assert steps(section(page, "steps-current")) == ["تصميم المشاريع الصغيرة"]
    assert steps(section(page, "steps-done"))[:2] == ["بدأت الدورة", "تقييم الأداء"]
    assert "Design microprojects" not in page


def test_no_viewer_for_whom_the_path_is_not_for(browser, driver):
    cycle_id = driver.start()
    page = text_of(browser("lena").get(f"/cycles/{cycle_id}"))
    assert "bpmn-js" not in page and "steps-done" not in page


def test_the_assets_the_page_references_are_served(browser, driver):
    cycle_id = driver.start()
    reader = browser("pia")
    page = text_of(reader.get(f"/cycles/{cycle_id}"))
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page)
    assert VIEWER in assets and len(assets) == 6
    for asset in assets:
        response = reader.get(asset)
        assert response.status_code == 200, asset
        response.close()


def section(page: str, heading_id: str) -> str:
    start = page.index(f'id="{heading_id}"')
    return page[start : page.index("</div>", start)]


def steps(html: str) -> list[str]:
    """The steps a list names, in the page's language or (untranslated) in English."""
    return re.findall(
        r'<li[^>]*>(?:<bdi>)?(?:<span lang="en" dir="ltr">)?([^<·]+?)(?:</span>)?(?:</bdi>)?'
        r"(?: ·|</li>)",
        html,
    )
