"""Where evidence files are kept: as files under the data directory, or as rows in the
database, chosen by ``PICYCLE_EVIDENCE_STORAGE``. Either way a file is kept once, under its
SHA-256, however many tasks it is attached to, and is never changed.

The files' guarantee: a file is written to a temporary file beside the others, flushed to
disk, and renamed to its hash (an atomic step) *before* the transaction that refers to it
commits. A crash before that commit leaves at most a file nothing refers to, which
``picycle evidence clean`` removes; a reference that committed never lacks its file. In the
database, the content commits with its reference or not at all.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .config import data_dir
from .db.models import Evidence, EvidenceContent
from .db.statements import insert_new
from .errors import ConfigurationError

STORAGE = "PICYCLE_EVIDENCE_STORAGE"
DIRECTORY = "PICYCLE_EVIDENCE_DIR"
MAX_BYTES = "PICYCLE_EVIDENCE_MAX_BYTES"
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# A file younger than this may belong to a transaction still under way: clean-up spares it.
CLEAN_GRACE_SECONDS = 3600


class EvidenceStore(Protocol):
    def put(self, session: Session, sha256: str, content: bytes) -> None:
        """Keep ``content`` under its hash, before ``session`` commits its reference."""

    def read(self, session: Session, sha256: str) -> bytes | None:
        """The content kept under ``sha256``; None when it is missing."""

    def clean(self, session: Session) -> int:
        """Remove what no evidence refers to; how many files were removed."""


class FileStore:
    """Files named by their hash under ``directory`` (``ab/abcdef...``)."""

    def __init__(self, directory: Path):
        self.directory = directory

    def path_of(self, sha256: str) -> Path:
        return self.directory / sha256[:2] / sha256

    def put(self, session: Session, sha256: str, content: bytes) -> None:
        target = self.path_of(sha256)
        if target.exists() and sha256_of(target.read_bytes()) == sha256:
            os.utime(target)  # fresh again: clean-up spares it until this transaction ends
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.parent / f".{sha256}.{secrets.token_hex(8)}.tmp"
        try:
            with open(temporary, "xb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            temporary.chmod(0o440)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        _sync_directory(target.parent)

    def read(self, session: Session, sha256: str) -> bytes | None:
        try:
            return self.path_of(sha256).read_bytes()
        except FileNotFoundError:
            return None

    def clean(self, session: Session) -> int:
        referenced = set(session.scalars(select(Evidence.sha256).distinct()))
        old = time.time() - CLEAN_GRACE_SECONDS
        removed = 0
        for path in self.directory.glob("??/*"):
            if path.name not in referenced and path.stat().st_mtime < old:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


class DatabaseStore:
    """Rows of ``evidence_contents``, written in the transaction that refers to them."""

    def put(self, session: Session, sha256: str, content: bytes) -> None:
        insert_new(session, EvidenceContent.__table__, {"sha256": sha256, "content": content})

    def read(self, session: Session, sha256: str) -> bytes | None:
        return session.scalar(
            select(EvidenceContent.content).where(EvidenceContent.sha256 == sha256)
        )

    def clean(self, session: Session) -> int:
        referenced = select(Evidence.sha256)
        removed = session.execute(
            delete(EvidenceContent).where(EvidenceContent.sha256.not_in(referenced))
        )
        return removed.rowcount


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _sync_directory(directory: Path) -> None:
    """The rename is on disk once its directory is."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@dataclass(frozen=True)
class EvidenceSettings:
    """Read once, when the engine starts: a bad value stops it, naming the variable."""

    storage: str  # "files" or "database"
    directory: Path
    max_bytes: int

    @classmethod
    def from_environment(cls) -> EvidenceSettings:
        storage = os.environ.get(STORAGE, "files").strip().lower()
        if storage not in ("files", "database"):
            raise ConfigurationError(f"{STORAGE} must be files or database, not {storage!r}")
        directory = os.environ.get(DIRECTORY)
        text = os.environ.get(MAX_BYTES, str(DEFAULT_MAX_BYTES)).strip()
        if not text.isdecimal() or int(text) < 1:
            raise ConfigurationError(f"{MAX_BYTES} must be a whole number of bytes above 0")
        return cls(
            storage,
            Path(directory) if directory else data_dir() / "evidence",
            int(text),
        )

    def store(self) -> EvidenceStore:
        return FileStore(self.directory) if self.storage == "files" else DatabaseStore()
