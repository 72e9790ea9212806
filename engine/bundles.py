"""Reading a bundle of model files (BPMN, DMN, JSON Schema forms) from a folder or an
uploaded zip archive, and checking the names it holds."""

from __future__ import annotations

import io
import zipfile
import zlib
from importlib.resources import files
from pathlib import Path, PurePosixPath

from .errors import ValidationFailed
from .inputs import described, unseen_character
from .safe_xml import RefusedXml, parse_untrusted
from .spiff.limits import DEFAULT_LIMITS, ModelLimits, variable_name
from .spiff.validation.documents import FORMS_FOLDER
from .spiff.validation.documents import MAX_FILES as MAX_FILES  # files in a bundle, at most
from .spiff.validation.model import BPMN_NS
from .spiff.validation.problems import BUNDLE
from .texts import TEXTS_FOLDER

MODEL_SUFFIXES = (".bpmn", ".dmn", ".json")


def read_bundle(folder: Path) -> dict[str, bytes]:
    """Files keyed by their path relative to ``folder`` (``forms/x.schema.json``)."""
    if not folder.is_dir():
        raise ValidationFailed(f"{folder} is not a folder", {"path": ["not a folder"]})
    paths = sorted(folder.rglob("*"))
    _refuse_links_out(folder, paths)
    bundle = {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in paths
        if path.is_file() and path.suffix in MODEL_SUFFIXES
    }
    if not any(name.endswith(".bpmn") for name in bundle):
        raise ValidationFailed(f"{folder} holds no .bpmn file", {"path": ["no .bpmn file"]})
    return bundle


def _refuse_links_out(folder: Path, paths: list[Path]) -> None:
    """Symbolic links may point within the folder only: a bundle never publishes a file
    from elsewhere on the machine."""
    root = folder.resolve()
    leaving = [p for p in paths if p.is_symlink() and not p.resolve().is_relative_to(root)]
    if leaving:
        message = "is a symbolic link leading out of the bundle folder: copy the file in instead"
        names = [path.relative_to(folder).as_posix() for path in leaving]
        raise ValidationFailed(f"{', '.join(names)} {message}", {name: [message] for name in names})


MAX_ARCHIVE_FILES = MAX_FILES
MAX_RATIO = 100  # unpacked bytes per compressed byte: real models stay far below
_RATIO_FLOOR = 1024  # compressed bytes below which a member is judged as if it had this many
_CHUNK = 64 * 1024
# Only the compressions whose reading zipfile bounds chunk by chunk; bzip2 and lzma members
# would unpack a whole block at once, however large.
_COMPRESSIONS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
_REFUSED_COMPRESSIONS = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}


def read_zip(content: bytes, limits: ModelLimits = DEFAULT_LIMITS) -> dict[str, bytes]:
    """The model files of a zip archive, refusing paths that climb out of it (zip slip),
    absolute paths and members that unpack too large (zip bombs). Sizes are counted while
    unpacking, never taken from the archive's directory, which may lie."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = [
            m
            for m in archive.infolist()
            if not m.is_dir() and not m.filename.startswith("__MACOSX/")
        ]
    except (zipfile.BadZipFile, ValueError) as error:
        message = f"not a readable zip archive: {error}"
        raise ValidationFailed(message, {BUNDLE: [message]}) from error
    if len(members) > MAX_ARCHIVE_FILES:
        message = f"the archive holds more than {MAX_ARCHIVE_FILES} files"
        raise ValidationFailed(message, {BUNDLE: [message]})
    bundle = {}
    unpacked = 0
    for member in members:
        path = PurePosixPath(member.filename)
        if path.is_absolute() or ".." in path.parts or "\\" in member.filename:
            raise _refused(member, "is an unsafe path in archive: paths must stay inside it")
        if path.suffix in MODEL_SUFFIXES:
            bundle[path.as_posix()] = _unpack(
                archive, member, unpacked, archive_size=len(content), limits=limits
            )
            unpacked += len(bundle[path.as_posix()])
    return _without_common_folder(bundle)


def _unpack(
    archive: zipfile.ZipFile,
    member: zipfile.ZipInfo,
    before: int,
    archive_size: int,
    limits: ModelLimits,
) -> bytes:
    """One member, chunk by chunk, refused as soon as it passes a limit (``before``: the
    bytes the archive's other members unpacked to)."""
    method = member.compress_type
    if method not in _COMPRESSIONS:
        raise _refused(
            member,
            f"is compressed with {_REFUSED_COMPRESSIONS.get(method, f'method {method}')}; "
            "zip the bundle with the usual deflate compression (or none)",
        )
    # The compressed size is the directory's word too: never more than the archive.
    ratio_base = MAX_RATIO * max(min(member.compress_size, archive_size), _RATIO_FLOOR)
    chunks: list[bytes] = []
    read = 0
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                read += len(chunk)
                if read > limits.max_file_bytes:
                    raise _refused(
                        member,
                        f"unpacks to more than {limits.max_file_bytes:,} bytes "
                        f"({variable_name('max_file_bytes')})",
                    )
                if before + read > limits.max_bundle_bytes:
                    raise _refused(
                        member,
                        f"takes the archive past {limits.max_bundle_bytes:,} bytes unpacked "
                        f"({variable_name('max_bundle_bytes')})",
                    )
                if read > ratio_base:
                    raise _refused(
                        member, f"unpacks to more than {MAX_RATIO} times its compressed size"
                    )
                chunks.append(chunk)
    except _UNPACKING_ERRORS as error:
        raise _refused(member, f"cannot be unpacked: {type(error).__name__}") from error
    return b"".join(chunks)


def _refused(member: zipfile.ZipInfo, fault: str) -> ValidationFailed:
    name = member.filename if printable(member.filename) else repr(member.filename)
    return ValidationFailed(f"{name} {fault}", {name: [fault]})


# Damaged data, a wrong checksum, an encrypted member.
_UNPACKING_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
    ValueError,
)


