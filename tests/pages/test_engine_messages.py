"""The engine's refusals, conflicts and field errors on the pages in the reader's language,
chosen by their stable codes; the API's problem documents keep the English text."""

from __future__ import annotations

import ast
import html
import json
import re
from datetime import timedelta
from pathlib import Path

from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import shipped_processes
from picycle.engine.errors import Message, PermissionDenied
from picycle.engine.services import users
from picycle.pages.engine_messages import MESSAGES

from tests.pages.conftest import text_of

ENGINE = Path(__file__).resolve().parents[2] / "engine"
# The keywords a form's schema may constrain a value with; each breaks with its own code.
VALUE_KEYWORDS = {
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength",
    "maxLength", "minItems", "maxItems", "uniqueItems", "type", "enum", "const", "format",
    "pattern",
}  # fmt: skip


def engine_codes() -> set[str]:
    """Every code the engine gives a message, read from its source."""
    codes = set()
    for source in ENGINE.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "Message"
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
            ):
                codes.add(node.args[1].value)
    return codes


def test_every_engine_code_has_its_words_on_the_pages():
    codes = engine_codes()
    assert {"task_not_yours", "required", "due_in_past", "cycle_running"} <= codes
    assert codes <= MESSAGES.keys()
    assert {f"schema_{keyword}" for keyword in VALUE_KEYWORDS} <= MESSAGES.keys()


def test_the_shipped_forms_use_only_keywords_with_words():
    used = set()

    def walk(schema):
        if isinstance(schema, dict):
            used.update(key for key in schema if key in VALUE_KEYWORDS)
            for value in schema.values():
                walk(value)
        elif isinstance(schema, list):
            for value in schema:
                walk(value)

    for form in (shipped_processes() / "forms").glob("*.json"):
        walk(json.loads(form.read_text()))
    assert used and used <= VALUE_KEYWORDS


def test_a_message_is_its_english_text_everywhere_else():
    refused = PermissionDenied(Message("task t is not yours", "task_not_yours", task="t"))
    assert str(refused) == "task t is not yours" and refused.code == "task_not_yours"
    assert json.dumps({"detail": str(refused)}) == '{"detail": "task t is not yours"}'


def form_of(page: str) -> dict[str, str]:
    """What the page's task form would send as it stands."""
    form = page[page.index('<form method="post" action="/tasks/') :]
    form = form[: form.index("</form>")]
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form)
    }


def test_field_errors_of_a_form_in_arabic(browser, driver):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    task = driver.task(cycle_id, "identify_gaps")
    dana = browser("dana")
    dana.post("/language", {"language": "ar", "next": "/"})
    sent = form_of(text_of(dana.get(f"/tasks/{task.id}")))
    sent |= {"gaps.0.impact": "9", "gaps.0.effort": "2", "gaps.0.cause": "Paper"}
    sent |= {"gaps.0.cause_category": "tools_resources"}
    sent |= {"gaps.1.impact": "3", "gaps.1.effort": "0", "gaps.1.cause": "Queues"}
    sent |= {"gaps.1.cause_category": "capacity"}
    response = dana.post(f"/tasks/{task.id}", sent)
    assert response.status_code == 422
    page = text_of(response)
    assert "أدخل 5 أو أقل." in page and "أدخل 1 أو أكثر." in page
    assert "is greater than the maximum" not in page


def test_a_rule_of_the_method_in_dutch(browser, driver, clock):
    cycle_id = driver.start()
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    task = driver.task(cycle_id, "design_microprojects")
    dana = browser("dana")
    dana.post("/language", {"language": "nl", "next": "/"})
    sent = form_of(text_of(dana.get(f"/tasks/{task.id}")))
    past = (clock.now.date() - timedelta(days=1)).isoformat()
    sent |= {
        "microprojects.0.title": "Checklist",
        "microprojects.0.gap": "permits",
        "microprojects.0.owner": "dana",
        "microprojects.0.due": past,
        "microprojects.0.deliverable": "A checklist",
    }
    page = text_of(dana.post(f"/tasks/{task.id}", sent))
    assert "De einddatum ligt in het verleden." in page
    assert "is due in the past" not in page


def test_a_refusal_page_in_dutch(browser, driver):
    cycle_id = driver.start()
    task = driver.task(cycle_id, "assess_performance")  # the PI Unit's
    lena = browser("lena")
    lena.post("/language", {"language": "nl", "next": "/"})
    response = lena.post(f"/tasks/{task.id}/claim", {})
    assert response.status_code == 403
    page = text_of(response)
    assert "Deze taak is voor de groep PI Unit van haar eenheid, en daar zit u niet in." in page
    assert "is not in" not in page


def test_the_api_keeps_its_english_problem_documents(app, driver):
    cycle_id = driver.start()
    task = driver.task(cycle_id, "assess_performance")
    with driver.engine.unit_of_work() as uow:
        token = users.issue_token(uow, SYSTEM, "lena").token
    response = app.test_client().post(
        f"/api/v1/tasks/{task.id}/claim",
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "ar"},
    )
    assert response.status_code == 403
    assert "is for the PI Unit group of its unit" in response.get_json()["detail"]
