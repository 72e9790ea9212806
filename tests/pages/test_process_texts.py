"""The process's own texts (task names, instructions, form titles, field labels and
choices) on the inbox, task and cycle pages in the reader's language, English where the
catalog of the cycle's version lacks one."""

from __future__ import annotations

import re

from tests.pages.conftest import text_of


def in_language(browser, name: str, language: str):
    reader = browser(name)
    reader.post("/language", {"language": language, "next": "/"})
    return reader


def test_the_inbox_names_tasks_in_the_readers_language(browser, driver):
    driver.start()
    assert "Prestaties beoordelen" in text_of(in_language(browser, "pia", "nl").get("/"))
    assert "تقييم الأداء" in text_of(in_language(browser, "pia", "ar").get("/"))
    assert "Assess performance" in text_of(in_language(browser, "pia", "en").get("/"))


def test_the_task_page_shows_the_form_in_arabic(browser, driver):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    task = driver.task(cycle_id, "identify_gaps")
    page = text_of(in_language(browser, "dana", "ar").get(f"/tasks/{task.id}"))
    assert "<h1>تحديد الفجوات</h1>" in page
    assert "حُسبت الفجوة بين خط الأساس والمستهدف لكل مؤشر" in page  # the instructions
    assert re.search(r'<label for="f-gaps-0-cause_category">فئة السبب', page)
    assert '<option value="incentives" >الحوافز</option>' in page  # value kept, label shown
    assert '<span class="value">الأعلى أفضل</span>' in page  # a read-only choice
    assert "Identify gaps" not in page and "Cause category" not in page


def test_english_readers_see_the_choices_english_labels(browser, driver):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    task = driver.task(cycle_id, "identify_gaps")
    page = text_of(in_language(browser, "dana", "en").get(f"/tasks/{task.id}"))
    assert '<option value="tools_resources" >tools and resources</option>' in page


def test_what_a_form_shows_for_information_reads_in_the_readers_language(browser, driver):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    task = driver.task(cycle_id, "design_microprojects")
    page = text_of(in_language(browser, "dana", "nl").get(f"/tasks/{task.id}"))
    shown = page[page.index('id="context-heading"') : page.index('id="form-heading"')]
    assert "<h3>Knelpunten</h3>" in shown
    assert '<th scope="col">Nulmeting</th>' in shown
    assert "hoger is beter" in shown and "increase" not in shown


def test_a_computed_task_title_is_translated_by_the_catalogs_pattern(browser, driver, clock):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, clock.now.date())
    driver.approve(cycle_id)
    page = text_of(in_language(browser, "dana", "ar").get("/"))
    assert "تنفيذ: Digital permit intake" in page  # the microproject's own title as written
    assert "Implement: Digital permit intake" not in page


def test_the_cycle_page_names_the_recorded_choices_in_the_readers_language(browser, driver, clock):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    page = text_of(in_language(browser, "dana", "nl").get(f"/cycles/{cycle_id}"))
    gaps = page[page.index('id="gaps-heading"') :]
    gaps = gaps[: gaps.index("</table>")]
    assert "<td>hoog</td>" in gaps and "(middelen)" in gaps  # priority and cause category
    assert "<td>high</td>" not in gaps and "tools_resources" not in gaps
