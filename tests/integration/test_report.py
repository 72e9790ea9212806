"""``picycle report`` and the leadership report's one page, however much a cycle holds."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

from picycle.engine.read_models import (
    CycleResult,
    Decision,
    IndicatorResult,
    LeadershipReport,
    MicroprojectOutcome,
)
from picycle.engine.vocabulary import CycleStatus
from picycle.pages.report_pdf import render_report

from tests.pdf_pages import read_pdf

WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_the_command_writes_the_report_in_the_language_asked_for(demo, picycle, tmp_path):
    assert demo().exit_code == 0
    target = tmp_path / "cycle-1.pdf"
    result = picycle("report", "1", "-o", str(target), "--language", "ar")
    assert result.exit_code == 0, result.output
    assert f"to {target}" in result.stdout
    pdf = read_pdf(target.read_bytes(), tmp_path, keep_as="demo-cycle-1-ar")
    assert len(pdf.pages) == 1
    for words in ("تقرير القيادة", "Online permit intake", "lena", "Name who staffs the triage"):
        assert pdf.shows(words), (words, pdf.text)


def test_the_command_refuses_what_it_cannot_report(demo, picycle, tmp_path):
    demo()
    target = tmp_path / "report.pdf"
    unknown = picycle("report", "99", "-o", str(target))
    assert unknown.exit_code == 1 and "there is no cycle #99" in unknown.stderr
    language = picycle("report", "1", "-o", str(target), "--language", "fr")
    assert language.exit_code == 2 and "'fr' is not one of 'en', 'nl', 'ar'" in language.stderr
    # fatima works for the Directorate of Finance: the Planning cycle is not hers to see.
    hidden = picycle("report", "1", "-o", str(target), "--as", "fatima")
    assert hidden.exit_code == 1 and "there is no cycle #1" in hidden.stderr
    assert not target.exists()


def test_names_are_printed_as_written_whatever_they_hold(tmp_path):
    """A "$" opens no formula in the chart; markup and control-like text stay text."""
    written = ["Cost in $ per $x^{2", "<b>Bold</b> & {braces}", "Permits" + " long" * 60]
    crowded = crowded_cycle()
    indicators = [
        IndicatorResult(f"k{n}", name, None, "decrease", 10, 5, None, None)
        for n, name in enumerate(written)
    ]
    cycle = dataclasses.replace(crowded.cycle, indicators=indicators)
    report = dataclasses.replace(crowded, cycle=cycle, microprojects=[], decisions=[])
    pdf = read_pdf(render_report(report, "en"), tmp_path)
    assert len(pdf.pages) == 1
    assert pdf.shows("Cost in $ per $x^{2") and pdf.shows("<b>Bold</b> & {braces}")


def crowded_cycle() -> LeadershipReport:
    """More of everything, and longer, than one page holds."""
    long = "A sentence that goes on and on about what happened. " * 20
    indicators = [
        IndicatorResult(f"i{n}", f"Indicator number {n}", "%", "increase", n, n + 10, n + 5, False)
        for n in range(14)
    ]
    return LeadershipReport(
        cycle=CycleResult(
            cycle_id=7,
            unit_id=1,
            unit="Directorate of Planning",
            cycle_number=3,
            title="A cycle with far too much to say " * 5,
            status=CycleStatus.COMPLETED,
            started_at=WHEN,
            ended_at=WHEN + timedelta(days=90),
            targets_met=False,
            indicators=indicators,
            gaps_found=14,
            gaps_closed=0,
            microprojects=25,
            done=12,
            due=25,
            on_time=20,
        ),
        as_of=WHEN + timedelta(days=91),
        microprojects=[
            MicroprojectOutcome(f"Microproject {n}", "dana", "2026-04-01", long, "partial", long)
            for n in range(25)
        ],
        lessons_learned=[f"Lesson {n}: {long}" for n in range(6)],
        standardised_practices=[f"Practice {n}" for n in range(12)],
        decisions=[
            Decision(
                "leadership_approval", "sent_back", "lena", WHEN + timedelta(days=n), f"No {n}"
            )
            for n in range(15)
        ],
    )


def test_a_crowded_cycle_fits_one_page_saying_what_was_left_out(tmp_path):
    arabic = read_pdf(render_report(crowded_cycle(), "ar"), tmp_path, "crowded-ar")
    assert len(arabic.pages) == 1
    english = read_pdf(render_report(crowded_cycle(), "en"), tmp_path, "crowded-en")
    assert len(english.pages) == 1
    assert english.shows("Indicator number 0") and english.shows("Microproject 0")
    # What is cut is counted: the first items of a list are kept, of the decisions the latest.
    assert len(re.findall(r"… and \d+ more", english.text)) >= 3, english.text
    assert re.search(r"… and \d+ earlier", english.text), english.text
    assert english.shows("No 14") and "No 0\n" not in english.text
    assert "Microproject 24" not in english.text
    # Long texts are cut short: none is printed whole (twenty sentences).
    assert english.text.count("…") >= 10
    assert not english.shows("about what happened. A sentence that goes on and on " * 7)
