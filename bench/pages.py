"""How long the server takes for each page, and how much a browser fetches to show one.

On bench.inbox's database (``bench.inbox.populate``: 1,000,000 task rows over 200 units;
``--quick``: 100,000), with one real running cycle in a department of bench.inbox's
typical member, who holds its open task:

1. Server time of every page through the Flask test client, signed in (the sign-in page
   as a visitor): sign-in, inbox, task page, cycle page (the running cycle with its
   diagram; the real completed cycle with its whole history), the diagram's XML and marks,
   and the cycle list (the member's, and an auditor's, who sees every cycle). p50/p95 per
   page; goal p95 <= 50 ms.
2. Transfer: the first load, with nothing cached, of the inbox and of the running cycle's
   page over HTTP from waitress as ``picycle serve`` runs it: the HTML, every style sheet
   and script it references (and what a style sheet loads), and for the diagram its XML
   and marks; bytes as the server sends them (it says whether it compressed), beside their
   gzip size (what a compressing proxy in front would send). Measured on SQLite: the pages
   are the same on PostgreSQL.

Run from the repository root::

    .venv/bin/python -m bench.pages            # full run
    .venv/bin/python -m bench.pages --quick    # 100,000 task rows (or PICYCLE_BENCH_QUICK=1)

PostgreSQL: ``--postgres-url`` or ``PICYCLE_BENCH_POSTGRES_URL`` (default: the test database).
The benchmark works in a schema of its own, ``picycle_bench_pages``, dropped at the end.
"""

from __future__ import annotations

import gzip
import http.client
import json
import re
import sys
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from picycle.api import create_app
from picycle.engine.actors import SYSTEM
from picycle.engine.clock import FixedClock
from picycle.engine.services import cycles, tasks, users
from picycle.engine.uow import Engine

from bench.common import (
    BenchSchema,
    Databases,
    Goals,
    Server,
    announce,
    measure_and_report,
    median,
    parse_args,
    percentile,
    take_turns,
    unit_named,
)
from bench.engine import INDICATORS
from bench.inbox import MEMBER, MEMBER_NUMBER, member_names, populate

SCHEMA = BenchSchema("picycle_bench_pages")
GOAL_PAGE_P95_MS = 50.0
GOAL_INBOX_BYTES = 300_000
GOAL_CYCLE_BYTES = 1_500_000
PASSWORD = "a password for the benchmark"
AUDITOR = "auditor-001"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Plan:
    task_rows: int
    requests: int  # per page and database


FULL = Plan(task_rows=1_000_000, requests=200)
QUICK = Plan(task_rows=100_000, requests=60)


# --- what the pages are measured on -------------------------------------------------------------


@dataclass(frozen=True)
class Scene:
    running_cycle: int  # in the member's department; the member holds its open task
    task_id: str
    completed_cycle: int  # run through the services end to end


def set_scene(engine: Engine, clock: FixedClock, name: str, task_rows: int) -> Scene:
    populated = populate(engine, clock, name, task_rows)
    org = populated.org
    # A unit of its own below the member's department: the department's filled cycles
    # still run, and a unit runs one cycle at a time.
    department = org.team_units(MEMBER_NUMBER)[0]
    section = unit_named(engine, "Pages section", department)
    with engine.unit_of_work() as uow:
        users.add_user(uow, SYSTEM, AUDITOR, "auditor", [])
    for person in (MEMBER, AUDITOR, "pia"):
        with engine.unit_of_work() as uow:
            users.set_password(uow, SYSTEM, person, PASSWORD)
    with engine.unit_of_work(write=False) as uow:
        starter = users.actor_named(uow, member_names("PI Unit")[0])
        member = users.actor_named(uow, MEMBER)
    with engine.unit_of_work() as uow:
        started = cycles.start_cycle(uow, starter, section, "Faster permits")
    (assessment,) = started.open_tasks
    with engine.unit_of_work() as uow:
        tasks.complete_task(uow, starter, assessment.id, {"indicators": INDICATORS})
    with engine.unit_of_work(write=False) as uow:
        (gaps,) = cycles.open_tasks(uow, started.id)
    with engine.unit_of_work() as uow:
        tasks.claim_task(uow, member, gaps.id)
    return Scene(started.id, gaps.id, populated.real_cycle)


# --- 1. server time, through the Flask test client ----------------------------------------------


