"""Working a task through its page: the form from the task's JSON Schema, rows added and
removed without script, the engine's 422 messages beside their fields with the entered
data kept, the 409 when someone else was first, comments; and hostile users."""

from __future__ import annotations

import re
from datetime import date

from tests.pages.conftest import text_of
from tests.support import INDICATORS


def assessment_form(indicators: list[dict]) -> dict[str, str]:
    form = {}
    for index, indicator in enumerate(indicators):
        for key, value in indicator.items():
            form[f"indicators.{index}.{key}"] = str(value)
    return form


def assessment(driver):
    cycle_id = driver.start()
    return cycle_id, driver.task(cycle_id, "assess_performance")


def test_a_whole_assessment_is_submitted_through_the_form(browser, driver):
    cycle_id, task = assessment(driver)
    pia = browser("pia")
    page = text_of(pia.get(f"/tasks/{task.id}"))
    assert 'name="indicators.0.key"' in page and 'name="indicators.1.key"' not in page
    added = pia.post(
        f"/tasks/{task.id}", {**assessment_form(INDICATORS[:1]), "add_row": "indicators"}
    )
    assert added.status_code == 200
    assert 'name="indicators.1.key"' in text_of(added)
    assert 'value="Permits issued within 30 days"' in text_of(added)  # what was entered stays
    done = pia.post(f"/tasks/{task.id}", assessment_form(INDICATORS))
    assert (done.status_code, done.location) == (302, "/")
    assert driver.cycle(cycle_id).records["indicators"] == INDICATORS  # numbers typed
    assert "Task completed." in text_of(pia.get("/"))


def test_a_row_is_removed_without_script(browser, driver):
    _, task = assessment(driver)
    pia = browser("pia")
    form = {**assessment_form(INDICATORS), "remove_row": "indicators.0"}
    page = text_of(pia.post(f"/tasks/{task.id}", form))
    assert 'value="Open complaints"' in page and "Permits issued" not in page
    assert 'name="indicators.1.key"' not in page
    assert driver.task_detail(task.id).state == "open"


def test_errors_appear_beside_their_fields_with_the_data_kept(browser, driver):
    cycle_id, task = assessment(driver)
    wrong = [{**INDICATORS[0], "target": "eighty", "key": "Permits"}, INDICATORS[1]]
    wrong[1] = {k: v for k, v in wrong[1].items() if k != "name"}
    response = browser("pia").post(f"/tasks/{task.id}", assessment_form(wrong))
    assert response.status_code == 422
    page = text_of(response)
    assert "Nothing was saved." in page

    def field_block(path: str) -> str:
        found = re.search(rf'<label for="f-{path}">.*?</div>', page, re.S)
        assert found, path
        return found.group(0)

    target = field_block("indicators-0-target")
    assert "Enter a number." in target and 'value="eighty"' in target
    assert 'aria-invalid="true"' in target
    assert (
        "This is not in the form this field takes: write it as the note above says."
        in field_block("indicators-0-key")
    )
    assert 'value="Permits"' in field_block("indicators-0-key")
    assert "This field is required." in field_block("indicators-1-name")
    assert driver.task_detail(task.id).state == "open"
    assert "indicators" not in driver.cycle(cycle_id).records


def test_gaps_are_analysed_with_their_read_only_parts_shown_and_sent_back(browser, driver):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    task = driver.task(cycle_id, "identify_gaps")
    dana = browser("dana")
    page = text_of(dana.get(f"/tasks/{task.id}"))
    assert 'name="gaps.0.indicator" value="permits"' in page
    assert 'name="add_row"' not in page  # the gaps come from the assessment
    form = {}
    for found in re.finditer(r'<input type="hidden" name="(gaps\.[^"]+)" value="([^"]*)"', page):
        form[found.group(1)] = found.group(2)
    for index in range(2):
        form |= {
            f"gaps.{index}.cause_category": "tools_resources",
            f"gaps.{index}.cause": "Paper files",
            f"gaps.{index}.impact": "5",
            f"gaps.{index}.effort": "2",
        }
    done = dana.post(f"/tasks/{task.id}", form)
    assert done.status_code == 302, text_of(done)
    gaps = driver.cycle(cycle_id).records["gaps"]
    assert [(g["indicator"], g["gap"], g["priority"]) for g in gaps] == [
        ("permits", 25, "high"),
        ("backlog", 60, "high"),
    ]


def test_leadership_sends_a_design_back_with_a_check_box_left_unticked(browser, driver, clock):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, clock.now.date())
    task = driver.task(cycle_id, "leadership_approval")
    lena = browser("lena")
    refused = lena.post(f"/tasks/{task.id}", {})
    assert refused.status_code == 422  # unticked is "no", and "no" needs a comment
    assert "This field is required." in text_of(refused)
    sent_back = lena.post(f"/tasks/{task.id}", {"comment": "Smaller, please"})
    assert sent_back.status_code == 302
    redesign = driver.task(cycle_id, "design_microprojects")
    assert redesign.form_data["approval_comment"] == "Smaller, please"


def test_someone_else_completing_first_is_said_plainly(browser, driver):
    cycle_id, task = assessment(driver)
    pia = browser("pia")
    pia.get(f"/tasks/{task.id}")
    driver.assess(cycle_id)
    late = pia.post(f"/tasks/{task.id}", assessment_form(INDICATORS))
    assert late.status_code == 409
    assert "Someone else completed this task" in text_of(late)
    assert "Completed by \u2068pia\u2069" in text_of(late)


