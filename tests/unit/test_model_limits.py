"""The model limits: what they let through, how they are changed, and that checking them is
quick even for the models they refuse."""

from __future__ import annotations

import time

import pytest
from picycle.engine.forms import parse_form
from picycle.engine.rules import RULES
from picycle.engine.spiff.limits import DEFAULT_LIMITS, ModelLimits
from picycle.engine.spiff.timer_values import timer_value_problem
from picycle.engine.spiff.validation import validate_bundle
from picycle.engine.spiff.validation.sources import expression_problems, script_problems

from tests.unit.test_validation import BPMN, changed


def validate(files, limits: ModelLimits = DEFAULT_LIMITS):
    problems = validate_bundle(files, rule_names=RULES.keys(), parse_form=parse_form, limits=limits)
    return [problem for problem in problems if problem.is_error]


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("timeDuration", "P14D"),
        ("timeDuration", "PT1S"),
        ("timeDuration", "P10Y"),
        ("timeDuration", "P1.5D"),
        ("timeCycle", "R3/P1D"),
        ("timeCycle", "R1000/PT1M"),
        ("timeCycle", "R0/P1D"),
        ("timeCycle", "R5/2026-01-01T09:00:00Z/P1W"),
        ("timeCycle", "R120/P1M"),
        ("timeDate", "2026-06-30T17:00:00+00:00"),
        ("timeDate", "9999-12-31T23:59:59+00:00"),
    ],
)
def test_timer_values_a_real_model_uses_are_within_the_limits(kind, value):
    assert timer_value_problem(kind, value, DEFAULT_LIMITS) is None


def test_a_literal_timer_over_the_horizon_is_refused_at_its_element():
    files, line = changed(BPMN, ('"P14D"', '"P11Y"'))
    (error,) = validate(files)
    assert (error.element_id, error.line) == ("review_overdue", line)
    assert "runs further ahead than 3,660 days" in error.message
    assert "PICYCLE_MODEL_TIMER_HORIZON_DAYS" in error.message


def test_limits_are_read_from_the_environment():
    limits = ModelLimits.from_environment(
        {"PICYCLE_MODEL_MAX_ELEMENTS": "5", "PICYCLE_MODEL_TIMER_HORIZON_DAYS": "7"}
    )
    assert (limits.max_elements, limits.timer_horizon_days) == (5, 7)
    assert limits.max_parallel_branches == DEFAULT_LIMITS.max_parallel_branches
    files, _ = changed(BPMN, ('"P14D"', '"P14D"'))
    messages = " | ".join(error.message for error in validate(files, limits))
    assert "process 'Review a proposal' has 9 elements; a process may have at most 5" in messages
    assert "runs further ahead than 7 days" in messages


@pytest.mark.parametrize("value", ["0", "-3", "many", ""])
def test_a_limit_that_is_not_a_whole_number_above_zero_is_refused(value):
    with pytest.raises(ValueError, match=f"PICYCLE_MODEL_MAX_LOOP_COUNT must be .* not '{value}'"):
        ModelLimits.from_environment({"PICYCLE_MODEL_MAX_LOOP_COUNT": value})


def parallel_script_tasks(count: int) -> bytes:
    branches = "".join(
        f'<bpmn:scriptTask id="s{n}"><bpmn:script>x{n} = {n}</bpmn:script></bpmn:scriptTask>'
        f'<bpmn:sequenceFlow id="a{n}" sourceRef="split" targetRef="s{n}" />'
        f'<bpmn:sequenceFlow id="b{n}" sourceRef="s{n}" targetRef="join" />'
        for n in range(count)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
    targetNamespace="http://picycle.test/wide">
  <bpmn:process id="wide" isExecutable="true">
    <bpmn:startEvent id="start" /><bpmn:sequenceFlow id="go" sourceRef="start" targetRef="split" />
    <bpmn:parallelGateway id="split" />{branches}<bpmn:parallelGateway id="join" />
    <bpmn:sequenceFlow id="done" sourceRef="join" targetRef="end" /><bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>""".encode()


def test_a_model_with_3400_parallel_script_tasks_is_refused_quickly():
    started = time.perf_counter()
    messages = [error.message for error in validate({"wide.bpmn": parallel_script_tasks(3400)})]
    assert time.perf_counter() - started < 30
    assert any("has 3,404 elements; a process may have at most 500" in m for m in messages)
    assert any("starts 3,400 branches at once; at most 50" in m for m in messages)


def test_the_gateway_limit_can_be_raised():
    files = {"wide.bpmn": parallel_script_tasks(60)}
    assert validate(files)
    assert validate(files, ModelLimits(max_parallel_branches=60)) == []


def test_loop_settings_computed_from_data_are_left_to_the_run():
    cardinality = "<bpmn:loopCardinality>len(items)</bpmn:loopCardinality>"
    files, _ = changed(
        BPMN,
        (
            "<bpmn:script>reminders = 1",
            f"<bpmn:multiInstanceLoopCharacteristics>{cardinality}"
            "</bpmn:multiInstanceLoopCharacteristics><bpmn:script>reminders = 1",
        ),
    )
    assert validate(files) == []


@pytest.mark.parametrize(
    "script",
    [
        "def double(x):\n    return x * 2\nresult = double(21)",
        "ranked = sorted(items, key=lambda i: i['qty'])",
        "now = datetime.now(timezone.utc).isoformat()",
        "day = (datetime.now(timezone.utc).date() + timedelta(days=3)).isoformat()",
        "when = date.fromisoformat(due).isoformat()",
        "label = f'{len(items)} items'",
        "try:\n    n = int(text)\nexcept ValueError as error:\n    n = 0\n    why = str(error)",
        "raise ValueError('no items')",
        "kind = type_of_case\nopen_cases = [c for c in cases if c['open']]",
        "total = sum(i['qty'] for i in items)",
    ],
)
def test_scripts_that_run_in_the_sandbox_are_not_refused(script):
    assert script_problems(script) == []


@pytest.mark.parametrize(
    "expression",
    ["type == 'permit'", "open and format == 'pdf'", "dmninputexpr > 3", "filter in ('a', 'b')"],
)
def test_task_data_named_like_a_builtin_is_still_data(expression):
    assert expression_problems(expression) == []


@pytest.mark.parametrize(
    ("script", "line", "refusal"),
    [
        ("x = 1\ny = open('f')", 2, "'open' is not available in model scripts"),
        ("x = 1\n\nkind = type(x)", 3, "'type' is not available in model scripts"),
        ("n = lenn(items)", 1, "'lenn' is neither a function model scripts offer"),
        ("s = 'a{}'.format(1)", 1, "'.format()' is not allowed"),
        ("d = date.today()", 1, "'.today()' cannot run in model scripts"),
        ("d = datetime.today()", 1, "use datetime.now(timezone.utc).date()"),
        ("t = datetime.now().timetuple()", 1, "'.timetuple()' cannot run"),
    ],
)
def test_a_call_the_sandbox_refuses_is_named_with_its_line(script, line, refusal):
    (problem,) = script_problems(script)
    assert problem.startswith(f"Line {line}: ") and refusal in problem
