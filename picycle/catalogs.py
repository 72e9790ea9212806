"""Message catalogs read from their ``.po`` files and compiled in memory when a language is
first used: no build step, so no compiled file can fall out of step with its source. The
pages' catalogs and the e-mail notifications' both are read so."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations


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
