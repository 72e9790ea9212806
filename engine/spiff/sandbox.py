"""Sandboxed Python for model scripts, gateway conditions, timer expressions and DMN entries.

Models are written by admins, and SpiffWorkflow's default environment runs any Python
(``import os``, ``open()``, dunder walks to ``object.__subclasses__``). Here every source is
compiled by RestrictedPython and run against a short list of harmless builtins and guards.
"""

from __future__ import annotations

import ast
import builtins
import copy
import functools
import operator
import re
from datetime import date, datetime, timedelta, timezone
from types import CodeType
from typing import NamedTuple

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Guards import (
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr_raise,
)
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, RestrictingNodeTransformer
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from . import budget
from .limits import ModelLimits


class ScriptRejected(Exception):
    """A model script or expression tried something the sandbox does not allow."""


# --- what model code can see ------------------------------------------------------------------

_WITHHELD = {
    # Models need no classes and no attribute writes; _getattr_ is ours (below).
    "__build_class__",
    "setattr",
    "delattr",
    "_getattr_",
    # Exceptions outside Exception would slip past the engine's error handling.
    "BaseException",
    "SystemExit",
    "KeyboardInterrupt",
    "GeneratorExit",
}
# Added for everyday data wrangling. map/filter are left out: comprehensions do the same.
_EXTRAS = (all, any, dict, enumerate, list, max, min, reversed, set, sorted, sum, tuple, zip)
_BUILTINS = {name: value for name, value in safe_builtins.items() if name not in _WITHHELD}
_BUILTINS.update((extra.__name__, extra) for extra in _EXTRAS)
# Builtins that could build without bound inside C, as budgeted versions (str() calls are
# rewritten at compile time instead, so that ``isinstance(x, str)`` keeps working).
_BUILTINS.update(
    range=budget.bounded_range,
    sum=budget.numeric_sum,
    pow=budget.power,
    repr=budget.representation,
    hash=budget.hashed,
)

# Real Python builtins a model cannot use; a NameError on one of these is a refusal.
_UNAVAILABLE = frozenset(vars(builtins)) - frozenset(_BUILTINS)

# Timer expressions compute dates; these classes do no I/O.
_MODEL_GLOBALS = {"date": date, "datetime": datetime, "timedelta": timedelta, "timezone": timezone}

# str.format can walk attributes ('{0.__class__}'); mro leads to object.
_INTERNAL_ATTRIBUTES = INSPECT_ATTRIBUTES | {"format", "format_map", "mro"}


def _guarded_getattr(obj, name):
    if name.startswith("_"):
        raise ScriptRejected(f"names starting with '_' are not allowed in model scripts ('{name}')")
    if name in ("format", "format_map"):
        raise ScriptRejected(f"'.{name}()' is not allowed in model scripts: use an f-string or +")
    if name in _INTERNAL_ATTRIBUTES:
        raise ScriptRejected(f"'{name}' reaches into Python internals and is not allowed")
    # safer_getattr_raise (not safer_getattr): a missing attribute is an error, not None.
    attribute = safer_getattr_raise(obj, name)
    if isinstance(obj, str):
        return budget.text_method(obj, name, attribute)
    if isinstance(obj, (list, dict, set)):
        return budget.container_method(obj, name, attribute)
    return attribute


def _guarded_write(obj):
    # Scripts may change task data (dicts and lists), never objects or classes.
    if isinstance(obj, (dict, list)):
        return obj
    raise ScriptRejected(
        f"only dicts and lists can be changed in model scripts, not {type(obj).__name__}"
    )


_INPLACE = {
    "+=": budget.add_in_place,
    "-=": operator.isub,
    "*=": budget.multiply,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": budget.remainder,
    "**=": budget.power,
    "<<=": budget.shift_left,
    "|=": operator.ior,
    "&=": operator.iand,
}


def _inplace(op, target, value):
    if op not in _INPLACE:
        raise ScriptRejected(f"'{op}' is not supported in model scripts: write x = x {op[:-1]} y")
    return _INPLACE[op](target, value)


def _apply(func, *args, **kwargs):
    return func(*args, **kwargs)


