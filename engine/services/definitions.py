"""Deploying process definitions: content-hashed, versioned, spec serialized once."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from ..actors import Actor, require_admin
from ..bundles import MAX_NAME, name_problems, printable
from ..db.models import Deployment, DeploymentFile, Group, ProcessDefinition
from ..definition_diff import diff_bundles
from ..deployed import next_version
from ..errors import InvalidModel, NotFound
from ..forms import parse_form
from ..read_models import DefinitionDetail, DefinitionFile, DefinitionView, VersionDiagram
from ..rules import RULES
from ..safe_xml import RefusedXml, parse_untrusted
from ..spiff import serializer
from ..spiff.parser import parse_bundle
from ..spiff.validation import Problem, validate_bundle
from ..spiff.validation.model import BPMN_NS
from ..uow import UnitOfWork
from ..vocabulary import EventType


def bundle_hash(files: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class Deployed:
    """What a deployment did: new versions (none when the bundle was deployed before or in
    a dry run) and the validator's warnings."""

    definitions: list[DefinitionView]
    warnings: list[Problem]
    dry_run: bool = False
    # When the same files were deployed before: the versions they became then.
    already_deployed: list[DefinitionView] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not self.definitions and not self.dry_run


def require_deployer(actor: Actor) -> None:
    """PermissionDenied unless ``actor`` may deploy (an admin): lets an interface refuse
    before it reads an upload. ``deploy`` checks it again."""
    require_admin(actor, "deploy process definitions")


def deploy(
    uow: UnitOfWork, actor: Actor, files: Mapping[str, bytes], dry_run: bool = False
) -> Deployed:
    """Validate the bundle, then deploy a new version of each process it defines. An
    invalid bundle raises InvalidModel listing every problem, and nothing is deployed;
    nor is anything in a dry run or when the very same files were deployed before."""
    require_deployer(actor)
    bad_names = name_problems(dict(files))
    if bad_names:
        raise InvalidModel(
            f"the bundle has {len(bad_names)} problem(s); nothing was deployed",
            [_bundle_problem(name, message) for name, message in bad_names.items()],
        )
    known_groups = set(uow.session.scalars(select(Group.name)))
    problems = validate_bundle(
        files,
        rule_names=RULES.keys(),
        parse_form=parse_form,
        known_groups=known_groups,
        limits=uow.engine.limits,
    )
    errors = [p for p in problems if p.is_error]
    warnings = [p for p in problems if not p.is_error]
    if errors:
        raise InvalidModel(
            f"the bundle has {len(errors)} problem(s); nothing was deployed",
            [p.as_dict() for p in problems],
        )
    content_hash = bundle_hash(files)
    if dry_run:
        return Deployed([], warnings, dry_run=True)
    current = _current_versions_of(uow, content_hash)
    if current:
        return Deployed([], warnings, already_deployed=current)
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
            version=next_version(uow, process.process_id),
            name=process.name,
            deployment_id=deployment.id,
            spec=serializer.dump_spec(process.spec, process.subprocess_specs),
            deployed_at=uow.now,
        )
        uow.session.add(definition)
        uow.session.flush()
        uow.record(
            actor.name,
            EventType.DEFINITION_DEPLOYED,
            process_id=process.process_id,
            version=definition.version,
            content_hash=content_hash,
            files=sorted(files),
            warnings=[p.message for p in warnings],
        )
        definitions.append(_view(definition))
    uow.commit()
    return Deployed(definitions, warnings)


def _bundle_problem(file: str, message: str) -> dict:
    return {"severity": "error", "file": file, "line": None, "element_id": None, "message": message}


def _view(definition: ProcessDefinition) -> DefinitionView:
    return DefinitionView(
        process_id=definition.process_id,
        version=definition.version,
        name=definition.name,
        deployed_at=definition.deployed_at,
        deployed_by=definition.deployment.deployed_by,
        content_hash=definition.deployment.content_hash,
    )


def _current_versions_of(uow: UnitOfWork, content_hash: str) -> list[DefinitionView]:
    """The versions the newest deployment of these files became, when each is still its
    process's latest; else none: files deployed before newer versions are deployed again
    as new versions (a rollback)."""
    deployment_id = uow.session.scalar(
        select(Deployment.id)
        .where(Deployment.content_hash == content_hash)
        .order_by(Deployment.id.desc())
        .limit(1)
    )
    if deployment_id is None:
        return []
    definitions = list(
        uow.session.scalars(
            select(ProcessDefinition)
            .where(ProcessDefinition.deployment_id == deployment_id)
            .order_by(ProcessDefinition.process_id)
        )
    )
    newer = uow.session.scalar(
        select(func.count())
        .select_from(ProcessDefinition)
        .where(
            or_(
                *(
                    (ProcessDefinition.process_id == d.process_id)
                    & (ProcessDefinition.version > d.version)
                    for d in definitions
                )
            )
        )
    )
    return [] if newer else [_view(definition) for definition in definitions]


