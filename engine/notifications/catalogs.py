"""Message catalogs read from their ``.po`` files and compiled in memory when a language is
first used: no build step, so no compiled file can fall out of step with its source.

The notifications' own catalogs sit beside this module, in ``translations/``. After
changing a message, update them and translate what is new::

    pybabel extract -F engine/notifications/babel.cfg -k _ -k gettext -o notify.pot .
    pybabel update -i notify.pot -d engine/notifications/translations --no-fuzzy-matching
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("en", "nl", "ar")
SOURCE_LANGUAGE = "en"
TRANSLATIONS = Path(__file__).parent / "translations"


def compile_catalog(directory: Path, language: str) -> NullTranslations:
    """The catalog of ``language`` under ``directory`` (``LANG/LC_MESSAGES/messages.po``);
    the messages as written when there is none."""
    source = directory / language / "LC_MESSAGES" / "messages.po"
    if not source.is_file():
        return NullTranslations()
    with source.open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


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