# The names RestrictedPython's rewritten code calls. They go into the namespace last, so task
# data (partly filled in by end users) can never replace them.
_GUARDS = {
    "__builtins__": _BUILTINS,
    "_getattr_": _guarded_getattr,
    "_getitem_": budget.item,
    "_getiter_": budget.ticking,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": _guarded_write,
    "_inplacevar_": _inplace,
    "_apply_": _apply,
    # Calls the compiler puts into model code (see _ModelPolicy).
    "_tick_": budget.tick,
    "_add_": budget.add,
    "_mul_": budget.multiply,
    "_pow_": budget.power,
    "_lshift_": budget.shift_left,
    "_mod_": budget.remainder,
    "_str_": budget.text,
    "_bounded_": budget.bounded,
    "_items_": budget.items,
}
# Builtins that compare or hash all their argument holds (str() is rewritten to _str_).
_GOING_THROUGH = frozenset({"set", "dict", "sorted", "min", "max"})
_BINARY_GUARDS = {
    ast.Add: "_add_",
    ast.Mult: "_mul_",
    ast.Pow: "_pow_",
    ast.LShift: "_lshift_",
    ast.Mod: "_mod_",
}


def _placed(node: ast.AST, like: ast.AST) -> ast.AST:
    """``node`` with the position of ``like`` on each new part of it (errors point there)."""
    for part in ast.walk(node):
        if not hasattr(part, "lineno") and "lineno" in part._attributes:
            ast.copy_location(part, like)
    return node


def _call(guard: str, *arguments: ast.expr, like: ast.AST) -> ast.Call:
    call = ast.Call(func=ast.Name(guard, ast.Load()), args=list(arguments), keywords=[])
    return _placed(call, like)


def _bounded(node: ast.expr) -> ast.expr:
    """``node`` checked by the budget before use; constants need no check."""
    return node if isinstance(node, ast.Constant) else _call("_bounded_", node, like=node)


def _tick(like: ast.AST) -> ast.Expr:
    return _placed(ast.Expr(_call("_tick_", like=like)), like)


# --- compiling ---------------------------------------------------------------------------------


class _ModelPolicy(RestrictingNodeTransformer):
    """RestrictedPython's rules, plus refusing at compile time what it would leave to runtime,
    plus the budget: a tick in every loop and function, and operators that can build without
    bound (``*``, ``**``, ``<<``, ``%``, ``str()``) through budgeted calls. The calls are put
    in after RestrictedPython has checked the node, so its rule on '_' names does not apply."""

    def visit_While(self, node):
        node = super().visit_While(node)
        node.body.insert(0, _tick(node))
        return node

    def visit_FunctionDef(self, node):
        node = super().visit_FunctionDef(node)
        node.body.insert(0, _tick(node))
        return node

    def visit_Lambda(self, node):
        node = super().visit_Lambda(node)
        # lambda args: (_tick_(), body)[1]
        both = ast.Tuple([_call("_tick_", like=node), node.body], ast.Load())
        node.body = _placed(ast.Subscript(both, ast.Constant(1), ast.Load()), node)
        return node

    def visit_BinOp(self, node):
        node = super().visit_BinOp(node)
        guard = _BINARY_GUARDS.get(type(node.op))
        return node if guard is None else _call(guard, node.left, node.right, like=node)

    def visit_Call(self, node):
        node = super().visit_Call(node)
        if isinstance(node.func, ast.Name) and node.func.id == "str":
            node.func = _placed(ast.Name("_str_", ast.Load()), node.func)
        elif isinstance(node.func, ast.Name) and node.func.id in _GOING_THROUGH:
            node.args = [_call("_items_", argument, like=argument) for argument in node.args]
        return node

    # Keys are hashed, all they hold: a tuple holding one big tuple many times over is
    # bounded before it is hashed, in literals and comprehensions.
    def visit_Dict(self, node):
        node = super().visit_Dict(node)
        node.keys = [key if key is None else _bounded(key) for key in node.keys]
        return node

    def visit_Set(self, node):
        node = super().visit_Set(node)
        node.elts = [_bounded(element) for element in node.elts]
        return node

    def visit_Subscript(self, node):
        node = super().visit_Subscript(node)
        if isinstance(node, ast.Subscript) and not isinstance(node.ctx, ast.Load):
            node.slice = _bounded(node.slice)  # d[key] = value: reading is _getitem_'s
        return node

    def visit_DictComp(self, node):
        node = super().visit_DictComp(node)
        node.key = _bounded(node.key)
        return node

    def visit_SetComp(self, node):
        node = super().visit_SetComp(node)
        node.elt = _bounded(node.elt)
        return node

    def visit_Compare(self, node):
        # Comparing two lists compares all they hold, in C: bounded first.
        node = super().visit_Compare(node)
        node.left = _bounded(node.left)
        node.comparators = [_bounded(item) for item in node.comparators]
        return node

    def visit_FormattedValue(self, node):
        node = super().visit_FormattedValue(node)
        if node.format_spec is not None:
            parts = node.format_spec.values
            if any(not isinstance(part, ast.Constant) for part in parts):
                self.error(node, "format specs computed at run time are not allowed in f-strings")
            else:
                problem = budget.wide_spec("".join(str(part.value) for part in parts))
                if problem:
                    self.error(node, problem)
        node.value = _bounded(node.value)
        return node

    def visit_Import(self, node):
        self.error(node, "imports are not allowed in model scripts")
        return node

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node):
        self.error(node, "class definitions are not allowed in model scripts")
        return node

    def visit_Name(self, node):
        # RestrictedPython turns these into a print collector, which we do not offer.
        if node.id in ("print", "printed"):
            self.error(node, f"'{node.id}' is not available in model scripts")
            return node
        return super().visit_Name(node)


