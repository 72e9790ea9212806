"""What an evidence file is, judged by its content, and the name it is kept under.

The type comes from the file's first bytes (``filetype`` reads the magic numbers of the
formats below, with no system library to install); the name a browser sends and the type
it declares are never believed. Text is what is left: UTF-8 without control characters
(a CSV export of a measurement sheet). HTML or SVG then count as text and are served as
``text/plain``, as an attachment, never as a page.
"""

from __future__ import annotations

import re
import unicodedata

import filetype

TEXT = "text/plain"
# Sniffed type -> what people call it.
ACCEPTED = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "image/heic": "HEIC",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel (.xlsx)",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word (.docx)",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "PowerPoint (.pptx)"
    ),
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument spreadsheet",
    "application/vnd.oasis.opendocument.text": "OpenDocument text",
    "application/vnd.oasis.opendocument.presentation": "OpenDocument presentation",
    TEXT: "plain text or CSV (UTF-8)",
}
# Sniffed type -> the extensions a name of that type may end in; the first is added to a
# name that ends in none of them, so no download named 'checklist.js' or 'run.bat' holds
# text a computer would run on a double click.
EXTENSIONS = {
    "application/pdf": ("pdf",),
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg", "jpe", "jfif"),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "image/heic": ("heic", "heif"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("xlsx",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("pptx",),
    "application/vnd.oasis.opendocument.spreadsheet": ("ods",),
    "application/vnd.oasis.opendocument.text": ("odt",),
    "application/vnd.oasis.opendocument.presentation": ("odp",),
    TEXT: ("txt", "csv", "tsv", "text", "md"),
}
MAX_NAME_LENGTH = 200
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def accepted_kinds() -> str:
    return ", ".join(ACCEPTED.values())


def sniffed_type(content: bytes) -> str | None:
    """The media type the content shows itself to be, if it is one picycle keeps; None for
    anything else (a program, an archive, a binary it cannot tell)."""
    kind = filetype.guess(content)  # it reads the first 8 KiB
    if kind is not None:
        return kind.mime if kind.mime in ACCEPTED else None
    return TEXT if _is_text(content) else None


def detected_name(content: bytes) -> str:
    """What the content looks like, to say why it was refused."""
    kind = filetype.guess(content)
    return kind.mime if kind is not None else "binary data of no known type"


def _is_text(content: bytes) -> bool:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return bool(text) and not _TEXT_CONTROLS.search(text)


def safe_name(name: str | None, media_type: str) -> str:
    """The file's own name without any folder, control or formatting character, leading
    dots or surrounding space, ending in an extension of ``media_type`` (added when it
    ends in none), at most 200 characters (the extension kept); "evidence" when nothing
    is left. It is only ever shown and offered as a download name: files are kept under
    their hash."""
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", name or ""))[-1]
    kept = "".join(c for c in base if unicodedata.category(c)[0] not in "CZ" or c == " ")
    kept = kept.strip().lstrip(".").strip() or "evidence"
    fitting = EXTENSIONS[media_type]
    _, dot, extension = kept.rpartition(".")
    if not dot or extension.lower() not in fitting:
        kept = f"{kept}.{fitting[0]}"
    if len(kept) > MAX_NAME_LENGTH:
        stem, dot, extension = kept.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            kept = stem[: MAX_NAME_LENGTH - len(extension) - 1] + "." + extension
        else:
            kept = kept[:MAX_NAME_LENGTH]
    return kept
