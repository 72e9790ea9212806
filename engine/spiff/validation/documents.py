"""Rule 1: the bundle's files are within size limits, UTF-8, and safe, well-formed XML.

Uploaded XML is untrusted: it is read by ``engine.safe_xml``, which refuses a DOCTYPE outright
and never loads a DTD, expands an entity or fetches anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree

from ...safe_xml import DoctypeDeclared, NotWellFormed, parse_untrusted
from ...texts import TEXTS_FOLDER, is_catalog
from ..limits import DEFAULT_LIMITS, ModelLimits, variable_name
from .problems import BUNDLE, ERROR, WARNING, Problem

MAX_FILES = 500
FORMS_FOLDER = "forms/"  # where user tasks' forms live; the rest of picycle reads it from here


@dataclass(frozen=True)
class Document:
    """One parsed .bpmn or .dmn file."""

    name: str
    root: etree._Element


@dataclass(frozen=True)
class ReadFiles:
    files: dict[str, bytes]  # every file that passed the size and encoding checks
    bpmn: list[Document]
    dmn: list[Document]
    problems: list[Problem]


def read_files(files: object, limits: ModelLimits = DEFAULT_LIMITS) -> ReadFiles:
    problems: list[Problem] = []
    if not isinstance(files, Mapping):
        problems.append(Problem(ERROR, BUNDLE, None, None, "the bundle is not a set of files"))
        return ReadFiles({}, [], [], problems)
    if not any(isinstance(name, str) and name.endswith(".bpmn") for name in files):
        problems.append(Problem(ERROR, BUNDLE, None, None, "the bundle holds no .bpmn file"))
    accepted = _accepted_files(files, problems, limits)
    bpmn, dmn = [], []
    for name, content in accepted.items():
        if name.endswith((".bpmn", ".dmn")):
            root = _parse_xml(name, content, problems)
            if root is not None:
                (bpmn if name.endswith(".bpmn") else dmn).append(Document(name, root))
        elif not (name.startswith(FORMS_FOLDER) and name.endswith(".json")) and not is_catalog(
            name
        ):
            problems.append(
                Problem(
                    WARNING,
                    name,
                    None,
                    None,
                    "is ignored: a bundle holds .bpmn and .dmn files, JSON Schema forms "
                    f"under {FORMS_FOLDER} and translations under {TEXTS_FOLDER}",
                )
            )
    return ReadFiles(accepted, bpmn, dmn, problems)


def _accepted_files(
    files: Mapping, problems: list[Problem], limits: ModelLimits
) -> dict[str, bytes]:
    if len(files) > MAX_FILES:
        message = f"the bundle has {len(files)} files; at most {MAX_FILES} are allowed"
        problems.append(Problem(ERROR, BUNDLE, None, None, message))
        return {}
    contents = {name: _as_bytes(content) for name, content in files.items()}
    total = sum(len(content) for content in contents.values() if content is not None)
    if total > limits.max_bundle_bytes:
        message = (
            f"the bundle is {total:,} bytes; at most {limits.max_bundle_bytes:,} are allowed "
            f"({variable_name('max_bundle_bytes')})"
        )
        problems.append(Problem(ERROR, BUNDLE, None, None, message))
        return {}
    accepted = {}
    for name, content in sorted(contents.items(), key=lambda item: str(item[0])):
        file = str(name)
        if not isinstance(name, str) or not name:
            problems.append(Problem(ERROR, BUNDLE, None, None, f"{name!r} is not a file name"))
        elif content is None:
            problems.append(Problem(ERROR, file, None, None, "is not file content (bytes)"))
        elif len(content) > limits.max_file_bytes:
            message = (
                f"is {len(content):,} bytes; a model file may have at most "
                f"{limits.max_file_bytes:,} ({variable_name('max_file_bytes')})"
            )
            problems.append(Problem(ERROR, file, None, None, message))
        elif not _is_utf8(content):
            message = "is not UTF-8 text: save it with UTF-8 encoding"
            problems.append(Problem(ERROR, file, None, None, message))
        else:
            accepted[name] = content
    return accepted


def _as_bytes(content: object) -> bytes | None:
    if isinstance(content, str):
        return content.encode("utf-8", errors="surrogatepass")
    if isinstance(content, (bytes, bytearray, memoryview)):
        return bytes(content)
    return None


def _is_utf8(content: bytes) -> bool:
    # Deployments store files as text: anything else would fail there.
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _parse_xml(name: str, content: bytes, problems: list[Problem]) -> etree._Element | None:
    try:
        return parse_untrusted(content)
    except NotWellFormed as error:
        message = f"is not well-formed XML ({error.reason}): save it again from a modeller"
        problems.append(Problem(ERROR, name, error.line, None, message))
    except DoctypeDeclared as error:
        message = (
            "declares a DOCTYPE; DTDs and entities are not allowed in model files: "
            "remove the <!DOCTYPE ...> declaration"
        )
        problems.append(Problem(ERROR, name, error.line, None, message))
    return None
