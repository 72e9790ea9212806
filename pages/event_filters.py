"""The event browser's filters, read from the query string (so a filtered view is a link to
keep or share), each problem named at its field and in the user's language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import flask_babel
from picycle.engine.read_models import MAX_ID
from picycle.engine.services.audit import EventFilter
from picycle.engine.vocabulary import EventType

from .i18n import gettext as _
from .numbers import id_number

FILTERS = ("cycle", "unit", "actor", "type", "since", "until")
MAX_NAME = 100
EVENT_TYPES = tuple(EventType)


@dataclass
class ReadFilters:
    """What the query string asked for: the filter, the cursor, the values as typed (to
    show them again) and what is wrong with them, by field."""

    filters: EventFilter
    before: int | None  # the events older than this one
    after: int | None  # the events newer than this one
    start: int | None  # this event and those older
    given: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    def query(self) -> dict[str, str]:
        """The filters given, as query parameters for links that keep them."""
        return {name: value for name, value in self.given.items() if value}


def read_filters(args: Mapping[str, str], unit_names: set[str]) -> ReadFilters:
    given = {name: args.get(name, "").strip() for name in FILTERS}
    errors: dict[str, str] = {}
    cycle = _whole(given["cycle"], "cycle", errors)
    if given["unit"] and given["unit"] not in unit_names:
        errors["unit"] = _("Choose a unit from the list.")
    if len(given["actor"]) > MAX_NAME or "\x00" in given["actor"]:
        errors["actor"] = _("Enter a user name of at most 100 characters.")
    if given["type"] and given["type"] not in EVENT_TYPES:
        errors["type"] = _("Choose a type from the list.")
    since = _moment(given["since"], "since", errors)
    until = _moment(given["until"], "until", errors)
    if since and until and until <= since:
        errors["until"] = _("Enter a moment after the one in From.")
    before = _whole(args.get("before", "").strip(), "before", errors)
    after = _whole(args.get("after", "").strip(), "after", errors)
    start = _whole(args.get("start", "").strip(), "start", errors)
    filters = EventFilter(
        cycle_id=cycle,
        unit=given["unit"] or None,
        actor=given["actor"] or None,
        type=given["type"] or None,
        since=since,
        until=until,
    )
    return ReadFilters(filters, before, after, start, given, errors)


def _whole(text: str, name: str, errors: dict[str, str]) -> int | None:
    if not text:
        return None
    if (number := id_number(text)) is not None:
        return number
    errors[name] = _(
        "Enter a whole number from 1 to %(most)s.", most=flask_babel.format_decimal(MAX_ID)
    )
    return None


def _moment(text: str, name: str, errors: dict[str, str]) -> datetime | None:
    """A date, or a date and time as a datetime-local field sends it; UTC unless it names
    its offset."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        errors[name] = _("Enter a date, or a date and time, such as 2026-03-02T09:30.")
        return None
