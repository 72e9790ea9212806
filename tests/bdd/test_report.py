"""Steps for features/report.feature, in the users' words, through the HTTP API; each PDF
read back with poppler (``tests/pdf_pages.py``)."""

from __future__ import annotations

import re

import pytest
from picycle.api import create_app
from picycle.engine.actors import SYSTEM
from picycle.engine.services import units, users
from picycle.engine.vocabulary import Role
from pytest_bdd import given, parsers, scenarios, then, when

from tests.pdf_pages import read_pdf
from tests.support import UNIT

scenarios("report.feature")

SENT_BACK = "Name who staffs the desk"


@pytest.fixture
def reader(driver, tmp_path):
    """The API client, the people's tokens, the cycle and the last report read."""
    with driver.engine.unit_of_work() as uow:
        finance = units.find_unit(uow, "Directorate of Finance").id
    with driver.engine.unit_of_work() as uow:
        users.add_user(uow, SYSTEM, "fatima", Role.MEMBER, [], [("Department Team", finance)])
    tokens = {}
    for name in ("pia", "lena", "fatima"):
        with driver.engine.unit_of_work() as uow:
            tokens[name] = users.issue_token(uow, SYSTEM, name).token
    app = create_app({"PICYCLE_ENGINE": driver.engine, "TESTING": True})
    return {"client": app.test_client(), "tokens": tokens, "cycle": None, "pdf": None}


def download(reader, who: str, query: str = "", headers: dict | None = None):
    return reader["client"].get(
        f"/api/v1/cycles/{reader['cycle']}/report{query}",
        headers={"Authorization": f"Bearer {reader['tokens'][who]}", **(headers or {})},
    )


def read(reader, response, tmp_path, keep_as: str | None = None):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/pdf"
    reader["pdf"] = read_pdf(response.data, tmp_path, keep_as)


@given(
    "the Directorate of Planning has worked a cycle in which leadership sent the design back once"
)
def worked_cycle(driver, reader):
    cycle_id = driver.start(unit=UNIT)
    driver.assess(cycle_id)
    driver.identify_gaps(cycle_id)
    driver.design(cycle_id, driver.engine.clock().date())
    driver.approve(cycle_id, approved=False, comment=SENT_BACK)
    driver.design(cycle_id, driver.engine.clock().date())
    driver.approve(cycle_id)
    driver.implement_all(cycle_id)
    driver.evaluate(cycle_id, permits=82, backlog=55)
    driver.institutionalise(cycle_id)
    driver.plan_next(cycle_id)
    reader["cycle"] = cycle_id


@when("the PI unit downloads the cycle's leadership report in English")
def in_english(reader, tmp_path):
    response = download(reader, "pia", "?lang=en")
    assert f"cycle-{reader['cycle']}-report-en.pdf" in response.headers["Content-Disposition"]
    read(reader, response, tmp_path, keep_as="leadership-report-en")


@when("a leader downloads the cycle's leadership report asking for Arabic")
def in_arabic(reader, tmp_path):
    read(
        reader,
        download(reader, "lena", headers={"Accept-Language": "ar"}),
        tmp_path,
        "leadership-report-ar",
    )


@when(
    "a department team member of the Directorate of Finance asks for the cycle's leadership report"
)
def outsider(reader):
    reader["answer"] = download(reader, "fatima", "?lang=en")


@then("the report is one page")
def one_page(reader):
    assert len(reader["pdf"].pages) == 1


@then(
    parsers.parse(
        "it shows {indicator} with baseline {baseline}, target {target} and actual {actual}, "
        "target met"
    )
)
def indicator_row(reader, indicator, baseline, target, actual):
    assert reader["pdf"].shows(f"{indicator} {baseline} {target} {actual} Yes"), reader["pdf"].text


@then(parsers.parse("it shows the microproject {title} owned by {owner}, delivering {deliverable}"))
def microproject(reader, title, owner, deliverable):
    pdf = reader["pdf"]
    assert pdf.shows(f"{title} (owner {owner}, due"), pdf.text
    assert pdf.shows(f"Deliverable: {deliverable}"), pdf.text


@then(parsers.parse('each microproject reads "{delivered}"'))
def delivered(reader, delivered):
    assert reader["pdf"].text.count(delivered) == 2, reader["pdf"].text


@then(parsers.parse('it shows the lesson "{lesson}"'))
def lesson(reader, lesson):
    assert reader["pdf"].shows(f"Lessons learned • {lesson}"), reader["pdf"].text


@then(
    parsers.parse('it shows that lena sent the design back with "{comment}" and then approved it')
)
def decisions(reader, comment):
    text = " ".join(reader["pdf"].text.split())
    sent_back = text.index(f"Leadership approval Sent back lena {comment}")
    assert text.index("Leadership approval Approved lena Go ahead") > sent_back, text


@then("each decision says when it was taken")
def decision_times(reader, driver):
    today = driver.engine.clock().date()
    stamp = f"{today:%b} {today.day}, {today.year}"
    # The approvals twice, institutionalising once.
    assert reader["pdf"].text.count(stamp) >= 3, reader["pdf"].text


@then(parsers.parse('its title reads "{title}" from the right-hand side of the page'))
def arabic_title(reader, title):
    pdf = reader["pdf"]
    assert pdf.shows(title), pdf.text
    first_word = title.split()[0]
    left, right = pdf.word_edges(first_word)
    assert right > pdf.width * 0.85, (left, right)  # against the right margin
    # Read right to left: the title's first word stands to the right of its second.
    assert pdf.word_edges(title.split()[1])[1] < left


@then("it names the indicators, microprojects and people as they were recorded")
def arabic_content(reader):
    pdf = reader["pdf"]
    for recorded in (
        "Permits issued within 30 days",
        "Digital permit intake",
        "Small steps work",
        "lena",
        SENT_BACK,
        "المؤشرات قبل وبعد",
        "القرارات",
    ):
        assert pdf.shows(recorded), (recorded, pdf.text)
    assert re.search(r"\bIndicator\b", pdf.text) is None  # no heading left in English


@then("there is no such report for them")
def not_found(reader):
    answer = reader["answer"]
    assert answer.status_code == 404
    assert answer.mimetype == "application/problem+json"
