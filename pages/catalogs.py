"""The ``.po`` catalogs under ``translations/``, compiled in memory the first time a
language is used; without Flask, so the leadership report (a PDF) speaks the same words as
the pages."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations

from picycle.catalogs import compile_catalog

TRANSLATIONS = Path(__file__).parent / "translations"
LANGUAGES = ("en", "nl", "ar")
SOURCE_LANGUAGE = "en"


@cache
def compiled(language: str, directory: Path = TRANSLATIONS) -> NullTranslations:
    """The language's catalog; none (the source text, English) when it has none."""
    return compile_catalog(directory, language)
