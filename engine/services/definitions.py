"""Deploying process definitions: content-hashed, versioned, spec serialized once."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from sqlalchemy import func, select

from ..actors import Actor, require_admin
from ..bundles import MAX_NAME, name_problems, printable
from ..db.models import Deployment, DeploymentFile, Group, ProcessDefinition
from ..definition_diff import diff_bundles
from ..errors import InvalidModel, NotFound
from ..forms import Form
from ..spiff import serializer
from ..spiff.parser import parse_bundle
from ..spiff.validation import Problem, validate_bundle
from ..spiff.validation.documents import FORMS_FOLDER
from ..uow import UnitOfWork


def bundle_hash(files: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class Deployed:
    """What a deployment did: new versions (none when the bundle was deployed before or in
    a dry run) and the validator's warnings."""

    definitions: list[ProcessDefinition]
    warnings: list[Problem]
    dry_run: bool = False
    # When the same files were deployed before: the versions they became then.
    already_deployed: list[ProcessDefinition] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not self.definitions and not self.dry_run


def deploy(
    uow: UnitOfWork, actor: Actor, files: Mapping[str, bytes], dry_run: bool = False
) -> Deployed:
    """Validate the bundle, then deploy a new version of each process it defines. An
    invalid bundle raises InvalidModel listing every problem, and nothing is deployed."""
    require_admin(actor, "deploy process definitions")
    bad_names = name_problems(dict(files))
    if bad_names:
        raise InvalidModel(
            f"the bundle has {len(bad_names)} problem(s); nothing was deployed",
            [_bundle_problem(name, message) for name, message in bad_names.items()],
        )
    known_groups = set(uow.session.scalars(select(Group.name)))
    problems = validate_bundle(files, known_groups=known_groups)
    errors = [p for p in problems if p.is_error]
    warnings = [p for p in problems if not p.is_error]
    if errors:
        raise InvalidModel(
            f"the bundle has {len(errors)} problem(s); nothing was deployed",
            [asdict(p) for p in problems],
        )
    content_hash = bundle_hash(files)
    existing = uow.session.scalar(select(Deployment).where(Deployment.content_hash == content_hash))
    if dry_run:
        return Deployed([], warnings, dry_run=True)
    if existing is not None:
        return Deployed([], warnings, already_deployed=_versions_from(uow, existing))
    deployment = Deployment(content_hash=content_hash, deployed_at=uow.now, deployed_by=actor.name)
    deployment.files = [
        DeploymentFile(name=name, content=content.decode("utf-8"))
        for name, content in sorted(files.items())
    ]
    uow.session.add(deployment)
    uow.session.flush()
    definitions = []
    for process in parse_bundle(files):
        definition = ProcessDefinition(
            process_id=process.process_id,
            version=_next_version(uow, process.process_id),
            name=process.name,
            deployment_id=deployment.id,
            spec=serializer.dump_spec(process.spec, process.subprocess_specs),
            deployed_at=uow.now,
        )
        uow.session.add(definition)
        uow.session.flush()
        uow.record(
            actor.name,
            "definition_deployed",
            process_id=process.process_id,
            version=definition.version,
            content_hash=content_hash,
            files=sorted(files),
            warnings=[p.message for p in warnings],
        )
        definitions.append(definition)
    return Deployed(definitions, warnings)


def _bundle_problem(file: str, message: str) -> dict:
    return {"severity": "error", "file": file, "line": None, "element_id": None, "message": message}


def _versions_from(uow: UnitOfWork, deployment: Deployment) -> list[ProcessDefinition]:
    return list(
        uow.session.scalars(
            select(ProcessDefinition)
            .where(ProcessDefinition.deployment_id == deployment.id)
            .order_by(ProcessDefinition.process_id)
        )
    )


def _next_version(uow: UnitOfWork, process_id: str) -> int:
    latest = uow.session.scalar(
        select(func.max(ProcessDefinition.version)).where(
            ProcessDefinition.process_id == process_id
        )
    )
    return (latest or 0) + 1