class Visitor:
    """A browser on the pages, in process: its own cookies, signed in as ``name`` if given."""

    def __init__(self, app, name: str | None = None):
        self.client = app.test_client()
        if name:
            page = self.client.get("/sign-in").get_data(as_text=True)
            form = {"csrf_token": _TOKEN.search(page).group(1), "name": name, "password": PASSWORD}
            response = self.client.post("/sign-in", data=form)
            if response.status_code != 302:
                raise RuntimeError(f"{name} could not sign in: {response.status_code}")

    def timed(self, path: str) -> float:
        started = time.perf_counter()
        response = self.client.get(path)
        response.get_data()
        seconds = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code}")
        return seconds


@dataclass(frozen=True)
class PageCase:
    name: str
    path: str
    visitor: Visitor


def pages_app(engine: Engine):
    """The app the pages are measured in, through the Flask test client."""
    return create_app(
        {
            "PICYCLE_ENGINE": engine,
            "TESTING": True,
            "SECRET_KEY": "the benchmark's own",
            "PICYCLE_SECURE_COOKIES": False,  # the test client speaks http
        }
    )


def page_cases(engine: Engine, scene: Scene) -> list[PageCase]:
    app = pages_app(engine)
    member, auditor, pia = Visitor(app, MEMBER), Visitor(app, AUDITOR), Visitor(app, "pia")
    running = f"/cycles/{scene.running_cycle}"
    return [
        PageCase("sign-in (a visitor)", "/sign-in", Visitor(app)),
        PageCase("inbox", "/", member),
        PageCase("task page", f"/tasks/{scene.task_id}", member),
        PageCase("cycle page, running, diagram", running, member),
        PageCase("  its diagram's XML", f"{running}/diagram", member),
        PageCase("  its diagram's marks", f"{running}/marks", member),
        PageCase("cycle page, completed", f"/cycles/{scene.completed_cycle}", pia),
        PageCase("cycle list, the member's", "/cycles", member),
        PageCase("cycle list, an auditor's", "/cycles", auditor),
    ]


def measure_pages(cases: list[PageCase], plan: Plan) -> dict[str, list[float]]:
    budget = 2.0 if plan is QUICK else 4.0
    return take_turns(cases, lambda case: case.visitor.timed(case.path), plan.requests, budget)


# --- 2. transfer, over HTTP ---------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    path: str
    sent: int  # body bytes as the server sent them
    encoding: str  # its Content-Encoding, "identity" when none
    gzipped: int  # the body's size gzipped


class HttpBrowser:
    """A first visit over HTTP: keeps the session cookie, asks for compression."""

    def __init__(self, port: int, name: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""
        page = self.get("/sign-in").decode()
        form = {"csrf_token": _TOKEN.search(page).group(1), "name": name, "password": PASSWORD}
        self.get("/sign-in", body=urllib.parse.urlencode(form))

    def get(self, path: str, body: str | None = None) -> bytes:
        return self.fetch(path, body)[1]

    def fetch(self, path: str, body: str | None = None) -> tuple[Fetched, bytes]:
        headers = {"Accept-Encoding": "gzip, deflate, br", "Cookie": self.cookie}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request("POST" if body else "GET", path, body=body, headers=headers)
        response = self.connection.getresponse()
        sent = response.read()
        if response.status not in (200, 302):
            raise RuntimeError(f"{path}: {response.status}")
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";")[0]
        encoding = response.getheader("Content-Encoding") or "identity"
        content = gzip.decompress(sent) if encoding == "gzip" else sent
        return Fetched(path, len(sent), encoding, len(gzip.compress(content))), content


def first_load(browser: HttpBrowser, path: str) -> list[Fetched]:
    """The page and everything it makes the browser fetch: style sheets (and their url()s),
    scripts, the diagram's data, and the files of the bundle the modeler opens."""
    page, html = browser.fetch(path)
    text = html.decode()
    wanted = re.findall(r'<link rel="stylesheet" href="([^"]+)"', text)
    wanted += re.findall(r'<script src="([^"]+)"', text)
    wanted += re.findall(r'data-(?:xml|marks)="([^"]+)"', text)
    wanted += _modeler_files(text)
    loaded = [page]
    for asset in wanted:
        fetched, content = browser.fetch(asset)
        loaded.append(fetched)
        if asset.endswith(".css"):
            urls = [u.decode() for u in re.findall(rb"url\(['\"]?([^'\")]+)", content)]
            for url in _fetched_by_a_browser(urls):
                loaded.append(browser.fetch(urllib.parse.urljoin(asset, url))[0])
    return loaded


def _modeler_files(html: str) -> list[str]:
    """The bundle's files the modeler's script loads (none on other pages)."""
    names = re.search(r"data-files='([^']+)'", html)
    base = re.search(r'data-file-base="([^"]+)"', html)
    if not names or not base:
        return []
    return [base.group(1) + urllib.parse.quote(name) for name in json.loads(names.group(1))]


