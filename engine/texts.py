"""A process bundle's translations: one catalog per language, ``translations/<language>.json``
beside the BPMN and the forms, deployed and kept with them, so that a running cycle keeps
its version's texts.

A catalog is a JSON object mapping an English text of the bundle (a task's name, a form's
or a field's title or description, an enum value, a task's instructions) to that text in
the catalog's language. What a catalog lacks is shown in English, as the model has it; a
``translations/en.json`` may give enum values their English labels.

A text with ``{}`` slots is a pattern, for the texts a model computes (a task title such
as ``'Implement: ' + microproject['title']``): ``"Implement: {}": "Uitvoeren: {}"`` turns
"Implement: Digital intake" into "Uitvoeren: Digital intake", each slot carrying over what
filled it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping

from .patterns import slotted

TEXTS_FOLDER = "translations/"
SOURCE_LANGUAGE = "en"  # the language models are written in
# A language tag as the pages name languages: "nl", "ar", "pt-BR".
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
MAX_TEXT = 10_000  # characters in one text or translation
SLOT = "{}"  # in a pattern, where the computed part of a text stands
# A text no entry translates is tried against every pattern, for every text a page shows:
# a catalog needs a few patterns (one per computed title), never thousands.
MAX_PATTERNS = 100


def catalog_name(language: str) -> str:
    return f"{TEXTS_FOLDER}{language}.json"


def is_catalog(name: str) -> bool:
    return name.startswith(TEXTS_FOLDER) and name.endswith(".json")


def catalog_faults(name: str, content: bytes) -> list[str]:
    """What is wrong with a catalog file; empty when it can be deployed."""
    language = name.removeprefix(TEXTS_FOLDER).removesuffix(".json")
    if not _LANGUAGE.match(language):
        return [
            f"is not named for a language: name it {TEXTS_FOLDER}<language>.json, e.g. "
            f"{catalog_name('nl')}"
        ]
    try:
        catalog = json.loads(content)
    except ValueError as error:
        return [f"is not valid JSON: {error}"]
    if not isinstance(catalog, dict):
        return ["must be one JSON object mapping each English text to its translation"]
    faults = [
        f"{key[:60]!r}: {fault}"
        for key, value in catalog.items()
        if (fault := _entry_fault(key, value))
    ]
    patterns = sum(SLOT in key for key in catalog)
    if patterns > MAX_PATTERNS:
        faults.append(
            f"has {patterns} patterns (texts with {SLOT} slots), over the limit of "
            f"{MAX_PATTERNS}: keep one for each text a model computes"
        )
    return faults


def _entry_fault(key: str, value: object) -> str | None:
    if not isinstance(value, str):
        return "the translation must be a string"
    if not key.strip() or not value.strip():
        return "neither the text nor its translation may be empty"
    if len(key) > MAX_TEXT or len(value) > MAX_TEXT:
        return f"a text may have at most {MAX_TEXT} characters"
    if key.count(SLOT) != value.count(SLOT):
        return f"a pattern's translation must have as many {SLOT} slots as the pattern"
    if SLOT in key and not key.replace(SLOT, "").strip():
        return f"a pattern needs words beside its {SLOT} slots"
    return None


class Catalog(Mapping[str, str]):
    """A deployed catalog: its texts, and its patterns ready to match. Read-only: the
    engine's cache shares it between requests."""

    def __init__(self, entries: Mapping[str, str]):
        self._entries = dict(entries)
        self._patterns = [
            (slotted(key.split(SLOT)), value) for key, value in self._entries.items() if SLOT in key
        ]

    def __getitem__(self, key: str) -> str:
        return self._entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def translate(self, source: str) -> str | None:
        """``source`` in the catalog's language, by its entry or the first pattern that
        matches it whole; None when neither does."""
        found = self._entries.get(source)
        if found is not None:
            return found
        for pattern, template in self._patterns:
            matched = pattern.fullmatch(source)
            if matched:
                parts = template.split(SLOT)
                filled = (
                    slot + part for slot, part in zip(matched.groups(), parts[1:], strict=True)
                )
                return parts[0] + "".join(filled)
        return None


def parse_catalog(content: str | None) -> Catalog:
    """A deployed catalog (checked at deploy); none at all: an empty one."""
    return Catalog(json.loads(content) if content else {})