def _table(*rows: tuple[str, str]) -> list[tuple[re.Pattern, str]]:
    return [(re.compile(pattern), text) for pattern, text in rows]


# RestrictedPython's own messages, reworded for admins. Each is "Line N: <message>".
_PLAIN_WORDS = _table(
    (
        r'"(?P<name>\w+)" is an invalid (variable|attribute) name because it starts with "_"',
        "names starting with '_' are not allowed in model scripts ('{name}')",
    ),
    (
        r'"(?P<name>\w+)" is a restricted name',
        "'{name}' reaches into Python internals and is not allowed",
    ),
    (r'"(?P<name>\w+)" is a reserved name', "'{name}' is a reserved name in model scripts"),
    (r"Eval calls are not allowed", "eval() is not allowed in model scripts"),
    (r"Exec calls are not allowed", "exec() is not allowed in model scripts"),
    (
        r"Augmented assignment of (object items and slices|attributes)",
        "'+=' and the like work on plain names only: write x[k] = x[k] + y",
    ),
)

# Habits from other engines (JUEL, JavaScript, FEEL) and what to write instead.
_MODELLER_HINTS = _table(
    (
        r"\$\{(?P<expr>[^{}\n]{0,200})\}",
        "'{match}' is JUEL, not Python: write the Python expression {expr} without ${{ }}",
    ),
    (r"===", "'===' is not Python: use =="),
    (r"!==", "'!==' is not Python: use !="),
    (r"&&", "'&&' is not Python: use and"),
    (r"\|\|", "'||' is not Python: use or"),
    (
        r"^\s*(?P<iso>(R\d*/)?P(?=[\dT])(\d+[YMWD])*(T(\d+(\.\d+)?[HMS])+)?)\s*$",
        'timer values are Python expressions: write "{iso}" in quotes',
    ),
    (
        r"[\[(\]]\s*(?P<low>[^\s.()\[\]]+)\s*\.\.\s*(?P<high>[^\s.()\[\]]+)\s*[\])\[]",
        "FEEL ranges like '{match}' are not Python: write {low} <= value <= {high}",
    ),
    (r"(?<![\w.])true\b", "'true' is not Python: write True"),
    (r"(?<![\w.])false\b", "'false' is not Python: write False"),
    (r"(?<![\w.])null\b", "'null' is not Python: write None"),
)

# Hints look at code only: '&&' inside a string or comment is fine.
_STRINGS_AND_COMMENTS = re.compile(
    r"'''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"|#[^\n]*", re.S
)


def _in_plain_words(error: str) -> str:
    line, _, message = error.partition(": ")
    for pattern, words in _PLAIN_WORDS:
        if found := pattern.search(message):
            return f"{line}: {words.format(**found.groupdict())}"
    return error


def _modeller_hints(source: str) -> list[str]:
    # Blank strings and comments out, keeping every position, so a hint can quote the
    # modeller's own text from ``source``.
    code = _STRINGS_AND_COMMENTS.sub(lambda m: " " * len(m.group(0)), source)
    hints = []
    for pattern, hint in _MODELLER_HINTS:
        if found := pattern.search(code):
            quoted = {
                name: source[found.start(name) : found.end(name)] for name in found.groupdict()
            }
            hints.append(hint.format(match=source[found.start() : found.end()], **quoted))
    return hints


class _Compiled(NamedTuple):
    code: CodeType | None
    problems: tuple[str, ...]


