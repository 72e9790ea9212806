"""The pages' languages: English, Dutch and Arabic, chosen by the user (kept with the
user once signed in, in the session before) or by the browser's Accept-Language.

Catalogs are the ``.po`` files under ``translations/``, compiled in memory the first time
a language is used: there is no build step, so no compiled file can fall out of step with
its source. After changing a message, update the catalogs and translate what is new::

    pybabel extract -F pages/babel.cfg -k _ -k gettext -o messages.pot .
    pybabel update -i messages.pot -d pages/translations --no-fuzzy-matching

(``tests/pages/test_languages_and_errors.py`` fails while a message lacks a translation.)
"""

from __future__ import annotations

from pathlib import Path

from babel import Locale
from babel.support import NullTranslations
from flask import Flask, g, request, session
from flask_babel import Babel, Domain, get_locale

from picycle.catalogs import compile_catalog

TRANSLATIONS = Path(__file__).parent / "translations"
LANGUAGES = ("en", "nl", "ar")
SOURCE_LANGUAGE = "en"
CHOICE = "picycle_language"  # the session key of the user's own choice


class CatalogDomain(Domain):
    """Flask-Babel's domain, reading the ``.po`` catalogs themselves."""

    def __init__(self, directory: Path):
        super().__init__(translation_directories=[str(directory)])
        self._directory = directory
        self._compiled: dict[str, NullTranslations] = {}

    def get_translations(self) -> NullTranslations:
        language = str(get_locale() or SOURCE_LANGUAGE)
        if language not in self._compiled:
            self._compiled[language] = compile_catalog(self._directory, language)
        return self._compiled[language]


DOMAIN = CatalogDomain(TRANSLATIONS)
gettext = DOMAIN.gettext
ngettext = DOMAIN.ngettext


def chosen_language() -> str:
    """The signed-in user's choice, else the one made in this session, else the browser's
    best match, else English."""
    for choice in (g.get("picycle_language"), session.get(CHOICE)):
        if choice in LANGUAGES:
            return choice
    return request.accept_languages.best_match(LANGUAGES) or SOURCE_LANGUAGE


def init_languages(app: Flask) -> None:
    """Flask-Babel on the app, unless the host set it up already (then the host's locale
    selector decides the language). Jinja is left as the host has it: the pages pass their
    translation functions to their own templates."""
    if "babel" not in app.extensions:
        Babel(app, locale_selector=chosen_language, configure_jinja=False)


def direction() -> str:
    """``rtl`` for Arabic, ``ltr`` otherwise, as the locale's script runs."""
    locale: Locale = get_locale() or Locale.parse(SOURCE_LANGUAGE)
    return "rtl" if locale.text_direction == "rtl" else "ltr"
