"""A PDF read back as a person and a machine would: each page drawn as a PNG (poppler's
``pdftoppm``) and its text extracted (``pdftotext``), in reading order.

The report's first pages are kept as pictures under ``test-artifacts/reports/``, which CI
keeps beside the pages' screenshots.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support import unavailable

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "reports"
# Marks pdftotext puts around a right-to-left run; not part of the text itself.
BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# pdftotext turns a right-to-left run around glyph by glyph, and with it the two letters
# of a lam-alef ligature (one glyph): it prints alef before lam.
LAM_ALEF = re.compile("ل([اأإآ])")
WORD_BOX = re.compile(
    r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>'
)


@dataclass(frozen=True)
class PdfRead:
    pages: list[Path]  # one PNG per page
    text: str  # bidi marks taken out
    width: float  # of the first page, in points
    words: list[tuple[float, float, str]]  # (left, right, word), in reading order

    def shows(self, phrase: str) -> bool:
        """Whether ``phrase`` is in the text, in logical (reading) order."""
        return " ".join(LAM_ALEF.sub(r"\1ل", phrase).split()) in " ".join(self.text.split())

    def word_edges(self, word: str) -> tuple[float, float]:
        """Where the first occurrence of ``word`` stands, from the page's left edge. (With
        boxes, pdftotext prints a right-to-left word in the order its glyphs stand.)"""
        return next((left, right) for left, right, w in self.words if word in (w, w[::-1]))


def read_pdf(document: bytes, folder: Path, keep_as: str | None = None) -> PdfRead:
    """``keep_as``: the name under which its first page is kept in ``test-artifacts``."""
    for tool in ("pdftoppm", "pdftotext"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} (poppler-utils) is not installed")
    source = folder / "document.pdf"
    source.write_bytes(document)
    subprocess.run(["pdftoppm", "-png", "-r", "100", source, folder / "page"], check=True)
    pages = sorted(folder.glob("page-*.png"))
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", source, "-"], check=True, capture_output=True, text=True
    ).stdout
    boxes = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", source, "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    width = float(re.search(r'<page width="([\d.]+)"', boxes).group(1))
    words = [
        (float(left), float(right), BIDI_MARKS.sub("", word))
        for left, right, word in WORD_BOX.findall(boxes)
    ]
    if keep_as and pages:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pages[0], ARTIFACTS / f"{keep_as}.png")
    return PdfRead(pages, BIDI_MARKS.sub("", text), width, words)