def test_claiming_and_giving_back(browser, driver):
    cycle_id, task = assessment(driver)
    pia = browser("pia")
    claimed = pia.post(f"/tasks/{task.id}/claim", {"next": "/"})
    assert (claimed.status_code, claimed.location) == (302, "/")
    assert driver.task_detail(task.id).claimed_by == "pia"
    assert "Held by \u2068pia\u2069" in text_of(pia.get("/"))
    # A name inside a translated sentence stays apart from it, in Arabic too.
    ada = browser("ada")
    ada.get(f"/tasks/{task.id}")
    taken = ada.post(f"/tasks/{task.id}/claim", {}, headers={"Accept-Language": "ar"})
    assert taken.status_code == 409
    assert "يتولى \u2068pia\u2069 هذه المهمة الآن." in text_of(taken)
    pia.post(f"/tasks/{task.id}/unclaim")
    assert driver.task_detail(task.id).claimed_by is None


def test_comments(browser, driver):
    _, task = assessment(driver)
    pia = browser("pia")
    posted = pia.post(f"/tasks/{task.id}/comments", {"text": "Baselines from the 2025 report"})
    assert posted.location == f"/tasks/{task.id}#comments"
    assert "Baselines from the 2025 report" in text_of(pia.get(f"/tasks/{task.id}"))
    empty = pia.post(f"/tasks/{task.id}/comments", {"text": "   "})
    assert empty.status_code == 422 and "Fill this in." in text_of(empty)


# --- hostile users --------------------------------------------------------------------------


def test_another_users_task_can_be_neither_read_nor_completed(browser, driver):
    cycle_id, task = assessment(driver)
    dana = browser("dana")
    assert dana.get(f"/tasks/{task.id}").status_code == 403
    assert dana.post(f"/tasks/{task.id}", assessment_form(INDICATORS)).status_code == 403
    assert dana.post(f"/tasks/{task.id}/claim").status_code == 403
    assert dana.post(f"/tasks/{task.id}/comments", {"text": "mine now"}).status_code == 403
    assert driver.task_detail(task.id).state == "open"
    refused = [e for e in driver.events() if e.type == "access_denied"]
    assert {e.actor for e in refused} == {"dana"}


def test_auditors_read_tasks_but_get_no_form(browser, driver):
    _, task = assessment(driver)
    page = text_of(browser("audrey").get(f"/tasks/{task.id}"))
    assert 'name="indicators.0.key"' not in page and "Add the comment" not in page


def test_script_in_a_title_or_a_comment_is_shown_as_text(browser, driver):
    cycle_id = driver.start(title='<script>alert("title")</script>')
    task = driver.task(cycle_id, "assess_performance")
    pia = browser("pia")
    pia.post(f"/tasks/{task.id}/comments", {"text": "<img src=x onerror=alert(1)>"})
    for path in (f"/tasks/{task.id}", f"/cycles/{cycle_id}", "/cycles"):
        page = text_of(pia.get(path))
        assert "<script>alert" not in page and "<img src=x" not in page
    page = text_of(pia.get(f"/tasks/{task.id}"))
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_a_forged_row_path_changes_nothing(browser, driver):
    _, task = assessment(driver)
    pia = browser("pia")
    for forged in ("__class__", "indicators.99", "indicators.-1", "unit", "indicators.0.key"):
        response = pia.post(f"/tasks/{task.id}", {"remove_row": forged, "add_row": ""})
        assert response.status_code == 200
    assert driver.task_detail(task.id).state == "open"


def test_the_form_is_usable_in_arabic(browser, driver):
    _, task = assessment(driver)
    page = text_of(browser("pia").get(f"/tasks/{task.id}", headers={"Accept-Language": "ar"}))
    assert 'dir="rtl"' in page and "إكمال المهمة" in page and "إضافة صف" in page


def test_due_dates_of_microprojects_are_localised_on_the_cycle_page(browser, driver, clock):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, date(2026, 3, 2))
    page = text_of(browser("dana").get(f"/cycles/{cycle_id}", headers={"Accept-Language": "nl"}))
    assert "1 apr 2026" in page and "Digital permit intake" in page


def test_a_form_shown_again_with_errors_is_the_same_page_with_the_errors_added(browser, driver):
    _, task = assessment(driver)
    pia = browser("pia")

    def for_your_information(page: str) -> str:
        assert 'id="context-heading"' in page
        return page[page.index('id="context-heading"') : page.index('id="form-heading"')]

    before = for_your_information(text_of(pia.get(f"/tasks/{task.id}")))
    assert "<h3>Unit</h3>" in before and "Faster permits" in before
    wrong = [{**INDICATORS[0], "target": "eighty"}]
    refused = text_of(pia.post(f"/tasks/{task.id}", assessment_form(wrong)))
    assert for_your_information(refused) == before
    summary = re.search(r'<div class="error-summary"[^>]*>', refused)
    assert summary and 'role="alert"' in summary[0]
    assert 'tabindex="-1"' in summary[0] and "autofocus" in summary[0]  # where focus goes
    added = text_of(
        pia.post(f"/tasks/{task.id}", {**assessment_form(wrong), "add_row": "indicators"})
    )
    assert for_your_information(added) == before
