"""The benchmarks' reports, on made-up figures: a quick run judges no goal, a full run judges
every one, and a figure a run did not measure is printed only with its source and date."""

import re
from types import SimpleNamespace

import pytest

from bench import audit, audit_pages, engine, inbox, pages
from bench.common import Goals

VERDICT = re.compile(r"\b(met|missed)\b", re.IGNORECASE)
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
# What a quoted figure's line names: the peer, or its figures as once printed bare.
QUOTED = re.compile(r"spiff-arena|peer|87 ms|11/s", re.IGNORECASE)


def timings(label: str, ms: float) -> engine.Timings:
    steps = engine.STEP_ORDER * 2
    return engine.Timings(label, [(s, ms * (1 + n / 10) / 1000) for n, s in enumerate(steps)])


def engine_results() -> engine.Results:
    databases = []
    for name, short, ms in (("SQLite", "sqlite", 3.0), ("PostgreSQL", "pg", 10.0)):
        variant = SimpleNamespace(database=name, short=short, statements_per_completion=[5, 6])
        run = engine.DatabaseRun(variant, history=50, commit_floor_ms=0.5)
        run.first, run.last = timings(run.first.label, ms), timings(run.last.label, ms)
        run.raw_beside = timings(run.raw_beside.label, 1.5)
        run.building = {n: timings(f"cycle {n}", ms) for n in range(1, 50)}
        databases.append(run)
    return engine.Results(
        stock=timings("(a0)", 1.1),
        raw=timings("(a)", 1.0),
        naive=timings("(b)", 6.0),
        databases=databases,
        sizes=engine.Sizes({"picycle spec, stored once per version": 32_000}),
    )


def inbox_results() -> list[inbox.DatabaseResult]:
    cases = inbox.inbox_cases(0, "Unit 007")
    results = []
    for name, ms in (("SQLite", 5.0), ("PostgreSQL", 30.0)):
        samples = {case.name: [ms, ms * 1.2] for case in cases}
        concurrent = [inbox.Concurrent(1, 8, [ms], 0.1), inbox.Concurrent(2, 8, [ms], 0.001)]
        results.append(
            inbox.DatabaseResult(
                name,
                inbox.Filled(cycles=10, rows=100, open=10, overdue=1, seconds=2, load_seconds=1),
                mine_total=5,
                groups_total=7,
                assigned=2,
                cases=cases,
                endpoint=samples,
                service=samples,
                completions=inbox.Completions([ms, ms], concurrent),
                explained=[],
            )
        )
    return results


def audit_results() -> audit.Results:
    timed = {"audited": timings("audited", 2.0), "off": timings("off", 1.5)}
    clock = SimpleNamespace(
        counts={("audited", "INSERT"): 14, ("off", "INSERT"): 7},
        seconds={("audited", "INSERT"): 0.01, ("off", "INSERT"): 0.005},
    )
    share = audit.AuditShare(
        "SQLite", timed, {"audited": 20, "off": 20}, {"audited": 0.01, "off": 0.01}, clock
    )
    verify = audit.VerifyResult("SQLite", None, 2, 100_000, 10, True, 0.5, False, "load 1")
    export = audit.ExportResult("SQLite", "csv", 100_000, 10**7, 1.0, 60_000, 300_000, True, 0)
    return audit.Results(
        shares=[share], fill=audit.EventFill(100_000, 10), verifies=[verify], exports=[export]
    )


def pages_results() -> list[pages.DatabaseResult]:
    samples = {"inbox": [10.0, 12.0], "cycle page": [60.0, 70.0]}
    inbox_load = [pages.Fetched("/", 20_000, "identity", 3_000)]
    cycle_load = [pages.Fetched("/cycles/1", 2_000_000, "identity", 400_000)]
    transfer = {"inbox": inbox_load, "cycle page with its diagram": cycle_load}
    return [
        pages.DatabaseResult("SQLite", samples, transfer),
        pages.DatabaseResult("PostgreSQL", samples, None),
    ]


def audit_pages_results() -> list[audit_pages.DatabaseResult]:
    samples = {"no filter, first page": [20.0, 30.0], "a user, deep page": [90.0, 140.0]}
    return [
        audit_pages.DatabaseResult("SQLite", samples),
        audit_pages.DatabaseResult("PostgreSQL", samples),
    ]


REPORTS = {
    "engine": lambda goals: engine.report(engine_results(), None, goals),
    "inbox": lambda goals: inbox.report(inbox_results(), None, goals),
    "audit": lambda goals: audit.report(audit_results(), None, goals),
    "pages": lambda goals: pages.report(pages_results(), None, goals),
    "audit_pages": lambda goals: audit_pages.report(audit_pages_results(), None, goals),
}


@pytest.mark.parametrize("name", REPORTS)
def test_a_quick_run_prints_its_figures_and_no_verdict(name, capsys):
    goals = Goals(judging=False)
    REPORTS[name](goals)
    printed = capsys.readouterr().out
    assert "goal " in printed  # the goals are named beside the figures
    assert VERDICT.findall(printed) == []
    assert goals.results == []
    assert not VERDICT.search(goals.summary())
    assert "no goal judged" in goals.summary()


@pytest.mark.parametrize("name", REPORTS)
def test_a_full_run_judges_its_goals(name, capsys):
    goals = Goals()
    REPORTS[name](goals)
    printed = capsys.readouterr().out
    # The made-up figures meet some goals and miss others.
    assert {v.lower() for v in VERDICT.findall(printed)} == {"met", "missed"}
    assert {ok for _, ok in goals.results} == {True, False}
    assert "MISSED: " in goals.summary()


@pytest.mark.parametrize("name", REPORTS)
def test_a_figure_not_measured_carries_its_source_and_date(name, capsys):
    REPORTS[name](Goals())
    for line in capsys.readouterr().out.splitlines():
        if QUOTED.search(line):
            assert "not measured here" in line and DATE.search(line), line


def test_the_peers_figures_are_printed_as_quoted(capsys):
    inbox.report_completions(inbox_results(), Goals())
    (line,) = [line for line in capsys.readouterr().out.splitlines() if "spiff-arena" in line]
    assert "quoted, not measured here" in line and DATE.search(line)


def test_the_engine_judges_picycle_against_the_raw_step_on_its_own(capsys):
    engine.report(engine_results(), None, Goals())
    printed = capsys.readouterr().out
    # 3.0 ms against the 1.0 ms of (a) on its own; the 1.5 ms of (a) beside it is context.
    assert re.search(r"\(c\) SQLite cycle 1 / \(a\)\s+3\.00 .*met", printed)
    assert re.search(r"\(c\) PostgreSQL cycle 50 / \(a\)\s+10\.00 .*MISSED", printed)
    assert re.search(r"\(c\) SQLite cycle 50 / \(a\) beside it\s+2\.00 .*context", printed)


def test_the_engine_report_sets_picycle_against_the_naive_path(capsys):
    engine.report(engine_results(), None, Goals())
    printed = capsys.readouterr().out
    # 3.0 ms against 6.0 ms by median, 10.0 ms against 6.0 ms.
    assert re.search(r"\(c\) SQLite cycle 1 / \(b\) naive\s+0\.50", printed)
    assert re.search(r"\(c\) PostgreSQL cycle 50 / \(b\) naive on SQLite\s+1\.67", printed)