def checked_process_id(process_id: str) -> str:
    """Process ids are BPMN ids: one with control characters names nothing (NotFound)."""
    if not printable(process_id):
        raise NotFound("no process definition with such an id is deployed")
    return process_id


def latest_definitions(uow: UnitOfWork) -> list[DefinitionView]:
    """The newest version of every deployed process."""
    newest = (
        select(ProcessDefinition.process_id, func.max(ProcessDefinition.version).label("v"))
        .group_by(ProcessDefinition.process_id)
        .subquery()
    )
    return [
        _view(definition)
        for definition in uow.session.scalars(
            select(ProcessDefinition)
            .join(
                newest,
                (ProcessDefinition.process_id == newest.c.process_id)
                & (ProcessDefinition.version == newest.c.v),
            )
            .order_by(ProcessDefinition.process_id)
        )
    ]


def versions_of(uow: UnitOfWork, process_id: str) -> list[DefinitionView]:
    found = [
        _view(definition)
        for definition in uow.session.scalars(
            select(ProcessDefinition)
            .where(ProcessDefinition.process_id == process_id)
            .order_by(ProcessDefinition.version)
        )
    ]
    if not found:
        raise NotFound(f"no process definition '{process_id}' is deployed")
    return found


def _version(uow: UnitOfWork, process_id: str, version: int | None) -> ProcessDefinition:
    """The given version of a process, or its latest when ``version`` is None."""
    query = select(ProcessDefinition).where(ProcessDefinition.process_id == process_id)
    if version is None:
        query = query.order_by(ProcessDefinition.version.desc()).limit(1)
        missing = f"no process definition '{process_id}' is deployed; deploy it first"
    else:
        query = query.where(ProcessDefinition.version == version)
        missing = f"{process_id} has no version {version}"
    definition = uow.session.scalar(query)
    if definition is None:
        raise NotFound(missing)
    return definition


def definition_version(uow: UnitOfWork, process_id: str, version: int | None) -> DefinitionDetail:
    """A version (the latest when ``version`` is None) with the files of its bundle."""
    definition = _version(uow, process_id, version)
    files = sorted(_files(uow, definition).items())
    return DefinitionDetail(
        **vars(_view(definition)),
        files=[DefinitionFile(name, len(content)) for name, content in files],
    )


def bundle_files(uow: UnitOfWork, process_id: str, version: int) -> dict[str, bytes]:
    """Every file of the bundle the version was deployed from, by its path in the bundle."""
    return _files(uow, _version(uow, process_id, version))


def _files(uow: UnitOfWork, definition: ProcessDefinition) -> dict[str, bytes]:
    rows = uow.session.scalars(
        select(DeploymentFile).where(DeploymentFile.deployment_id == definition.deployment_id)
    )
    return {row.name: row.content.encode("utf-8") for row in rows}


def definition_file(uow: UnitOfWork, process_id: str, version: int, name: str) -> str:
    """One file of the bundle the version was deployed from, as it was deployed."""
    definition = _version(uow, process_id, version)
    content = None
    if printable(name) and len(name) <= MAX_NAME:
        content = uow.session.scalar(
            select(DeploymentFile.content).where(
                DeploymentFile.deployment_id == definition.deployment_id,
                DeploymentFile.name == name,
            )
        )
    if content is None:
        raise NotFound(f"version {version} of {process_id} has no file {name!r}")
    return content


def version_diagram(uow: UnitOfWork, process_id: str, version: int) -> VersionDiagram:
    """The BPMN file of the version's bundle that defines the process: its diagram."""
    definition = _version(uow, process_id, version)
    files = uow.session.scalars(
        select(DeploymentFile)
        .where(
            DeploymentFile.deployment_id == definition.deployment_id,
            DeploymentFile.name.like("%.bpmn"),
        )
        .order_by(DeploymentFile.name)
    )
    file = next((f for f in files if defines_process(f.content, process_id)), None)
    if file is None:
        raise NotFound(f"version {version} of {process_id} has no diagram")
    return VersionDiagram(process_id, version, file.name, file.content)


def defines_process(content: str, process_id: str) -> bool:
    """Whether the BPMN file defines the process: a bundle may hold several."""
    try:
        root = parse_untrusted(content.encode("utf-8"))
    except RefusedXml:  # deployed files were validated; an unreadable one defines nothing
        return False
    return any(process.get("id") == process_id for process in root.iter(f"{{{BPMN_NS}}}process"))


def diff_versions(uow: UnitOfWork, process_id: str, old: int, new: int) -> dict:
    """Elements, decision rules and form fields added, removed or changed from old to new."""
    before = _files(uow, _version(uow, process_id, old))
    after = _files(uow, _version(uow, process_id, new))
    return {
        "process_id": process_id,
        "from_version": old,
        "to_version": new,
        **diff_bundles(before, after),
    }
