"""``picycle report``: a cycle's leadership report, written as a one-page PDF."""

from __future__ import annotations

from pathlib import Path

import click
from picycle.engine import Engine
from picycle.engine.services import report as reports
from picycle.pages.catalogs import LANGUAGES, SOURCE_LANGUAGE

from .common import ID, acting_as, as_option


@click.command()
@click.argument("cycle_id", metavar="CYCLE", type=ID)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The PDF file to write.",
)
@click.option(
    "--language",
    type=click.Choice(LANGUAGES),
    default=SOURCE_LANGUAGE,
    show_default=True,
    help="The report's language (ar: Arabic, right to left).",
)
@as_option
@click.pass_obj
def report(engine: Engine, cycle_id: int, output: Path, language: str, as_user: str | None):
    """Write the leadership report of cycle CYCLE: indicators before and after, the
    microprojects and what each delivered, the lessons learned and every decision."""
    # Loaded here, not with the command line: the PDF and chart libraries take half a
    # second to import, which every other command would wait for.
    from picycle.pages.report_pdf import render_report

    with engine.unit_of_work(write=False) as uow:
        found = reports.leadership_report(uow, acting_as(uow, as_user), cycle_id)
    output.write_bytes(render_report(found, language))
    click.echo(f"wrote the leadership report of cycle #{cycle_id} to {output}")
