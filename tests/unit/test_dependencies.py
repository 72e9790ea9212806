"""Which part of picycle may import which, read from the source files themselves.

The engine knows nothing of its interfaces (no Flask, marshmallow, webargs; no api/, cli/
or pages/); SpiffWorkflow stays behind the seam in engine/spiff/; the interfaces (api/,
cli/, pages/) use the engine through its public face only: ``Engine``, the services, the
read models, the vocabulary, the errors, the actors, the user-name rule, the bundles (and
their decision tables) and the clock."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Import name -> folder, as pyproject.toml installs them.
PACKAGES = {
    "picycle": ROOT / "picycle",
    "picycle.api": ROOT / "api",
    "picycle.cli": ROOT / "cli",
    "picycle.engine": ROOT / "engine",
    "picycle.pages": ROOT / "pages",
    "picycle.processes": ROOT / "processes",
}
INTERFACE_MAY_USE = (
    "picycle.engine",  # the package itself: Engine
    "picycle.engine.services",
    "picycle.engine.read_models",
    "picycle.engine.vocabulary",
    "picycle.engine.errors",
    "picycle.engine.actors",
    "picycle.engine.user_names",
    "picycle.engine.bundles",
    "picycle.engine.decision_table_edits",  # a bundle's decision tables, edited as tables
    "picycle.engine.clock",
    "picycle.engine.config",  # where the data lives, to tell the user
)
NOT_IN_THE_ENGINE = (
    "flask",
    "flask_smorest",
    "marshmallow",
    "webargs",
    "picycle.api",
    "picycle.cli",
    "picycle.pages",
)


@dataclass(frozen=True)
class Import:
    file: Path
    line: int
    module: str  # absolute; for ``from package import submodule``, the submodule

    def __str__(self) -> str:
        return f"{self.file.relative_to(ROOT)}:{self.line} imports {self.module}"

    def is_of(self, *modules: str) -> bool:
        return any(self.module == m or self.module.startswith(m + ".") for m in modules)


def module_name(file: Path) -> tuple[str, bool]:
    """The import name of a source file, and whether it is a package's ``__init__``."""
    for name, folder in sorted(PACKAGES.items(), key=lambda item: -len(str(item[1]))):
        if file.is_relative_to(folder):
            parts = list(file.relative_to(folder).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            return ".".join([name, *parts]), is_package
    raise AssertionError(f"{file} is in no package")


def is_module(name: str) -> bool:
    """Whether ``name`` is one of picycle's modules or packages (not a name inside one)."""
    for package, folder in PACKAGES.items():
        if name == package:
            return True
        if name.startswith(package + "."):
            path = folder.joinpath(*name[len(package) + 1 :].split("."))
            if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file():
                return True
    return False


def imports_of(file: Path) -> list[Import]:
    module, is_package = module_name(file)
    tree = ast.parse(file.read_text(), filename=str(file))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(file, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if not is_package:
                    base.pop()
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                target = f"{source}.{alias.name}"
                found.append(Import(file, node.lineno, target if is_module(target) else source))
    return found


def sources(*folders: str) -> list[Path]:
    files = [f for folder in folders for f in sorted((ROOT / folder).rglob("*.py"))]
    assert files, f"no source files in {folders}"
    return files


def test_imports_are_resolved_as_python_resolves_them(tmp_path, monkeypatch):
    monkeypatch.setitem(PACKAGES, "picycle.api", tmp_path / "api")
    view = tmp_path / "api" / "views" / "view.py"
    view.parent.mkdir(parents=True)
    view.write_text(
        "from picycle.engine import Engine, services\n"
        "from picycle.engine.db.models import Cycle\n"
        "from ...engine import uow\n"
        "from ..context import request_uow\n"
        "import SpiffWorkflow.bpmn\n"
        "def late():\n"
        "    from picycle.engine.services import tasks\n"
    )
    found = [i.module for i in imports_of(view)]
    assert found == [
        "picycle.engine",
        "picycle.engine.services",
        "picycle.engine.db.models",
        "picycle.engine.uow",
        "picycle.api.context",
        "SpiffWorkflow.bpmn",
        "picycle.engine.services.tasks",
    ]
    refused = [i.module for i in imports_of(view) if not interface_may_import(i)]
    assert refused == ["picycle.engine.db.models", "picycle.engine.uow"]


def test_the_engine_never_imports_its_interfaces():
    found = [i for f in sources("engine") for i in imports_of(f) if i.is_of(*NOT_IN_THE_ENGINE)]
    assert not found, "\n".join(map(str, found))


def test_only_the_seam_imports_spiffworkflow():
    seam = ROOT / "engine" / "spiff"
    found = [
        i
        for f in sources("engine", "api", "cli", "picycle")
        if not f.is_relative_to(seam)
        for i in imports_of(f)
        if i.is_of("SpiffWorkflow")
    ]
    assert not found, "\n".join(map(str, found))


def interface_may_import(found: Import) -> bool:
    if not found.is_of("picycle.engine"):
        return True
    return found.module == "picycle.engine" or found.is_of(*INTERFACE_MAY_USE[1:])


@pytest.mark.parametrize("interface", ["api", "cli", "pages"])
def test_the_interfaces_use_only_the_engines_public_face(interface):
    found = [i for f in sources(interface) for i in imports_of(f) if not interface_may_import(i)]
    assert not found, "\n".join(map(str, found))


@pytest.mark.parametrize("interface", ["api", "cli", "pages"])
def test_the_interfaces_never_reach_into_the_session(interface):
    """``uow.session`` is the engine's own: interfaces hand the unit of work to services."""
    found = []
    for file in sources(interface):
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "session":
                found.append(f"{file.relative_to(ROOT)}:{node.lineno} uses .session")
    assert not found, "\n".join(found)