@functools.lru_cache(maxsize=2048)  # the same condition runs for every instance that passes by
def _compile(source: str, mode: str) -> _Compiled:
    compile_restricted = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    try:
        result = compile_restricted(source, policy=_ModelPolicy)
        code, problems = result.code, [_in_plain_words(error) for error in result.errors]
    except SyntaxError as error:  # Python's own compile step ('return' outside a function, ...)
        code, problems = None, [f"Line {error.lineno}: SyntaxError: {error.msg}"]
    problems += _modeller_hints(source)
    return _Compiled(None if problems else code, tuple(problems))


def _compiled_or_rejected(source: str, mode: str) -> CodeType:
    compiled = _compile(source, mode)
    if compiled.problems:
        raise ScriptRejected("; ".join(compiled.problems))
    return compiled.code


def _run(code: CodeType, namespace: dict):
    try:
        return eval(code, namespace)  # also runs exec-mode code (returning None)
    except NameError as error:
        if error.name not in _UNAVAILABLE:
            raise  # an ordinary mistake: a variable that is not in the task data
        refusal = ScriptRejected(f"'{error.name}' is not available in model scripts")
        # Keep the script's frame so SpiffWorkflow can report the offending line.
        raise refusal.with_traceback(error.__traceback__) from error
    except KeyError as error:
        if error.args != ("__import__",):
            raise
        # date.today(), strftime() and strptime() load Python's time module on first use,
        # which model code cannot import.
        refusal = ScriptRejected(
            "date.today(), strftime() and strptime() are not available in model scripts: "
            "write datetime.now(timezone.utc).date() for today, .isoformat() for text, "
            "date.fromisoformat() to read a date"
        )
        raise refusal.with_traceback(error.__traceback__) from error


def check_expression(source: str) -> list[str]:
    """Problems with an expression (condition, timer, DMN entry); empty when it is fine."""
    return list(_compile(source, "eval").problems)


def check_script(source: str) -> list[str]:
    """Problems with a script task's script; empty when it is fine."""
    return list(_compile(source, "exec").problems)


def offered_names() -> frozenset[str]:
    """The names model code can use without defining them: builtins and date helpers."""
    return frozenset(_BUILTINS) | frozenset(_MODEL_GLOBALS)


def attribute_refusal(name: str) -> str | None:
    """Why reading the attribute ``name`` is refused when model code runs; None if it is not."""
    if name.startswith("_") or name in _INTERNAL_ATTRIBUTES:
        try:
            _guarded_getattr(None, name)
        except ScriptRejected as refusal:
            return str(refusal)
    return None


# --- the SpiffWorkflow seam --------------------------------------------------------------------


class SandboxedEnvironment(BasePythonScriptEngineEnvironment):
    """Task-data semantics of SpiffWorkflow's TaskDataEnvironment, with RestrictedPython.

    Task data shadows the offered helpers (a field called ``date`` is just data). Every
    evaluation draws on the budget of the run it is part of (or on one of its own).
    """

    def __init__(self, limits: ModelLimits):
        super().__init__()
        self.limits = limits

    def _helpers(self, external_context):
        return {**_MODEL_GLOBALS, **self.globals, **(external_context or {})}

    def evaluate(self, expression, context, external_context=None):
        code = _compiled_or_rejected(expression, "eval")
        # A fresh namespace, as in TaskDataEnvironment: an expression binds no task data names.
        return self._metered(code, {**self._helpers(external_context), **context, **_GUARDS})

    def execute(self, script, context, external_context=None):
        code = _compiled_or_rejected(script, "exec")
        helpers = self._helpers(external_context)
        # Run on a deep copy: a script that fails half-way leaves the task data untouched.
        namespace = {**helpers, **copy.deepcopy(context), **_GUARDS}
        self._metered(code, namespace)
        # Like TaskDataEnvironment: no guards, helpers or callables end up in the task data.
        context.clear()
        context.update(
            (name, value)
            for name, value in namespace.items()
            if name not in _GUARDS
            and not callable(value)
            and not (name in helpers and value is helpers[name])
        )
        return True

    def _metered(self, code: CodeType, namespace: dict):
        with budget.metered(self.limits) as meter:
            result = _run(code, namespace)
            meter.check()  # also when the code caught the error and went on
        return result


def sandboxed_script_engine(limits: ModelLimits) -> PythonScriptEngine:
    return PythonScriptEngine(environment=SandboxedEnvironment(limits))
