"""Every model in tests/data/hostile_models is refused by the validator, with a message that
names what it attempts. Each file says in its first comment what it tries."""

from __future__ import annotations

from pathlib import Path

import pytest
from picycle.engine.forms import parse_form
from picycle.engine.rules import RULES
from picycle.engine.spiff.validation import validate_bundle

from tests.deadline import finishes_within

HOSTILE_MODELS = Path(__file__).parents[1] / "data" / "hostile_models"

# What the refusal of each model says.
REFUSALS = {
    "billion_laughs.bpmn": "declares a DOCTYPE",
    "condition_type.bpmn": "'type' is not available in model scripts",
    "endless_script_loop.bpmn": "loop forever with no way out",
    "implicit_split_60_branches.bpmn": "starts 60 branches at once; at most 50",
    "loop_maximum_huge.bpmn": "may loop 100,000 times; loopMaximum may be at most 100",
    "multi_instance_million.bpmn": "runs 1,000,000 instances",
    "parallel_60_branches.bpmn": "starts 60 branches at once; at most 50",
    "script_class.bpmn": "class definitions are not allowed",
    "script_date_today.bpmn": "'.today()' cannot run in model scripts",
    "script_dunder_import.bpmn": "names starting with '_' are not allowed",
    "script_dunder_walk.bpmn": "names starting with '_' are not allowed",
    "script_eval.bpmn": "eval() is not allowed",
    "script_exec.bpmn": "exec() is not allowed",
    "script_format.bpmn": "'.format()' is not allowed",
    "script_format_map.bpmn": "'.format_map()' is not allowed",
    "script_generator_frame.bpmn": "'gi_frame' reaches into Python internals",
    "script_getattr.bpmn": "'getattr' is not available in model scripts",
    "script_globals.bpmn": "'globals' is not available in model scripts",
    "script_import.bpmn": "imports are not allowed",
    "script_mro.bpmn": "'mro' reaches into Python internals",
    "script_open.bpmn": "'open' is not available in model scripts",
    "script_print.bpmn": "'print' is not available in model scripts",
    "script_strftime.bpmn": "'.strftime()' cannot run in model scripts",
    "script_strptime.bpmn": "'.strptime()' cannot run in model scripts",
    "script_system_exit.bpmn": "'SystemExit' is not available in model scripts",
    "script_type.bpmn": "'type' is not available in model scripts",
    "script_vars.bpmn": "'vars' is not available in model scripts",
    "sequential_multi_instance_5000.bpmn": "runs 5,000 instances",
    "timer_99999_zero_cycles.bpmn": "repeats 99,999 times; a timer may repeat at most 1,000",
    "timer_cycle_beyond_horizon.bpmn": "runs further ahead than 3,660 days",
    "timer_endless_zero_cycle.bpmn": "repeats without end",
    "timer_every_second.bpmn": "repeats more often than every 60 seconds",
    "timer_expression_opens_files.bpmn": "'open' is not available in model scripts",
    "timer_huge_hours.bpmn": "runs further ahead than 3,660 days",
    "timer_not_text.bpmn": "must give text",
    "timer_ten_billion_years.bpmn": "runs further ahead than 3,660 days",
    "timer_zero_duration.bpmn": "waits no time at all",
    "too_many_elements.bpmn": "has 602 elements; a process may have at most 500",
}


def test_every_hostile_model_says_what_it_attempts_and_has_an_expected_refusal():
    files = sorted(path.name for path in HOSTILE_MODELS.iterdir())
    assert files == sorted(REFUSALS)
    for name in files:
        second_line = (HOSTILE_MODELS / name).read_text().splitlines()[1]
        assert second_line.startswith("<!-- ") and second_line.endswith(" -->"), name


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_the_validator_refuses_a_hostile_model_naming_the_problem(name):
    files = {name: (HOSTILE_MODELS / name).read_bytes()}

    def validate() -> list:
        return validate_bundle(files, rule_names=RULES.keys(), parse_form=parse_form)

    errors = [problem for problem in finishes_within(20, validate) if problem.is_error]
    refusals = [error for error in errors if REFUSALS[name] in error.message]
    assert refusals, errors
    assert all(error.file == name for error in refusals)
