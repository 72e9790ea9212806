"""Calls that compile but can never run in the sandbox, found before a model is deployed.

RestrictedPython refuses imports and underscore names when it compiles; the rest of what
the sandbox refuses shows only when the code runs. A call of a name that is neither offered
nor defined in the script, or a read of an attribute the sandbox guards ('.format'), fails
every time it runs, and so do the date methods that need Python's time module, which model
code cannot load ('date.today()' fails inside the interpreter on the missing __import__).
"""

from __future__ import annotations

import ast
import builtins
import difflib

from ..sandbox import attribute_refusal, offered_names

# Date and time methods that load the time module when called, with what works instead.
_NEED_THE_TIME_MODULE = {
    "today": "datetime.now(timezone.utc).date() for today's date",
    "strftime": ".isoformat(), or an f-string of .year, .month and .day",
    "strptime": "datetime.fromisoformat()",
    "timetuple": ".year, .month, .day, .hour and .minute",
    "utctimetuple": ".year, .month, .day, .hour and .minute",
}


def call_problems(source: str, mode: str) -> list[str]:
    """What in ``source`` (which compiles) the sandbox will refuse or cannot run, each as
    "Line N: ..."; ``mode`` is "exec" for scripts, "eval" for expressions."""
    tree = ast.parse(source, mode=mode)
    defined = _defined_names(tree)
    offered = offered_names()
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and (refusal := attribute_refusal(node.attr)):
            found.append((node.lineno, refusal))
        elif isinstance(called := _called_name(node), str):
            if called not in offered and called not in defined:
                found.append((node.lineno, _unavailable(called, offered | defined)))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            instead = _NEED_THE_TIME_MODULE.get(node.func.attr)
            if instead is not None:
                message = (
                    f"'.{node.func.attr}()' cannot run in model scripts: it needs Python's time "
                    f"module, which model code cannot load; use {instead}"
                )
                found.append((node.lineno, message))
    return [f"Line {line}: {message}" for line, message in sorted(found)]


def _called_name(node: ast.AST) -> str | None:
    """The plain name a call calls (len in len(x)) or a bare raise raises (raise Stop); task
    data, which holds JSON, can never provide one."""
    target = node.func if isinstance(node, ast.Call) else getattr(node, "exc", None)
    return (
        target.id
        if isinstance(node, (ast.Call, ast.Raise)) and isinstance(target, ast.Name)
        else None
    )


def _unavailable(name: str, known: frozenset[str] | set[str]) -> str:
    if name in vars(builtins):
        return f"'{name}' is not available in model scripts"
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f"; did you mean {close[0]}()?" if close else ""
    return f"'{name}' is neither a function model scripts offer nor defined in the script{hint}"


def _defined_names(tree: ast.AST) -> set[str]:
    """Every name the code binds anywhere: assigned, defined, a parameter or a loop variable
    (scopes are not told apart: a name defined anywhere is given the benefit of the doubt)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
    return names
