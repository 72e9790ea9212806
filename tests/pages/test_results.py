"""The results pages: a unit's indicators as charts with their tables, the overview with
quiet units flagged, CSV downloads, and who may see them."""

from __future__ import annotations

import html
import json
import re

from picycle.engine.actors import SYSTEM
from picycle.engine.services import units, users

from tests.cycles_over_time import work_cycle
from tests.pages.conftest import text_of
from tests.support import UNIT


def unit_id(driver, name: str = UNIT) -> int:
    with driver.engine.unit_of_work(write=False) as uow:
        return units.find_unit(uow, name).id


def charts(page: str) -> list[dict]:
    return [json.loads(html.unescape(found)) for found in re.findall(r"data-chart='([^']+)'", page)]


def test_a_units_indicators_are_charted_with_a_table_of_the_same_figures(browser, driver, clock):
    work_cycle(driver, clock, actuals=(70, 90))
    work_cycle(driver, clock, permits=(70, 80), backlog=(90, 60))
    response = browser("pia").get(f"/units/{unit_id(driver)}/results")
    page = text_of(response)

    assert response.status_code == 200
    permits = charts(page)[0]
    assert permits["labels"] == ["Cycle 1", "Cycle 2"]
    assert [s["values"] for s in permits["series"]] == [[55, 70], [80, 80], [70, 82]]
    assert "<caption>\u2068Permits issued within 30 days\u2069, cycle after cycle</caption>" in page
    assert "vendor/chart.js/chart.umd.min.js" in page and "results.js" in page
    assert "<script>" not in page  # the strict CSP runs no inline script
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "Time spent in each step" in page and "Assess performance" in page


def test_the_page_speaks_the_users_language(browser, driver, clock):
    work_cycle(driver, clock)
    page = text_of(
        browser("pia").get(f"/units/{unit_id(driver)}/results", headers={"Accept-Language": "nl"})
    )
    assert charts(page)[0]["labels"] == ["Cyclus 1"]
    assert "Tijd per stap" in page
    steps = page[page.index('id="phases-heading"') :]
    assert "Prestaties beoordelen" in steps and "Assess performance" not in steps


def test_a_member_of_another_unit_is_told_she_may_not_see_its_results(browser, driver, clock):
    work_cycle(driver, clock)
    finance = unit_id(driver, "Directorate of Finance")
    with driver.engine.unit_of_work() as uow:
        users.add_user(uow, SYSTEM, "fred", "member", [], [("Department Team", finance)])
    fred = browser("fred")
    refused = fred.get(f"/units/{unit_id(driver)}/results")
    assert refused.status_code == 403
    assert f"None of your groups is in unit {UNIT} or a unit above it." in text_of(refused)
    assert fred.get(f"/units/{unit_id(driver)}/results.csv").status_code == 403
    overview = text_of(fred.get("/results"))
    assert "Directorate of Finance" in overview and UNIT not in overview


def test_the_overview_flags_quiet_units_and_downloads_as_csv(browser, driver, clock):
    work_cycle(driver, clock)
    clock.advance(days=200)
    pia = browser("pia")
    page = text_of(pia.get("/results"))
    quiet = re.findall(r'<tr class="quiet">\s*<th[^>]*><a href="[^"]+">([^<]+)</a>', page)
    assert quiet == [UNIT]
    assert 'class="quiet"' not in text_of(pia.get("/results?quiet_days=365"))

    download = pia.get("/results.csv?quiet_days=365")
    assert download.mimetype == "text/csv"
    assert "attachment; filename=results-overview-" in download.headers["Content-Disposition"]
    assert text_of(download).splitlines()[0].startswith("unit_id,unit,path,")
