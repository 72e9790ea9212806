"""Evidence: files people attach to a task (a measurement sheet, a photo of the new
checklist). Whoever may read a task and is not an auditor attaches; whoever may read it
lists and downloads. Each attachment is an audit event with the file's name, size, type
and SHA-256; verifying the trail hashes every kept file again."""

from __future__ import annotations

from typing import BinaryIO

from sqlalchemy import select

from ..actors import Actor, may_read, require_admin, require_writer
from ..db.models import HELD_TASK_COLUMNS, AuditEvent, Evidence, Task
from ..errors import Conflict, NotFound, ValidationFailed
from ..evidence_files import accepted_kinds, detected_name, safe_name, sniffed_type
from ..evidence_store import sha256_of
from ..read_models import EvidenceDamage, EvidenceFile, EvidenceView, TaskEvidence
from ..uow import UnitOfWork
from ..vocabulary import EventType
from .cycles import get_cycle
from .tasks import readable_task

FIELD = "file"  # what errors about the uploaded file are filed under


def _view(row: Evidence) -> EvidenceView:
    return EvidenceView(
        row.id,
        row.task_id,
        row.cycle_id,
        row.name,
        row.media_type,
        row.size,
        row.sha256,
        row.attached_by,
        row.attached_at,
    )


def may_attach(uow: UnitOfWork, actor: Actor, task_id: str) -> None:
    """Refuse, before an upload is read, whoever may not attach evidence to the task."""
    require_writer(actor, "attach evidence to a task")
    readable_task(uow, actor, task_id)


def attach_evidence(
    uow: UnitOfWork, actor: Actor, task_id: str, name: str | None, upload: BinaryIO
) -> EvidenceView:
    """Attach a file to a task, open or closed. Refused, changing nothing, when it is over
    the size limit (no more than one byte past it is read), empty, of a type not kept
    (judged by its content), or attached to the task already."""
    cycle = uow.cycles.lock_for_task(task_id)
    task = cycle.open_tasks.get(task_id) or readable_task(uow, actor, task_id)[0]
    added = Evidence(
        task_id=task_id, cycle_id=cycle.id, attached_by=actor.name, attached_at=uow.now
    )

    def keep() -> dict:
        content = _read_within_limit(upload, uow.engine.evidence.max_bytes)
        added.media_type = _accepted_type(content)
        added.name = safe_name(name, added.media_type)
        added.size, added.sha256 = len(content), sha256_of(content)
        _refuse_twice(uow, task_id, added.sha256)
        uow.session.add(added)
        uow.session.flush()
        # Before the commit: a committed reference never lacks its file.
        uow.engine.evidence_store.put(uow.session, added.sha256, content)
        return {
            "evidence_id": added.id,
            "name": added.name,
            "size": added.size,
            "media_type": added.media_type,
            "sha256": added.sha256,
        }

    cycle.attach_evidence(actor, task, keep)
    attached = _view(added)
    uow.commit()
    return attached


def _read_within_limit(upload: BinaryIO, limit: int) -> bytes:
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise ValidationFailed(
            f"the file is larger than {limit:,} bytes, the limit for evidence",
            {FIELD: [f"larger than {limit:,} bytes"]},
        )
    if not content:
        raise ValidationFailed("the file is empty", {FIELD: ["is empty"]})
    return content


def _accepted_type(content: bytes) -> str:
    media_type = sniffed_type(content)
    if media_type is None:
        found = detected_name(content)
        raise ValidationFailed(
            f"the file is {found}, which is not kept as evidence; send {accepted_kinds()}",
            {FIELD: [f"is {found}; accepted: {accepted_kinds()}"]},
        )
    return media_type


def _refuse_twice(uow: UnitOfWork, task_id: str, sha256: str) -> None:
    there = uow.session.scalars(
        select(Evidence).where(Evidence.task_id == task_id, Evidence.sha256 == sha256)
    ).first()
    if there is not None:
        message = (
            f"this file is attached to the task already, as '{there.name}' "
            f"(evidence {there.id}, by {there.attached_by})"
        )
        raise ValidationFailed(message, {FIELD: [message]})


