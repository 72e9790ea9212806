"""How much a browser fetches to open the process modeler: an admin's first load, with
nothing cached, of the shipped PI cycle's version page over HTTP from waitress as
``picycle serve`` runs it. The HTML, its style sheets and the icon font a browser takes from
them, its scripts (bpmn-js's modeler the largest), and every file of the bundle the modeler
loads; bytes as the server sends them (it says whether it compressed), beside their gzip
size (what a compressing proxy in front would send).

The page does not grow with what the database holds, so a fresh SQLite database with the
shipped processes is measured (a few seconds); ``--quick`` is the same run, unjudged.

Run from the repository root::

    .venv/bin/python -m bench.modeler
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from picycle.engine.actors import SYSTEM
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.services import definitions, users
from picycle.engine.uow import Engine

from bench.common import BenchRun, BenchSchema, RunRecord, Server, announce, parse_args
from bench.pages import PASSWORD, HttpBrowser, first_load, report_transfer

SCHEMA = BenchSchema("picycle_bench_modeler")  # unused: the page is measured on SQLite
ADMIN = "modeler-admin"
PAGE = "modeler page, PI cycle version 1"
GOAL_MODELER_BYTES = 1_000_000  # as sent; a once-a-while admin page, cached after


def prepare(url: str) -> None:
    engine = Engine(url)
    try:
        engine.upgrade_schema()
        with engine.unit_of_work() as uow:
            users.add_user(uow, SYSTEM, ADMIN, "admin", [])
        with engine.unit_of_work() as uow:
            users.set_password(uow, SYSTEM, ADMIN, PASSWORD)
        with engine.unit_of_work() as uow:
            definitions.deploy(uow, SYSTEM, read_bundle(shipped_processes()))
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    args = parse_args("Transfer size of the process modeler's page.", SCHEMA, argv)
    args.no_postgres = True
    record = RunRecord(args)
    with BenchRun(args, SCHEMA) as databases:
        url = databases.sqlite_url("modeler.db")
        prepare(url)
        announce("the modeler page's first load over HTTP")
        with Server(url) as port:
            loaded = first_load(HttpBrowser(port, ADMIN), "/models/pi_cycle/versions/1")
    report_transfer({PAGE: loaded}, record.goals, {PAGE: GOAL_MODELER_BYTES})
    record.close()


if __name__ == "__main__":
    main()
