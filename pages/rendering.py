"""Rendering a page: every template gets the user's language and its direction, the
translation and formatting functions, the CSRF token and who is signed in."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import flask_babel
from flask import render_template, request
from flask_wtf.csrf import generate_csrf
from picycle.api.context import request_uow
from picycle.engine.read_models import NO_TEXTS
from picycle.engine.services.process_texts import cycle_texts

from .context import CSRF_FIELD, signed_in
from .i18n import LANGUAGES, direction, gettext, ngettext

LANGUAGE_NAMES = {"en": "English", "nl": "Nederlands", "ar": "العربية"}
DUE_SOON = timedelta(days=3)


def render(template: str, status: int = 200, **context):
    locale = flask_babel.get_locale()
    body = render_template(
        f"pages/{template}",
        _=gettext,
        ngettext=ngettext,
        lang=str(locale),
        dir=direction(),
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        csrf_field=CSRF_FIELD,
        csrf_token=generate_csrf,
        actor=signed_in(),
        here=request.full_path.rstrip("?"),
        date=format_date,
        moment=format_moment,
        number=format_number,
        isolated=isolated,
        file_size=format_file_size,
        statuses={
            "running": gettext("Running"),
            "completed": gettext("Completed"),
            "cancelled": gettext("Cancelled"),
        },
        **context,
    )
    return body, status


def process_texts(cycle_ids: Iterable[int]) -> Callable[[int, Any], Any]:
    """``text(cycle_id, source)``: a text of the process version the cycle runs (a task's
    name, a form's title, an enum value...) in the reader's language, else in English."""
    found = cycle_texts(request_uow(), cycle_ids, str(flask_babel.get_locale()))

    def text(cycle_id: int, source: Any) -> Any:
        return found.get(cycle_id, NO_TEXTS).text(source)

    return text


def isolated(value: object) -> str:
    """``value`` set apart from the text around it, as ``<bdi>`` does, for a name or an
    id inside a translated sentence: in Arabic, a Latin name beside a date or a bracket
    would otherwise pull them into its own direction. (Marks, not markup: a translation's
    values are escaped.)"""
    return f"\u2068{value}\u2069"


def format_moment(value: datetime | None) -> str:
    return flask_babel.format_datetime(value, "medium") if value else ""


def format_date(value: datetime | str | None) -> str:
    """A date (a datetime, or ISO text as forms store it) in the user's language."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return flask_babel.format_date(value, "medium")


def format_number(value) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    return flask_babel.format_decimal(value)


def format_file_size(size: int) -> str:
    """Bytes as people read them: 820 bytes, 12.5 KB, 3.4 MB (1 KB = 1024 bytes)."""
    if size < 1024:
        return ngettext("%(num)s byte", "%(num)s bytes", size)
    if size < 1024 * 1024:
        return gettext("%(size)s KB", size=flask_babel.format_decimal(round(size / 1024, 1)))
    return gettext("%(size)s MB", size=flask_babel.format_decimal(round(size / 1024**2, 1)))
