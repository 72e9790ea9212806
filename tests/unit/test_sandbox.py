"""The sandbox runs ordinary model scripts and refuses escapes with messages an admin can act on."""

import re
from datetime import UTC, date, datetime
from xml.sax.saxutils import escape

import pytest
from picycle.engine.spiff import sandbox
from picycle.engine.spiff.limits import DEFAULT_LIMITS
from picycle.engine.spiff.sandbox import (
    SandboxedEnvironment,
    ScriptRejected,
    check_expression,
    check_script,
    sandboxed_script_engine,
)
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState


@pytest.fixture
def env():
    return SandboxedEnvironment(DEFAULT_LIMITS)


def task_data():
    return {
        "items": [{"name": "tea", "qty": 2}, {"name": "cake", "qty": 1}],
        "prices": {"tea": 3, "coffee": 4},
        "count": 1,
        "label": "order",
        "start": date(2024, 1, 25),
    }


# --- allowed --------------------------------------------------------------------------------


def test_expression_reads_task_data(env):
    data = task_data()
    assert env.evaluate("count == 1 and label == 'order'", data) is True
    assert env.evaluate("prices.get('tea', 0) + prices.get('milk', 0)", data) == 3
    assert env.evaluate("[i['name'] for i in items if i['qty'] > 1]", data) == ["tea"]
    assert data == task_data()


def test_expression_cannot_bind_names_in_task_data(env):
    data = task_data()
    assert env.evaluate("(extra := 2) + count", data) == 3
    assert "extra" not in data


def test_timer_expression_computes_dates(env):
    start = datetime(2024, 1, 25, 9, 0, tzinfo=UTC)
    due = env.evaluate("(start + timedelta(days=14)).isoformat()", {"start": start})
    assert due == "2024-02-08T09:00:00+00:00"
    assert env.evaluate("datetime(2024, 3, 1, tzinfo=timezone.utc) > start", {"start": start})


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("big = [i['name'] for i in items if i['qty'] > 1]", {"big": ["tea"]}),
        ("qty = {i['name']: i['qty'] for i in items}", {"qty": {"tea": 2, "cake": 1}}),
        (
            "names = []\nfor i in items:\n    names.append(i['name'].upper())",
            # As in plain Python (and TaskDataEnvironment), loop variables stay behind.
            {"names": ["TEA", "CAKE"], "i": {"name": "cake", "qty": 1}},
        ),
        (
            "count += 1\nlabel += '!'\ntags = ['a']\ntags += ['b']",
            {"count": 2, "label": "order!", "tags": ["a", "b"]},
        ),
        (
            "pairs = []\nfor k, v in sorted(prices.items()):\n"
            "    pairs.append(k + '=' + str(v))\nfirst, second = pairs",
            {
                "pairs": ["coffee=4", "tea=3"],
                "first": "coffee=4",
                "second": "tea=3",
                "k": "tea",
                "v": 3,
            },
        ),
        (
            "prices['tea'] = prices['tea'] * 2\ndel prices['coffee']",
            {"prices": {"tea": 6}},
        ),
        ("due = start + timedelta(days=14)", {"due": date(2024, 2, 8)}),
        (
            "n = len(items)\nmost = max(i['qty'] for i in items)\n"
            "all_in = all(i['qty'] for i in items)",
            {"n": 2, "most": 2, "all_in": True},
        ),
        (
            "indexed = list(enumerate(reversed([1, 2])))\nzipped = dict(zip(['a'], [1]))",
            {"indexed": [(0, 2), (1, 1)], "zipped": {"a": 1}},
        ),
        ("summary = f'{len(items)} items for {label}'", {"summary": "2 items for order"}),
        (
            "def double(x):\n    return x * 2\nresult = double(21)\n"
            "ranked = sorted(items, key=lambda i: i['qty'])[0]['name']",
            {"result": 42, "ranked": "cake"},
        ),
        (
            "options = {'a': 1}\nmerged = dict(b=2, **options)",
            {"options": {"a": 1}, "merged": {"a": 1, "b": 2}},
        ),
        ("if count > 0:\n    state = 'some'\nelse:\n    state = 'none'", {"state": "some"}),
    ],
)
def test_script_updates_task_data(env, script, expected):
    data = task_data()
    assert env.execute(script, data) is True
    assert data == {**task_data(), **expected}


def test_script_leaves_no_builtins_guards_or_callables(env):
    data = task_data()
    env.execute("def helper():\n    return 1\nfn = len\nkind = date\nvalue = helper()", data)
    assert set(data) == set(task_data()) | {"value"}


def test_deleting_a_variable_removes_it(env):
    data = task_data()
    env.execute("del label", data)
    assert "label" not in data


def test_task_data_shadows_offered_helpers(env):
    data = {"date": "2024-01-01"}
    assert env.evaluate("date", data) == "2024-01-01"
    env.execute("copy_of_date = date", data)
    assert data == {"date": "2024-01-01", "copy_of_date": "2024-01-01"}


