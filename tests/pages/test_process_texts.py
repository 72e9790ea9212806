"""The process's own texts (task names, instructions, form titles, field labels and
choices) on the inbox, task and cycle pages in the reader's language, English where the
catalog of the cycle's version lacks one."""

from __future__ import annotations

import json
import re
from pathlib import Path

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


def test_english_help_texts_name_the_choices_by_their_labels(browser, driver):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    task = driver.task(cycle_id, "identify_gaps")
    page = text_of(in_language(browser, "dana", "en").get(f"/tasks/{task.id}"))
    cause = re.search(r'<p class="hint" id="f-gaps-0-cause_category-hint">([^<]*)</p>', page)
    assert cause and "Expectations and feedback: people do not know" in cause[1]
    assert "Tools and resources:" in cause[1] and "tools_resources" not in cause[1]
    assess = driver.task(driver.start(unit="Permits"), "assess_performance")
    page = text_of(in_language(browser, "pia", "en").get(f"/tasks/{assess.id}"))
    direction = re.search(r'<p class="hint" id="f-indicators-0-direction-hint">([^<]*)</p>', page)
    assert direction and "Higher is better" in direction[1] and "increase" not in direction[1]


def test_no_shipped_form_explains_a_choice_by_its_stored_value():
    processes = Path(__file__).resolve().parents[2] / "processes"
    labels = json.loads((processes / "translations" / "en.json").read_text(encoding="utf-8"))
    coded = {value for value, label in labels.items() if value != label}

    def fields(schema):
        for field in (schema.get("properties") or {}).values():
            yield field
            yield from fields(field)
            yield from fields(field.get("items") or {})

    for form in sorted((processes / "forms").glob("*.schema.json")):
        for field in fields(json.loads(form.read_text(encoding="utf-8"))):
            shown_as_code = {
                value
                for value in field.get("enum", [])
                if value in coded and re.search(rf"\b{value}\b", field.get("description", ""))
            }
            assert not shown_as_code, (form.name, field.get("title"), shown_as_code)
