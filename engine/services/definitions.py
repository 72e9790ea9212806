"""Deploying process definitions: content-hashed, versioned, spec serialized once."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from sqlalchemy import func, select

from ..actors import Actor, require_admin
from ..db.models import Deployment, DeploymentFile, ProcessDefinition
from ..errors import NotFound, ValidationFailed
from ..forms import Form, parse_form
from ..spiff import serializer
from ..spiff.parser import ParsedProcess, parse_bundle
from ..uow import UnitOfWork

FORMS_FOLDER = "forms/"


def bundle_hash(files: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def deploy(uow: UnitOfWork, actor: Actor, files: Mapping[str, bytes]) -> list[ProcessDefinition]:
    """A new version of each process the bundle defines; none when the bundle is unchanged."""
    require_admin(actor, "deploy process definitions")
    content_hash = bundle_hash(files)
    existing = uow.session.scalar(select(Deployment).where(Deployment.content_hash == content_hash))
    if existing is not None:
        return []
    processes = parse_bundle(files)
    _check_forms(processes, files)
    deployment = Deployment(content_hash=content_hash, deployed_at=uow.now, deployed_by=actor.name)
    deployment.files = [
        DeploymentFile(name=name, content=content.decode("utf-8"))
        for name, content in sorted(files.items())
    ]
    uow.session.add(deployment)
    uow.session.flush()
    definitions = []
    for process in processes:
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
        )
        definitions.append(definition)
    return definitions


def _next_version(uow: UnitOfWork, process_id: str) -> int:
    latest = uow.session.scalar(
        select(func.max(ProcessDefinition.version)).where(
            ProcessDefinition.process_id == process_id
        )
    )
    return (latest or 0) + 1


def _check_forms(processes: list[ParsedProcess], files: Mapping[str, bytes]) -> None:
    """Every form a user task names is in the bundle and is a valid JSON Schema."""
    errors: dict[str, list[str]] = {}
    for process in processes:
        for spec in [process.spec, *process.subprocess_specs.values()]:
            for task_spec in spec.task_specs.values():
                extensions = getattr(task_spec, "extensions", None) or {}
                form_file = extensions.get("properties", {}).get("formJsonSchemaFilename")
                if not form_file:
                    continue
                path = FORMS_FOLDER + form_file
                if path not in files:
                    errors.setdefault(task_spec.bpmn_id, []).append(
                        f"form {form_file} is not in the bundle (expected at {path})"
                    )
                    continue
                try:
                    parse_form(path, files[path])
                except ValidationFailed as error:
                    errors.setdefault(task_spec.bpmn_id, []).append(str(error))
    if errors:
        raise ValidationFailed("the bundle's forms are missing or invalid", errors)


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