def test_external_context_is_readable_but_not_written_back(env):
    data = {"a": 1}
    assert env.evaluate("a + b", data, {"b": 2}) == 3
    env.execute("c = a + b", data, {"b": 2})
    assert data == {"a": 1, "c": 3}


def test_task_data_cannot_replace_the_guards(env):
    data = {"d": [1, 1], "_getattr_": "not a guard", "__builtins__": {}}
    assert env.evaluate("d.count(1) + len(d)", data) == 4
    env.execute("n = d.count(1)", data)
    assert data["n"] == 2


def test_ordinary_mistakes_stay_ordinary_errors(env):
    with pytest.raises(NameError):
        env.evaluate("amount > 5", {})
    with pytest.raises(ZeroDivisionError):
        env.execute("x = 1 / 0", {})
    with pytest.raises(ValueError, match="bad order"):
        env.execute("raise ValueError('bad order')", {})


def test_compiled_code_is_cached_per_source():
    assert sandbox._compile("count + 1", "eval") is sandbox._compile("count + 1", "eval")


# --- refused --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("import os", "imports are not allowed in model scripts"),
        ("from os import path", "imports are not allowed in model scripts"),
        ("__import__('os')", "names starting with '_' are not allowed"),
        ("f = open('/etc/passwd')", "'open' is not available in model scripts"),
        ("().__class__.__mro__", "names starting with '_' are not allowed"),
        ("s = f'{x.__class__}'", "names starting with '_' are not allowed"),
        ("getattr(x, '__class__')", "'getattr' is not available in model scripts"),
        ("eval('1')", "eval() is not allowed in model scripts"),
        ("exec('y = 1')", "exec() is not allowed in model scripts"),
        ("compile('1', 's', 'eval')", "'compile' is not available in model scripts"),
        ("g = globals()", "'globals' is not available in model scripts"),
        ("v = vars()", "'vars' is not available in model scripts"),
        ("names = dir(x)", "'dir' is not available in model scripts"),
        ("s = '{0.__class__}'.format(1)", "'.format()' is not allowed"),
        ("s = '{x.__class__}'.format_map(d)", "'.format_map()' is not allowed"),
        ("frame = (i for i in [1]).gi_frame", "'gi_frame' reaches into Python internals"),
        (
            "def gen():\n    yield 1\nframe = gen().gi_frame.f_back",
            "'gi_frame' reaches into Python internals",
        ),
        ("t = type(x)", "'type' is not available in model scripts"),
        ("bases = int.mro()", "'mro' reaches into Python internals"),
        ("when = datetime.now()\nwhen.year = 1", "only dicts and lists can be changed"),
        ("timedelta.days = 1", "only dicts and lists can be changed"),
        ("class A:\n    pass", "class definitions are not allowed"),
        ("print(x)", "'print' is not available in model scripts"),
        ("raise SystemExit", "'SystemExit' is not available in model scripts"),
        ("breakpoint()", "'breakpoint' is a reserved name in model scripts"),
        ("d['a'] += 1", "write x[k] = x[k] + y"),
    ],
)
def test_escapes_are_refused_and_task_data_is_unchanged(env, script, message):
    data = {"x": 1, "d": {"a": 1}}
    with pytest.raises(ScriptRejected, match=re.escape(message)):
        env.execute(script, data)
    assert data == {"x": 1, "d": {"a": 1}}


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os').system('id')", "names starting with '_' are not allowed"),
        ("open('/etc/passwd').read()", "'open' is not available in model scripts"),
        ("[c for c in ().__class__.__base__.__subclasses__()]", "names starting with '_'"),
        ("'{0.__globals__}'.format(len)", "'.format()' is not allowed"),
        ("type(x) is int", "'type' is not available in model scripts"),
    ],
)
def test_escaping_expressions_are_refused(env, expression, message):
    with pytest.raises(ScriptRejected, match=re.escape(message)):
        env.evaluate(expression, {"x": 1})


def test_failing_script_writes_nothing(env):
    data = task_data()
    script = "count = 99\nitems.append({'name': 'x'})\nprices['tea'] = 0\nopen('/etc/passwd')"
    with pytest.raises(ScriptRejected):
        env.execute(script, data)
    assert data == task_data()
    with pytest.raises(ZeroDivisionError):
        env.execute("items.append(1)\ncount = 1 / 0", data)
    assert data == task_data()


def test_compile_refusal_names_the_line(env):
    with pytest.raises(ScriptRejected, match="Line 2: imports are not allowed"):
        env.execute("x = 1\nimport os", {})


# --- check_expression / check_script --------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "hint"),
    [
        ("${amount > 5}", "write the Python expression amount > 5 without ${ }"),
        ("a === b", "use =="),
        ("a !== b", "use !="),
        ("a && b", "use and"),
        ("a || b", "use or"),
        ("P14D", 'timer values are Python expressions: write "P14D" in quotes'),
        ("PT2H30M", 'write "PT2H30M" in quotes'),
        ("R3/PT1H", 'write "R3/PT1H" in quotes'),
        ("[1..5]", "write 1 <= value <= 5"),
        ("approved == true", "write True"),
        ("approved == false", "write False"),
        ("manager == null", "write None"),
    ],
)
def test_check_expression_explains_habits_from_other_engines(expression, hint):
    assert any(hint in problem for problem in check_expression(expression))


