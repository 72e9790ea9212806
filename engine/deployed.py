"""Reading deployed process models: which version is which, their specs for the runner and
their forms, each read from the database only when the engine's caches lack it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Select, func, select

from .cycle import DefinitionRef
from .db.models import DeploymentFile, ProcessDefinition
from .errors import NotFound
from .forms import Form, parse_form
from .read_models import ProcessTexts
from .spiff.path import ProcessPath
from .spiff.runner import CycleInstance
from .spiff.validation.documents import FORMS_FOLDER
from .texts import SOURCE_LANGUAGE, Catalog, catalog_name, parse_catalog

if TYPE_CHECKING:
    from .uow import UnitOfWork

_REF = select(
    ProcessDefinition.id,
    ProcessDefinition.process_id,
    ProcessDefinition.version,
    ProcessDefinition.deployment_id,
)


def _one(uow: UnitOfWork, query: Select, missing: str) -> DefinitionRef:
    row = uow.session.execute(query).one_or_none()
    if row is None:
        raise NotFound(missing)
    return DefinitionRef(*row)


def latest_version(uow: UnitOfWork, process_id: str) -> DefinitionRef:
    query = (
        _REF.where(ProcessDefinition.process_id == process_id)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    )
    return _one(uow, query, f"no process definition '{process_id}' is deployed; deploy it first")


def version_of(uow: UnitOfWork, process_id: str, version: int | None) -> DefinitionRef:
    """The given version of a process, or its latest when ``version`` is None."""
    if version is None:
        return latest_version(uow, process_id)
    query = _REF.where(
        ProcessDefinition.process_id == process_id, ProcessDefinition.version == version
    )
    return _one(uow, query, f"{process_id} has no version {version}")


def next_version(uow: UnitOfWork, process_id: str) -> int:
    latest = uow.session.scalar(
        select(func.max(ProcessDefinition.version)).where(
            ProcessDefinition.process_id == process_id
        )
    )
    return (latest or 0) + 1


class DeployedModels:
    """What a cycle asks of its process models, answered from the engine's caches."""

    def __init__(self, uow: UnitOfWork):
        self._uow = uow

    def form(self, definition: DefinitionRef, form_file: str) -> Form:
        path = FORMS_FOLDER + form_file

        def load() -> Form:
            text = self._uow.session.scalar(
                select(DeploymentFile.content).where(
                    DeploymentFile.deployment_id == definition.deployment_id,
                    DeploymentFile.name == path,
                )
            )
            return parse_form(path, text)

        return self._uow.engine.forms.get_or_load((definition.deployment_id, path), load)

    def _catalog(self, deployment_id: int, language: str) -> Catalog:
        """The deployment's catalog for ``language``; empty when it has none."""
        name = catalog_name(language)

        def load() -> Catalog:
            return parse_catalog(
                self._uow.session.scalar(
                    select(DeploymentFile.content).where(
                        DeploymentFile.deployment_id == deployment_id,
                        DeploymentFile.name == name,
                    )
                )
            )

        return self._uow.engine.texts.get_or_load((deployment_id, name), load)

    def process_texts(self, deployment_id: int, language: str) -> ProcessTexts:
        """The deployment's texts in ``language``, falling back to its English labels."""
        return ProcessTexts(
            self._catalog(deployment_id, language),
            self._catalog(deployment_id, SOURCE_LANGUAGE),
        )

    def start(self, definition: DefinitionRef, data: dict) -> CycleInstance:
        runner = self._uow.engine.runner
        return runner.start(definition.id, self._spec(definition), data, self._uow.now)

    def restore(self, definition: DefinitionRef, state: str) -> CycleInstance:
        return self._uow.engine.runner.restore(definition.id, self._spec(definition), state)

    def missing_elements(self, definition: DefinitionRef, state: str) -> list[str]:
        runner = self._uow.engine.runner
        return runner.missing_elements(definition.id, self._spec(definition), state)

    def passed_elements(self, definition: DefinitionRef, state: str) -> ProcessPath:
        runner = self._uow.engine.runner
        return runner.passed_elements(definition.id, self._spec(definition), state)

    def _spec(self, definition: DefinitionRef):
        def load() -> str:
            return self._uow.session.scalar(
                select(ProcessDefinition.spec).where(ProcessDefinition.id == definition.id)
            )

        return load