def _fetched_by_a_browser(urls: list[str]) -> list[str]:
    """A font offered in several formats is fetched once, as WOFF2 by any current browser;
    data: URLs are no fetch at all."""
    urls = [url for url in urls if not url.startswith("data:")]
    fonts = re.compile(r"\.(eot|woff2?|ttf|svg)([?#]|$)")
    if not any(".woff2" in url for url in urls):
        return list(dict.fromkeys(urls))
    kept = [url for url in urls if not fonts.search(url) or ".woff2" in url]
    return list(dict.fromkeys(kept))


def measure_transfer(url: str, scene: Scene) -> dict[str, list[Fetched]]:
    with Server(url) as port:
        browser = HttpBrowser(port, MEMBER)
        return {
            "inbox": first_load(browser, "/"),
            "cycle page with its diagram": first_load(browser, f"/cycles/{scene.running_cycle}"),
        }


# --- the run and the report ---------------------------------------------------------------------


@dataclass
class DatabaseResult:
    name: str
    samples: dict[str, list[float]]
    transfer: dict[str, list[Fetched]] | None


def run_database(name: str, url: str, plan: Plan, transfer: bool) -> DatabaseResult:
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    engine = Engine(url, clock)
    try:
        scene = set_scene(engine, clock, name, plan.task_rows)
        announce(f"{name}: measuring the pages")
        samples = measure_pages(page_cases(engine, scene), plan)
        if transfer:
            announce(f"{name}: first loads over HTTP")
        return DatabaseResult(name, samples, measure_transfer(url, scene) if transfer else None)
    finally:
        engine.dispose()


def report_times(result: DatabaseResult, goals: Goals) -> None:
    print(f"\n{result.name}: ms per request, test client")
    print(f"  {'page':<34}{'n':>5}{'p50':>8}{'p95':>8}   goal for p95")
    for name, samples in result.samples.items():
        verdict = goals.judge(
            f"{result.name} {name.strip()} p95",
            percentile(samples, 95),
            GOAL_PAGE_P95_MS,
            at_most=True,
            unit="ms",
        )
        print(
            f"  {name:<34}{len(samples):>5}{median(samples):>8.1f}"
            f"{percentile(samples, 95):>8.1f}   {verdict}"
        )


TRANSFER_GOALS = {"inbox": GOAL_INBOX_BYTES, "cycle page with its diagram": GOAL_CYCLE_BYTES}


def report_transfer(
    transfer: dict[str, list[Fetched]], goals: Goals, limits: dict[str, int] = TRANSFER_GOALS
) -> None:
    """Each page's first load, every body it fetched, against ``limits`` (bytes by page)."""
    print("\nfirst load over HTTP (waitress, nothing cached), bytes of the bodies")
    for page, loaded in transfer.items():
        print(f"  {page}:")
        for fetched in loaded:
            print(
                f"    {fetched.path:<56}{fetched.sent:>10,} {fetched.encoding:<9}"
                f"{fetched.gzipped:>9,} gzipped"
            )
        sent = sum(f.sent for f in loaded)
        gzipped = sum(f.gzipped for f in loaded)
        encodings = sorted({f.encoding for f in loaded})
        verdict = goals.judge(
            f"{page} first load", sent / 1000, limits[page] / 1000, at_most=True, unit="kB"
        )
        print(
            f"    {'total as sent (' + ', '.join(encodings) + ')':<56}{sent:>10,}"
            f"{'':<10}{gzipped:>9,} gzipped   {verdict}"
        )


def report(results: list[DatabaseResult], skipped: str | None, goals: Goals) -> None:
    for result in results:
        report_times(result, goals)
    if skipped:
        print(f"\nPostgreSQL skipped: {skipped}")
    for result in results:
        if result.transfer is not None:
            report_transfer(result.transfer, goals)


def main(argv: list[str] | None = None) -> None:
    args = parse_args("Server time and transfer size of the pages.", SCHEMA, argv)
    plan = QUICK if args.quick else FULL
    heading = f"== the pages on {plan.task_rows:,} task rows =="
    measure_and_report(args, SCHEMA, partial(run, plan), report, heading)


def run(plan: Plan, databases: Databases) -> list[DatabaseResult]:
    # The transfer is measured on SQLite alone: the pages are the same on PostgreSQL.
    return [
        run_database(name, url, plan, transfer=name == "SQLite")
        for name, url in databases.each("pages.db")
    ]


if __name__ == "__main__":
    main()
