"""The inbox page (only what the user may work, counts per scope, filters, sorting,
paging, due-date badges) and the cycle pages (records, open tasks, history for those
allowed)."""

from __future__ import annotations

import re

from picycle.engine.vocabulary import EventType
from picycle.pages.event_names import event_names
from picycle.pages.views import inbox

from tests.pages.conftest import text_of

TITLE = re.compile(r'<a class="title" href="/tasks/[^"]+">([^<]+)</a>')


def titles(page: str) -> list[str]:
    return TITLE.findall(page)


def counts(page: str) -> list[str]:
    return re.findall(r'<span class="count">([^<]+)</span>', page)


def implementing(driver, clock) -> int:
    """A cycle whose two microprojects (dana's and omar's) are being implemented, due in
    30 days."""
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, clock.now.date())
    driver.approve(cycle_id)
    return cycle_id


def test_the_inbox_lists_only_what_the_user_may_work(browser, driver):
    driver.start()
    assert titles(text_of(browser("pia").get("/"))) == ["Assess performance"]
    for other in ("dana", "lena", "audrey"):
        assert titles(text_of(browser(other).get("/"))) == []
    assert titles(text_of(browser("dana").get("/?scope=all"))) == []  # members: their own
    assert titles(text_of(browser("audrey").get("/?scope=all"))) == ["Assess performance"]


def test_a_card_names_the_unit_and_the_units_own_cycle_number(browser, driver):
    driver.start()  # the Directorate of Planning's cycle 1, cycle #1 of all
    driver.start(unit="Directorate of Finance")  # Finance's cycle 1, cycle #2 of all
    page = text_of(browser("pia").get("/"))
    cards = re.findall(r"<li>.*?</li>", page, re.S)
    finance = next(card for card in cards if "Directorate of Finance" in card)
    assert "Cycle 1 of the unit" in finance
    assert "Cycle #2" not in finance


def test_counts_per_scope(browser, driver, clock):
    implementing(driver, clock)
    dana = text_of(browser("dana").get("/"))
    assert titles(dana) == ["Implement: Digital permit intake"]
    assert counts(dana) == ["1", "0"]  # her own; none left open to her whole group
    ada = text_of(browser("ada").get("/"))
    assert counts(ada) == ["0", "0", "2"]
    # Each tab says what it holds: the first holds the second.
    assert "The tasks you hold, those assigned to you, and those waiting" in dana
    groups = text_of(browser("dana").get("/?scope=groups", headers={"Accept-Language": "nl"}))
    assert "De taken die wachten tot iemand uit een van uw groepen ze oppakt" in groups


def test_badges_filters_and_sorting(browser, driver, clock):
    implementing(driver, clock)
    dana = browser("dana")
    assert "badge" not in text_of(dana.get("/"))
    clock.advance(days=28)
    assert '<span class="badge soon">Due soon</span>' in text_of(dana.get("/"))
    clock.advance(days=3)
    page = text_of(dana.get("/?overdue=1&sort=created"))
    assert '<span class="badge overdue">Overdue</span>' in page
    assert titles(page) == ["Implement: Digital permit intake"]
    assert titles(text_of(dana.get("/?cycle=999"))) == []


def test_paging(browser, driver, monkeypatch):
    monkeypatch.setattr(inbox, "PAGE_SIZE", 2)
    for unit in ("Unit A", "Unit B", "Unit C"):
        driver.start(unit=unit)
    pia = browser("pia")
    first, second = text_of(pia.get("/?sort=created")), text_of(pia.get("/?sort=created&page=2"))
    assert (len(titles(first)), len(titles(second))) == (2, 1)
    assert "Page 1 of 2" in first and 'rel="next"' in first
    assert "Page 2 of 2" in second and 'rel="prev"' in second
    assert counts(first) == ["3", "3"]
    assert titles(text_of(pia.get("/?page=junk&scope=nonsense&sort=evil"))) == titles(first)


def test_the_cycle_page_shows_what_the_cycle_recorded(browser, driver, clock):
    cycle_id = implementing(driver, clock)
    page = text_of(browser("dana").get(f"/cycles/{cycle_id}"))
    assert "Permits issued within 30 days" in page
    assert re.search(r"<td>55</td><td>80</td><td>–</td>", page)
    microprojects = page[page.index('id="microprojects-heading"') :]
    assert microprojects.index("Digital permit intake") < microprojects.index("Complaint triage")
    assert "<td>dana</td>" in microprojects and "in progress" in microprojects
    assert "Implement: Complaint triage desk" in page  # open tasks
    assert "History" in page and "Task completed" in page  # dana took part


def test_names_and_units_entered_in_latin_stay_whole_in_arabic(browser, driver, clock):
    cycle_id = implementing(driver, clock)
    reader = browser("dana")
    reader.post("/language", {"language": "ar", "next": "/"})
    page = text_of(reader.get(f"/cycles/{cycle_id}"))
    # Isolated, "(%)" stays after the name and "25 %" stays in its order.
    assert '<bdi>Permits issued within 30 days</bdi> <span class="unit">(<bdi>%</bdi>)' in page
    assert re.search(r"<td><bdi>[0-9.]+ cases</bdi></td>", page)


def test_history_is_for_those_taking_part_and_auditors(browser, driver):
    cycle_id = driver.start(by="ada")
    assert "History" not in text_of(browser("lena").get(f"/cycles/{cycle_id}"))
    assert "Cycle started" in text_of(browser("audrey").get(f"/cycles/{cycle_id}"))
    # The PI unit has not acted yet, but the first task is theirs to take.
    assert "Cycle started" in text_of(browser("pia").get(f"/cycles/{cycle_id}"))


def test_the_cycle_list(browser, driver):
    driver.start(unit="Unit A", title="Faster permits")
    page = text_of(browser("lena").get("/cycles", headers={"Accept-Language": "nl"}))
    assert "Faster permits" in page and "Lopend" in page


def test_every_kind_of_event_has_a_name_in_every_language(app):
    for language in ("en", "nl", "ar"):
        with app.test_request_context(headers={"Accept-Language": language}):
            names = event_names()
            assert set(names) == set(EventType)
            assert len(set(names.values())) == len(EventType)


def test_the_history_names_events_in_the_readers_language(browser, driver):
    cycle_id = driver.start()
    audrey = browser("audrey")
    audrey.post("/language", {"language": "nl", "next": "/"})
    page = text_of(audrey.get(f"/cycles/{cycle_id}"))
    history = page[page.index('id="history-heading"') :]
    assert "Cyclus gestart" in history and "Taak aangemaakt" in history
    assert "cycle_started" not in history and "task created" not in history