def list_evidence(uow: UnitOfWork, actor: Actor, task_id: str) -> list[EvidenceView]:
    """The task's evidence, oldest first, for whoever may read the task."""
    readable_task(uow, actor, task_id)
    found = uow.session.scalars(
        select(Evidence).where(Evidence.task_id == task_id).order_by(Evidence.id)
    )
    return [_view(row) for row in found]


def open_evidence(uow: UnitOfWork, actor: Actor, task_id: str, evidence_id: int) -> EvidenceFile:
    """One evidence file of a task, with its content, for whoever may read the task. A file
    no longer kept as it was attached is not served."""
    readable_task(uow, actor, task_id)
    row = uow.session.scalars(
        select(Evidence).where(Evidence.id == evidence_id, Evidence.task_id == task_id)
    ).first()
    if row is None:
        raise NotFound(f"task {task_id} has no evidence {evidence_id}")
    content = uow.engine.evidence_store.read(uow.session, row.sha256)
    damage = _damage(content, row.sha256)
    if damage:
        raise Conflict(f"evidence {evidence_id} ('{row.name}') is {damage}; it is not served")
    assert content is not None
    return EvidenceFile(_view(row), content)


def cycle_evidence(uow: UnitOfWork, actor: Actor, cycle_id: int) -> list[TaskEvidence]:
    """The evidence of each of the cycle's tasks the actor may read, in the order the
    tasks were attached to; NotFound for a cycle they may not see."""
    get_cycle(uow, actor, cycle_id)
    rows = uow.session.execute(
        select(Evidence, *HELD_TASK_COLUMNS)
        .join(Task, Task.id == Evidence.task_id)
        .where(Evidence.cycle_id == cycle_id)
        .order_by(Evidence.id)
    )
    by_task: dict[str, TaskEvidence] = {}
    for row in rows:
        if may_read(actor, row):
            evidence = row.Evidence
            found = by_task.setdefault(
                evidence.task_id, TaskEvidence(evidence.task_id, row.title, [])
            )
            found.items.append(_view(evidence))
    return list(by_task.values())


def damaged_evidence(uow: UnitOfWork) -> list[EvidenceDamage]:
    """Every file the trail says was attached, hashed again: those missing from the store,
    changed since, or listed under another hash than the trail recorded."""
    events = uow.session.execute(
        select(AuditEvent.cycle_id, AuditEvent.task_id, AuditEvent.data)
        .where(AuditEvent.type == EventType.EVIDENCE_ATTACHED)
        .order_by(AuditEvent.seq)
    )
    listed = {
        id: sha256 for id, sha256 in uow.session.execute(select(Evidence.id, Evidence.sha256))
    }
    checked: dict[str, str | None] = {}
    found = []
    for cycle_id, task_id, data in events:
        sha256 = data["sha256"]
        if sha256 not in checked:
            content = uow.engine.evidence_store.read(uow.session, sha256)
            checked[sha256] = _damage(content, sha256)
        damage = checked[sha256]
        if listed.get(data["evidence_id"]) != sha256:
            damage = "no longer listed with the SHA-256 the trail recorded"
        if damage:
            found.append(
                EvidenceDamage(data["evidence_id"], data["name"], task_id, cycle_id, damage)
            )
    return found


def _damage(content: bytes | None, sha256: str) -> str | None:
    if content is None:
        return "missing from the evidence store"
    if sha256_of(content) != sha256:
        return "changed: its content no longer has the SHA-256 the trail recorded"
    return None


def clean_store(uow: UnitOfWork, actor: Actor) -> int:
    """Remove kept files no evidence refers to (left by a crash before a commit); files
    younger than an hour are spared, as a transaction may be about to refer to them."""
    require_admin(actor, "clean the evidence store")
    removed = uow.engine.evidence_store.clean(uow.session)
    uow.commit()
    return removed
