"""Evidence files on tasks: kept under their SHA-256 (files or database), audited,
readable by whoever may read the task, refused when too large, disguised or attached twice,
and checked again by verifying the trail."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile

import pytest
from picycle.engine import Engine
from picycle.engine.actors import SYSTEM
from picycle.engine.db.models import Evidence, EvidenceContent
from picycle.engine.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from picycle.engine.evidence_store import CLEAN_GRACE_SECONDS, DatabaseStore, FileStore
from picycle.engine.services import audit, evidence, users
from picycle.engine.services.audit import EventFilter
from sqlalchemy import func, select, update

from tests.support import Driver, ensure_unit
from tests.xes import read_traces

SHEET = b"indicator,actual\npermits,82\nbacklog,55\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(500)


def xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


@pytest.fixture
def storage() -> str:
    """Where evidence is kept: files, unless a test is run for both (``EITHER_STORE``)."""
    return "files"


EITHER_STORE = pytest.mark.parametrize("storage", ["files", "database"])


@pytest.fixture
def people(driver, database_url, clock, tmp_path, storage) -> Driver:
    """The driver's people, on an engine keeping evidence in this test's own store."""
    store = FileStore(tmp_path / "kept") if storage == "files" else DatabaseStore()
    made = Driver(lambda: Engine(database_url, clock, store))
    yield made
    made.engine.dispose()


@pytest.fixture
def task_id(people) -> str:
    cycle_id = people.start()
    return people.task(cycle_id, "assess_performance").id


def attach(people: Driver, by: str, task_id: str, content: bytes, name: str = "sheet.csv"):
    actor = people.actor(by)
    with people.engine.unit_of_work() as uow:
        return evidence.attach_evidence(uow, actor, task_id, name, io.BytesIO(content))


def listed(people: Driver, by: str, task_id: str):
    actor = people.actor(by)
    with people.engine.unit_of_work(write=False) as uow:
        return evidence.list_evidence(uow, actor, task_id)


def download(people: Driver, by: str, task_id: str, evidence_id: int):
    actor = people.actor(by)
    with people.engine.unit_of_work(write=False) as uow:
        return evidence.open_evidence(uow, actor, task_id, evidence_id)


def verified(people: Driver):
    with people.engine.unit_of_work(write=False) as uow:
        return audit.verify_trail(uow, SYSTEM)


def nothing_kept(people: Driver, tmp_path) -> bool:
    with people.engine.unit_of_work(write=False) as uow:
        rows = uow.session.scalar(select(func.count()).select_from(Evidence))
        contents = uow.session.scalar(select(func.count()).select_from(EvidenceContent))
    files = list((tmp_path / "kept").rglob("*")) if (tmp_path / "kept").exists() else []
    events = [e for e in people.events() if e.type == "evidence_attached"]
    return rows == contents == 0 and not [f for f in files if f.is_file()] and not events


@EITHER_STORE
def test_an_attached_file_is_listed_downloaded_and_audited(people, task_id):
    attached = attach(people, "pia", task_id, SHEET, "measurements.csv")
    assert (attached.name, attached.size, attached.media_type) == (
        "measurements.csv",
        len(SHEET),
        "text/plain",
    )
    assert attached.sha256 == hashlib.sha256(SHEET).hexdigest()
    assert listed(people, "pia", task_id) == [attached]
    assert download(people, "pia", task_id, attached.id).content == SHEET
    (event,) = [e for e in people.events() if e.type == "evidence_attached"]
    assert (event.actor, event.task_id) == ("pia", task_id)
    assert event.data == {
        "evidence_id": attached.id,
        "name": "measurements.csv",
        "size": len(SHEET),
        "media_type": "text/plain",
        "sha256": attached.sha256,
    }


def test_the_exports_carry_each_files_hash(people, task_id, tmp_path):
    attached = attach(people, "pia", task_id, xlsx(), "sheet.xlsx")
    with people.engine.unit_of_work(write=False) as uow:
        exported = {
            format: "".join(audit.export_events(uow, SYSTEM, EventFilter(), format).chunks)
            for format in ("csv", "jsonl", "xes")
        }
    for text in exported.values():
        assert attached.sha256 in text
    path = tmp_path / "trail.xes"
    path.write_text(exported["xes"], encoding="utf-8")
    (trace,) = read_traces(path)
    (event,) = [e for e in trace if e["lifecycle:transition"] == "unknown"]
    assert event.activity() == "Assess performance"
    assert (event["evidence:name"], event["evidence:sha256"]) == ("sheet.xlsx", attached.sha256)


def test_a_program_named_like_a_picture_is_refused(people, task_id, tmp_path):
    with pytest.raises(ValidationFailed) as refused:
        attach(people, "pia", task_id, EXE, "photo.png")
    assert "application/x-msdownload" in refused.value.errors["file"][0]
    assert nothing_kept(people, tmp_path)


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02binary"], ids=["empty", "unknown"])
def test_empty_or_unknown_content_is_refused(people, task_id, tmp_path, content):
    with pytest.raises(ValidationFailed) as refused:
        attach(people, "pia", task_id, content)
    assert list(refused.value.errors) == ["file"]
    assert nothing_kept(people, tmp_path)


class Counted(io.BytesIO):
    """A body that says how much of it was read."""

    def __init__(self, content: bytes):
        super().__init__(content)
        self.taken = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk


def test_an_oversized_file_is_refused_after_one_byte_past_the_limit(
    people, task_id, tmp_path, monkeypatch
):
    monkeypatch.setenv("PICYCLE_EVIDENCE_MAX_BYTES", "1000")
    people.restart()
    body = Counted(PNG * 100)
    with people.engine.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        evidence.attach_evidence(uow, people.actor("pia"), task_id, "big.png", body)
    assert refused.value.errors["file"] == ["larger than 1,000 bytes"]
    assert body.taken == 1001
    assert nothing_kept(people, tmp_path)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../../etc/passwd.csv", "passwd.csv"),
        ("..\\..\\boot.ini", "boot.ini.txt"),
        ("C:\\Users\\pia\\sheet.csv", "sheet.csv"),
        ("\u202evsc.exe", "vsc.exe.txt"),  # right-to-left override: no name that lies
        ("..", "evidence.txt"),
        (None, "evidence.txt"),
    ],
)
def test_names_are_kept_without_folders_or_control_characters(
    people, task_id, tmp_path, sent, kept
):
    attached = attach(people, "pia", task_id, SHEET, sent)
    assert attached.name == kept
    # The file itself is named by its hash, inside the store: no name reaches elsewhere.
    (stored,) = [p for p in tmp_path.rglob("*") if p.is_file() and "picycle.db" not in p.name]
    assert stored == tmp_path / "kept" / attached.sha256[:2] / attached.sha256


@EITHER_STORE
def test_the_same_file_twice_on_a_task_is_refused_and_kept_once_for_two_tasks(
    people, task_id, tmp_path, storage
):
    first = attach(people, "pia", task_id, PNG, "checklist.png")
    with pytest.raises(ValidationFailed) as refused:
        attach(people, "pia", task_id, PNG, "checklist again.png")
    assert f"evidence {first.id}" in refused.value.errors["file"][0]
    assert listed(people, "pia", task_id) == [first]
    other = people.task(people.start(unit="Roads"), "assess_performance").id
    again = attach(people, "pia", other, PNG, "checklist.png")
    assert again.sha256 == first.sha256
    with people.engine.unit_of_work(write=False) as uow:
        contents = uow.session.scalar(select(func.count()).select_from(EvidenceContent))
    files = [p for p in (tmp_path / "kept").rglob("*") if p.is_file()]
    assert (contents, len(files)) == ((1, 0) if storage == "database" else (0, 1))


def test_who_may_not_read_the_task_cannot_attach_list_or_download(people, task_id):
    attached = attach(people, "pia", task_id, SHEET)
    # lena leads; the task is the PI unit's.
    for action in (
        lambda: attach(people, "lena", task_id, PNG),
        lambda: listed(people, "lena", task_id),
        lambda: download(people, "lena", task_id, attached.id),
    ):
        with pytest.raises(PermissionDenied):
            action()
    roads = ensure_unit(people.engine, "Roads")
    with people.engine.unit_of_work() as uow:
        users.add_user(uow, SYSTEM, "rami", "member", [], [("PI Unit", roads)])
    with pytest.raises(NotFound):  # a unit beyond rami's reach: as if it did not exist
        download(people, "rami", task_id, attached.id)
    with pytest.raises(PermissionDenied):  # auditors read, and change nothing
        attach(people, "audrey", task_id, PNG)
    assert download(people, "audrey", task_id, attached.id).content == SHEET


def test_evidence_of_another_task_is_not_found_by_its_id(people, task_id):
    attached = attach(people, "pia", task_id, SHEET)
    other = people.task(people.start(unit="Roads"), "assess_performance").id
    with pytest.raises(NotFound):
        download(people, "pia", other, attached.id)


def damage(people: Driver, tmp_path, storage: str, sha256: str, content: bytes | None) -> None:
    """Change (or, with None, delete) a kept file behind the application's back."""
    if storage == "files":
        path = tmp_path / "kept" / sha256[:2] / sha256
        path.chmod(0o640)
        if content is None:
            path.unlink()
        else:
            path.write_bytes(content)
        return
    with people.engine.database.begin() as connection:
        table = EvidenceContent.__table__
        if content is None:
            connection.execute(table.delete().where(table.c.sha256 == sha256))
        else:
            connection.execute(
                update(table).where(table.c.sha256 == sha256).values(content=content)
            )


