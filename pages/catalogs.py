"""The ``.po`` catalogs under ``translations/``, compiled in memory the first time a
language is used; without Flask, so the leadership report (a PDF) speaks the same words as
the pages."""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

TRANSLATIONS = Path(__file__).parent / "translations"
LANGUAGES = ("en", "nl", "ar")
SOURCE_LANGUAGE = "en"


@cache
def compiled(language: str, directory: Path = TRANSLATIONS) -> NullTranslations:
    """The language's catalog; none (the source text, English) when it has none."""
    source = directory / language / "LC_MESSAGES" / "messages.po"
    if not source.is_file():
        return NullTranslations()
    with source.open("rb") as po:
        catalog = read_po(po, locale=language)
    mo = BytesIO()
    write_mo(mo, catalog)
    mo.seek(0)
    return Translations(mo)