def latest_definitions(uow: UnitOfWork) -> list[ProcessDefinition]:
    """The newest version of every deployed process."""
    newest = (
        select(ProcessDefinition.process_id, func.max(ProcessDefinition.version).label("v"))
        .group_by(ProcessDefinition.process_id)
        .subquery()
    )
    return list(
        uow.session.scalars(
            select(ProcessDefinition)
            .join(
                newest,
                (ProcessDefinition.process_id == newest.c.process_id)
                & (ProcessDefinition.version == newest.c.v),
            )
            .order_by(ProcessDefinition.process_id)
        )
    )


def versions_of(uow: UnitOfWork, process_id: str) -> list[ProcessDefinition]:
    found = list(
        uow.session.scalars(
            select(ProcessDefinition)
            .where(ProcessDefinition.process_id == process_id)
            .order_by(ProcessDefinition.version)
        )
    )
    if not found:
        raise NotFound(f"no process definition '{process_id}' is deployed")
    return found


def definition_version(uow: UnitOfWork, process_id: str, version: int | None) -> ProcessDefinition:
    """The given version of a process, or its latest when ``version`` is None."""
    if version is None:
        return latest_definition(uow, process_id)
    definition = uow.session.scalar(
        select(ProcessDefinition).where(
            ProcessDefinition.process_id == process_id, ProcessDefinition.version == version
        )
    )
    if definition is None:
        raise NotFound(f"{process_id} has no version {version}")
    return definition


def definition_files(uow: UnitOfWork, definition: ProcessDefinition) -> dict[str, bytes]:
    """The files of the bundle the version was deployed from."""
    rows = uow.session.scalars(
        select(DeploymentFile).where(DeploymentFile.deployment_id == definition.deployment_id)
    )
    return {row.name: row.content.encode("utf-8") for row in rows}


def definition_file(uow: UnitOfWork, definition: ProcessDefinition, name: str) -> str:
    """One file of the bundle the version was deployed from, as it was deployed."""
    content = None
    if printable(name) and len(name) <= MAX_NAME:
        content = uow.session.scalar(
            select(DeploymentFile.content).where(
                DeploymentFile.deployment_id == definition.deployment_id,
                DeploymentFile.name == name,
            )
        )
    if content is None:
        raise NotFound(
            f"version {definition.version} of {definition.process_id} has no file {name!r}"
        )
    return content


def diff_versions(uow: UnitOfWork, process_id: str, old: int, new: int) -> dict:
    """Elements, decision rules and form fields added, removed or changed from old to new."""
    before = definition_files(uow, definition_version(uow, process_id, old))
    after = definition_files(uow, definition_version(uow, process_id, new))
    return {
        "process_id": process_id,
        "from_version": old,
        "to_version": new,
        **diff_bundles(before, after),
    }


def latest_definition(uow: UnitOfWork, process_id: str) -> ProcessDefinition:
    definition = uow.session.scalar(
        select(ProcessDefinition)
        .where(ProcessDefinition.process_id == process_id)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    )
    if definition is None:
        raise NotFound(f"no process definition '{process_id}' is deployed; deploy it first")
    return definition


def form_of(uow: UnitOfWork, deployment_id: int, form_file: str) -> Form:
    path = FORMS_FOLDER + form_file

    def load_text() -> str:
        return uow.session.scalar(
            select(DeploymentFile.content).where(
                DeploymentFile.deployment_id == deployment_id, DeploymentFile.name == path
            )
        )

    return uow.forms.get(deployment_id, path, load_text)


def spec_loader(uow: UnitOfWork, definition_id: int):
    """Reads a definition's serialized spec only when the runner's cache does not have it."""

    def load() -> str:
        return uow.session.scalar(
            select(ProcessDefinition.spec).where(ProcessDefinition.id == definition_id)
        )

    return load