@EITHER_STORE
@pytest.mark.parametrize(
    ("changed", "reason"), [(b"indicator,actual\npermits,99\n", "changed"), (None, "missing")]
)
def test_verify_names_a_changed_or_missing_file_with_its_task_and_cycle(
    people, task_id, tmp_path, storage, changed, reason
):
    attached = attach(people, "pia", task_id, SHEET, "measurements.csv")
    assert verified(people).intact
    damage(people, tmp_path, storage, attached.sha256, changed)
    result = verified(people)
    assert not result.intact and not result.breaks
    (found,) = result.damaged_evidence
    assert (found.evidence_id, found.name, found.task_id, found.cycle_id) == (
        attached.id,
        "measurements.csv",
        task_id,
        attached.cycle_id,
    )
    assert reason in found.reason
    with pytest.raises(Conflict):  # what is served is what was attached, or nothing
        download(people, "pia", task_id, attached.id)


@EITHER_STORE
def test_a_file_written_by_a_transaction_that_never_committed_is_cleaned_up(
    people, task_id, storage, monkeypatch
):
    kept = attach(people, "pia", task_id, SHEET)
    actor = people.actor("pia")

    def crash() -> None:
        raise RuntimeError("the process died before the commit")

    with people.engine.unit_of_work() as uow:
        monkeypatch.setattr(uow, "commit", crash)
        with pytest.raises(RuntimeError):
            evidence.attach_evidence(uow, actor, task_id, "lost.png", io.BytesIO(PNG))
    assert listed(people, "pia", task_id) == [kept]
    orphan = hashlib.sha256(PNG).hexdigest()
    store = people.engine.evidence_store
    if storage == "files":
        assert store.path_of(orphan).read_bytes() == PNG  # an orphan, never a missing file
        hour_ago = os.stat(store.path_of(orphan)).st_mtime - CLEAN_GRACE_SECONDS - 1
        os.utime(store.path_of(orphan), (hour_ago, hour_ago))
    with people.engine.unit_of_work() as uow:
        removed = evidence.clean_store(uow, SYSTEM)
    assert removed == (1 if storage == "files" else 0)
    with people.engine.unit_of_work(write=False) as uow:
        assert store.read(uow.session, orphan) is None
        assert store.read(uow.session, kept.sha256) == SHEET
    assert verified(people).intact


def test_only_admins_clean_the_store(people):
    with people.engine.unit_of_work() as uow, pytest.raises(PermissionDenied):
        evidence.clean_store(uow, people.actor("pia"))


def test_a_cycle_shows_the_evidence_of_the_tasks_one_may_read(people, task_id):
    attached = attach(people, "pia", task_id, SHEET)
    cycle_id = attached.cycle_id
    with people.engine.unit_of_work(write=False) as uow:
        seen = evidence.cycle_evidence(uow, people.actor("pia"), cycle_id)
        hidden_from = evidence.cycle_evidence(uow, people.actor("lena"), cycle_id)
    assert [(t.task_id, t.title, t.items) for t in seen] == [
        (task_id, "Assess performance", [attached])
    ]
    assert hidden_from == []
