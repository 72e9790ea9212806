"""One word for each of the method's terms in each language, the same on the pages, in the
leadership report and in the shipped process's own texts."""

from __future__ import annotations

import json
import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def pages_catalog(language: str) -> dict[str, str]:
    path = ROOT / "pages" / "translations" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        catalog = read_po(po)
    return {
        (m.id if isinstance(m.id, str) else m.id[0]): (
            m.string if isinstance(m.string, str) else " ".join(m.string)
        )
        for m in catalog
        if m.id
    }


def process_catalog(language: str) -> dict[str, str]:
    path = ROOT / "processes" / "translations" / f"{language}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def every_translation(language: str) -> dict[str, str]:
    return pages_catalog(language) | process_catalog(language)


def test_dutch_calls_a_gap_a_knelpunt_everywhere():
    assert pages_catalog("nl")["Gap"] == process_catalog("nl")["Gap"] == "Knelpunt"
    other_word = {
        source: text
        for source, text in every_translation("nl").items()
        if re.search(r"\bklo(of|ven)\b", text, re.IGNORECASE)
    }
    assert not other_word


def test_arabic_keeps_a_form_apart_from_a_model():
    catalog = every_translation("ar")
    assert "استمارة" in catalog["Edit the form"] and "نموذج" in catalog["Edit the model"]
    for source, text in catalog.items():
        if re.search(r"\bforms?\b", source) and "form this field takes" not in source:
            assert re.search("استمار", text), (source, text)
        if re.search(r"\bmodels?\b", source, re.IGNORECASE):
            assert not re.search("استمار", text), (source, text)
        if re.search("نموذج|نماذج", text):
            assert not re.search(r"\bforms?\b", source), (source, text)
