"""The SpiffWorkflow seam (engine/spiff/, the validator included) knows nothing of the PI
method: its callers give it the rule sets and the form parser. And nothing outside the seam
imports SpiffWorkflow."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

SEAM = "picycle.engine.spiff"
PI_METHOD = {"picycle.engine.rules", "picycle.engine.forms"}


def imported_modules(source: str, package: str) -> set[str]:
    """The modules the source imports, relative imports resolved against ``package``; a
    name imported from a package counts as a module too (``from ... import forms``)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = parts[: len(parts) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def modules_of(package: str) -> Iterator[tuple[str, set[str]]]:
    """Each module of an installed picycle package: its dotted name and what it imports."""
    root = Path(find_spec(package).submodule_search_locations[0])
    for path in sorted(root.rglob("*.py")):
        folder = ".".join([package, *path.parent.relative_to(root).parts])
        module = folder if path.name == "__init__.py" else f"{folder}.{path.stem}"
        yield module, imported_modules(path.read_text(), folder)


def test_relative_imports_are_resolved():
    source = "from ...rules import RULES\nfrom ... import forms\nfrom .model import Bundle\n"
    found = imported_modules(source, "picycle.engine.spiff.validation")
    assert {"picycle.engine.rules", "picycle.engine.forms"} <= found
    assert "picycle.engine.spiff.validation.model" in found


def test_no_module_of_the_seam_imports_the_pi_method():
    found = {module: sorted(imports & PI_METHOD) for module, imports in modules_of(SEAM)}
    assert "picycle.engine.spiff.validation.references" in found
    assert {module: names for module, names in found.items() if names} == {}


def test_nothing_outside_the_seam_imports_spiffworkflow():
    found = {
        module: sorted(name for name in imports if name.split(".")[0] == "SpiffWorkflow")
        for package in ("picycle.engine", "picycle.api", "picycle.cli")
        for module, imports in modules_of(package)
        if not module.startswith(SEAM + ".")
    }
    assert "picycle.engine.services.definitions" in found
    assert {module: names for module, names in found.items() if names} == {}
