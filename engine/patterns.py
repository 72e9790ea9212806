"""The regular expressions of forms run on RE2: its time is linear in the value whatever the
pattern, so no pattern and no submitted value can hold a thread (no catastrophic
backtracking). RE2 refuses what it cannot run that way: backreferences and lookaround."""

from __future__ import annotations

import functools

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refusal is reported to the modeller, not logged

PatternError = re2.error
_ACROSS_LINES = re2.Options()
_ACROSS_LINES.dot_nl = True


def compiles(pattern: str) -> bool:
    """True, or PatternError when RE2 cannot run the pattern; nothing is kept (a submitted
    value may be a pattern, and values must not fill a cache)."""
    return re2.compile(pattern, _OPTIONS) is not None


@functools.lru_cache(maxsize=1024)
def compiled(pattern: str):
    """A form's pattern compiled by RE2, kept for the next value; PatternError when RE2
    cannot run it."""
    return re2.compile(pattern, _OPTIONS)


def search(pattern: str, text: str) -> bool:
    return compiled(pattern).search(text) is not None


def why_refused(pattern: str) -> str | None:
    """RE2's reason for refusing the pattern, or None when it runs."""
    try:
        compiled(pattern)
    except PatternError as error:
        reason = error.args[0] if error.args else error
        return reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
    return None


def slotted(literals: list[str]):
    """The literal texts in order with something (a character or more) between each two,
    each something a group: a translation catalog's pattern, run on RE2 as well, since a
    catalog is the modeller's and the texts it is matched against can be long."""
    return re2.compile("(.+?)".join(re2.escape(text) for text in literals), _ACROSS_LINES)
