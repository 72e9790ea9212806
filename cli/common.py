"""What every command shares: who acts (``--as``), ``--json`` output, and files written whole."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, TextIO

import click
from picycle.engine.actors import SYSTEM, Actor
from picycle.engine.read_models import MAX_ID
from picycle.engine.services import users


def acting_as(uow, name: str | None) -> Actor:
    """``--as NAME`` acts as that user (refused when deactivated or unknown), looked up in
    the unit of work the command's service then runs in; without it, the operator acts as
    ``system``."""
    return SYSTEM if name is None else users.actor_named(uow, name)


as_option = click.option(
    "--as", "as_user", metavar="NAME", help="Act as this user (default: system, an admin)."
)
as_required = click.option(
    "--as", "as_user", metavar="NAME", required=True, help="Act as this user."
)
# A larger number is refused as a usage error rather than sent to the database.
ID = click.IntRange(1, MAX_ID)


class Seconds(click.FloatRange):
    """A number of seconds in a range; nan, which passes every comparison with a bound, is
    refused as well."""

    def convert(self, value, param, ctx) -> float:
        seconds = super().convert(value, param, ctx)
        if math.isnan(seconds):
            self.fail(f"{value!r} is not a number of seconds.", param, ctx)
        return seconds


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text."
)


def echo_json(value: Any) -> None:
    """A read model (or a list or page of them) as indented JSON on stdout."""
    click.echo(json.dumps(_plain(value), indent=2, ensure_ascii=False))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


@contextmanager
def written_whole(path: str) -> Iterator[TextIO]:
    """Standard output for "-"; else a file beside ``path`` that takes its place once all
    is written, so an output that fails half-way leaves what ``path`` held. A path that
    is no regular file (``/dev/stdout``, a pipe) is written to as it is; a link, through."""
    target = Path(path)
    if path == "-" or (target.exists() and not target.is_file()):
        with click.open_file(path, "w") as stream:
            yield stream
        return
    target = target.resolve()
    partial = target.with_name(f".{target.name}.partial")
    if not os.access(target.parent, os.W_OK):
        raise click.FileError(path, hint="its folder does not exist or may not be written")
    try:
        with open(partial, "w", encoding="utf-8") as file:
            yield file
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
