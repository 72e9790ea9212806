"""validate_bundle: every rule over a bundle of model files, all problems at once."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping

from ..limits import DEFAULT_LIMITS, ModelLimits
from .decision_tables import check_decision_tables
from .documents import read_files
from .expressions import check_expressions
from .graph import check_graph
from .groups import check_groups
from .loading import check_loading
from .model import Bundle, FormParser
from .problems import BUNDLE, ERROR, Problem
from .references import check_references
from .schema import check_schemas
from .size import check_size
from .translations import check_translations

MAX_PROBLEMS = 500  # past this, more of them help nobody

# Our own checks, in the order a modeller would fix things.
_CHECKS: tuple[Callable[[Bundle], Iterable[Problem]], ...] = (
    check_schemas,
    check_size,
    check_references,
    check_expressions,
    check_decision_tables,
    check_groups,
    check_graph,
    check_translations,
)


def validate_bundle(
    files: Mapping[str, bytes],
    *,
    rule_names: Collection[str],
    parse_form: FormParser,
    known_groups: Collection[str] | None = None,
    limits: ModelLimits = DEFAULT_LIMITS,
) -> list[Problem]:
    """Every problem with a bundle of BPMN, DMN and form files; empty when it can be deployed.

    The caller says what a model may name: ``rule_names``, the rule sets a user task's
    picycleRules may name; ``parse_form``, what reads a form file and raises ValidationFailed
    when it is not one; ``known_groups``, the groups that exist, to check lanes against (None
    skips that check); ``limits``, how big and how parallel a model may be and how far its
    timers may reach (ModelLimits.from_environment() gives the configured ones). Never raises:
    whatever the input, the answer is a list of problems.
    """
    try:
        read = read_files(files, limits)
    except Exception as error:
        return [_internal(error, "reading the files")]
    problems = list(read.problems)
    bundle = Bundle(read.files, read.bpmn, read.dmn, rule_names, parse_form, known_groups, limits)
    for check in _CHECKS:
        problems += _guarded(check, bundle)
    # SpiffWorkflow stops at its first complaint, often about what we already explained more
    # clearly: drop it when we have an error for the same element or, if it names none, file.
    explained = {key for p in problems if p.is_error for key in ((p.file, p.element_id), p.file)}
    problems += [
        p
        for p in _guarded(check_loading, bundle)
        if (p.file if p.element_id is None else (p.file, p.element_id)) not in explained
    ]
    return _tidy(problems)


def _guarded(check: Callable[[Bundle], Iterable[Problem]], bundle: Bundle) -> list[Problem]:
    try:
        return list(check(bundle))
    except Exception as error:  # a bug or a model we never imagined: report, never raise
        return [_internal(error, check.__name__.removeprefix("check_").replace("_", " "))]


def _internal(error: Exception, what: str) -> Problem:
    message = f"the validator could not finish checking {what} ({type(error).__name__})"
    return Problem(ERROR, BUNDLE, None, None, message)


def _tidy(problems: list[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))
    unique.sort(key=lambda p: (p.file != BUNDLE, p.file, p.line or 0))
    if len(unique) > MAX_PROBLEMS:
        hidden = len(unique) - MAX_PROBLEMS
        message = f"{hidden} more problems are not shown: fix the ones above first"
        unique = [*unique[:MAX_PROBLEMS], Problem(ERROR, BUNDLE, None, None, message)]
    return unique