def _without_common_folder(bundle: dict[str, bytes]) -> dict[str, bytes]:
    """``processes/pi_cycle.bpmn`` as ``pi_cycle.bpmn`` when one folder holds everything,
    as zipping a folder makes it (unless that folder is ``forms``)."""
    tops = {name.split("/", 1)[0] if "/" in name else None for name in bundle}
    if len(tops) != 1 or None in tops or tops == {FORMS_FOLDER.rstrip("/")}:
        return bundle
    return {name.split("/", 1)[1]: content for name, content in bundle.items()}


MAX_NAME = 255  # deployment_files.name


def name_problems(bundle: dict[str, bytes]) -> dict[str, str]:
    """What is wrong with the bundle's file names and with content a database cannot keep
    as text, by file; the validator judges everything else."""
    found = {}
    for name, content in bundle.items():
        fault = _name_fault(name)
        if fault:
            found[name if printable(name) else repr(name)] = fault
        elif b"\x00" in content and _is_utf8(content):  # else the validator says so
            found[name] = "contains NUL bytes: model files are UTF-8 text"
    return found


def _name_fault(name: str) -> str | None:
    if not name or len(name) > MAX_NAME:
        return f"a file name needs 1 to {MAX_NAME} characters: its path in the bundle"
    unseen = unseen_character(name)
    if unseen is not None:
        return f"a file name must not contain {described(unseen)}: it does not show as itself"
    path = PurePosixPath(name)
    if "\\" in name or name.startswith("/") or any(p in ("", ".", "..") for p in name.split("/")):
        return "must be a relative path inside the bundle, folders separated by /"
    if path.suffix not in MODEL_SUFFIXES:
        return (
            "a bundle holds .bpmn and .dmn files, JSON Schema forms and translations (.json) only"
        )
    if len(path.parts) > 1 and not name.startswith((FORMS_FOLDER, TEXTS_FOLDER)):
        return f"only forms and translations may be in a folder: {FORMS_FOLDER}, {TEXTS_FOLDER}"
    if name.startswith((FORMS_FOLDER, TEXTS_FOLDER)) and path.suffix != ".json":
        return (
            f"{FORMS_FOLDER} and {TEXTS_FOLDER} hold .json files; put BPMN and DMN files at the top"
        )
    return None


def _is_utf8(content: bytes) -> bool:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def printable(name: str) -> bool:
    """Every character shows as itself: no controls, lone surrogates, direction marks or
    zero-width characters. Text a database can store and a log shows, and a name that
    cannot pass for another."""
    return unseen_character(name) is None


def shipped_processes() -> Path:
    """The process definitions that ship with picycle."""
    return Path(str(files("picycle.processes")))


def process_file(bundle: dict[str, bytes], process_id: str) -> str | None:
    """The .bpmn file of the bundle that defines the process (None when none does)."""
    for name, content in sorted(bundle.items()):
        if name.endswith(".bpmn"):
            try:
                root = parse_untrusted(content)
            except RefusedXml:
                continue
            if any(p.get("id") == process_id for p in root.iter(f"{{{BPMN_NS}}}process")):
                return name
    return None
