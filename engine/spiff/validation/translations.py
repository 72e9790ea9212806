"""The bundle's translation catalogs (``translations/<language>.json``) are named for a
language and map texts to translations (``engine.texts`` says the format)."""

from __future__ import annotations

from collections.abc import Iterator

from ...texts import catalog_faults, is_catalog
from .model import Bundle
from .problems import ERROR, Problem


def check_translations(bundle: Bundle) -> Iterator[Problem]:
    for name, content in sorted(bundle.files.items()):
        if is_catalog(name):
            for fault in catalog_faults(name, content):
                yield Problem(ERROR, name, None, None, fault)