def test_check_script_explains_habits_too():
    problems = check_script("ok = a && b\nif ok === true:\n    x = 1")
    assert any("use and" in problem for problem in problems)
    assert any("use ==" in problem for problem in problems)


@pytest.mark.parametrize(
    "expression",
    [
        "amount >= 10 and 5 <= days <= 9",
        "'${not juel}' + \"a && b || c\"",
        '"P14D"',
        "(start + timedelta(days=14)).isoformat()",
        "trueish or nullable",
        "items[1:3]",
    ],
)
def test_check_expression_accepts_good_expressions(expression):
    assert check_expression(expression) == []


def test_check_script_accepts_good_scripts():
    assert check_script("total = 0\nfor i in items:  # && is fine here\n    total += i") == []


def test_check_reports_refusals_and_syntax_errors():
    assert check_script("x = 1\nimport os") == ["Line 2: imports are not allowed in model scripts"]
    assert check_script("__import__('os')") == [
        "Line 1: names starting with '_' are not allowed in model scripts ('__import__')"
    ]
    assert "SyntaxError" in check_expression("x = 1")[0]
    assert "'return' outside function" in check_script("return 1")[0]
    assert check_script("d['a'] += 1") == [
        "Line 1: '+=' and the like work on plain names only: write x[k] = x[k] + y"
    ]


def test_a_hint_is_also_a_refusal_at_run_time(env):
    with pytest.raises(ScriptRejected, match='write "P14D" in quotes'):
        env.evaluate("P14D", {})


# --- through SpiffWorkflow ------------------------------------------------------------------

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs"
    targetNamespace="http://example.org/picycle">
  <bpmn:process id="order" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="prepare"/>
    <bpmn:scriptTask id="prepare"><bpmn:script>items = [40, 80]</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="prepare" targetRef="model_script"/>
    <bpmn:scriptTask id="model_script"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="model_script" targetRef="size"/>
    <bpmn:exclusiveGateway id="size" default="small_flow"/>
    <bpmn:sequenceFlow id="big_flow" sourceRef="size" targetRef="big">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="small_flow" sourceRef="size" targetRef="small"/>
    <bpmn:endEvent id="big"/>
    <bpmn:endEvent id="small"/>
  </bpmn:process>
</bpmn:definitions>
"""


def order_workflow(script, condition="total > 100"):
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(BPMN.format(script=escape(script), condition=escape(condition)).encode())
    return BpmnWorkflow(
        parser.get_spec("order"), script_engine=sandboxed_script_engine(DEFAULT_LIMITS)
    )


def task_named(workflow, name):
    return next(t for t in workflow.get_tasks() if t.task_spec.name == name)


def test_workflow_runs_a_good_script_and_condition():
    workflow = order_workflow("total = sum(items)")
    workflow.do_engine_steps()
    assert workflow.is_completed()
    assert workflow.data == {"items": [40, 80], "total": 120}
    assert task_named(workflow, "big").state == TaskState.COMPLETED


def test_workflow_refuses_a_malicious_script_and_keeps_its_data():
    workflow = order_workflow("total = 1\nitems.append(3)\nsecret = open('/etc/passwd').read()")
    with pytest.raises(WorkflowTaskException) as raised:
        workflow.do_engine_steps()
    error = raised.value
    assert error.error_type == "ScriptRejected"
    assert isinstance(error.__context__, ScriptRejected)
    assert "'open' is not available in model scripts" in str(error)
    assert error.line_number == 3
    task = task_named(workflow, "model_script")
    assert task.state == TaskState.ERROR
    assert task.data == {"items": [40, 80]}


def test_workflow_refuses_a_malicious_condition():
    workflow = order_workflow("total = sum(items)", condition="__import__('os').getcwd()")
    with pytest.raises(WorkflowTaskException) as raised:
        workflow.do_engine_steps()
    assert raised.value.error_type == "ScriptRejected"
    assert "names starting with '_'" in str(raised.value.__context__)
    assert task_named(workflow, "model_script").data == {"items": [40, 80], "total": 120}


def test_hints_quote_the_modellers_own_text():
    from picycle.engine.spiff.sandbox import check_expression

    hints = check_expression("${clarified == 'yes'}")
    assert any("write the Python expression clarified == 'yes' without" in h for h in hints)


@pytest.mark.parametrize(
    "script",
    ["x = date.today()", "x = datetime.now().strftime('%Y')", "x = date.today().isoformat()"],
)
def test_calls_that_need_the_time_module_are_refused_in_plain_words(script):
    with pytest.raises(
        ScriptRejected, match=r"write datetime.now\(timezone.utc\).date\(\) for today"
    ):
        SandboxedEnvironment(DEFAULT_LIMITS).execute(script, {})
