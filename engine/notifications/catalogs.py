"""The notifications' message catalogs, beside this module in ``translations/``, compiled
when a language is first used (``picycle/catalogs.py``). After
changing a message, update them and translate what is new::

    pybabel extract -F engine/notifications/babel.cfg -k _ -k gettext -o notify.pot .
    pybabel update -i notify.pot -d engine/notifications/translations --no-fuzzy-matching
"""

from __future__ import annotations

from pathlib import Path

from babel.support import NullTranslations

from picycle.catalogs import compile_catalog

LANGUAGES = ("en", "nl", "ar")
SOURCE_LANGUAGE = "en"
TRANSLATIONS = Path(__file__).parent / "translations"


def language_of(tag: str | None) -> str:
    """The notifications' language for a user's chosen tag (``nl-BE`` is Dutch); English
    when they chose none or one there are no messages in."""
    primary = (tag or SOURCE_LANGUAGE).split("-")[0].lower()
    return primary if primary in LANGUAGES else SOURCE_LANGUAGE


_compiled: dict[str, NullTranslations] = {}


def catalog(language: str) -> NullTranslations:
    """The notifications' catalog of one of ``LANGUAGES``, compiled once per process."""
    if language not in _compiled:
        _compiled[language] = compile_catalog(TRANSLATIONS, language)
    return _compiled[language]
