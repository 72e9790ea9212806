"""Model code runs under a budget: CPU time, memory and the size of what one operation
builds. Each hostile script below once froze a thread (or all of them) or grew the process
by gigabytes; now each fails fast with a message naming the limit."""

from __future__ import annotations

import gc
from time import thread_time

import pytest
from picycle.engine import Engine
from picycle.engine.spiff.budget import BudgetExceeded, metered
from picycle.engine.spiff.limits import ModelLimits
from picycle.engine.spiff.sandbox import SandboxedEnvironment, ScriptRejected

from tests.deadline import finishes_within

SMALL = ModelLimits(cpu_seconds=0.3, memory_mb=64)
# For the scripts that must hit the memory budget: CPU time enough that a busy machine's
# slower allocations cannot reach the CPU-time budget first.
SMALL_MEMORY = ModelLimits(cpu_seconds=20, memory_mb=64)

# script -> words the refusal must contain
OVER_BUDGET = {
    "while True: pass": "CPU-time budget of 0.3 s",
    "x = sum(range(10**12))": "range of 1,000,000,000,000 numbers",
    "x = 10**10**10": "number of 40,000,000,000 bits",
    "x = pow(10, 10**10)": "number of 40,000,000,000 bits",
    "x = 1 << 10**10": "number of 10,000,000,001 bits",
    "y = 7\ny **= 10**9": "number of 3,000,000,000 bits",
    "x = []\nwhile True:\n    x.append('a' * 1000)": "memory budget of 64 MB",
    "x = 'a' * (2 * 10**8)": "sequence of 200,000,000 items",
    "x = 'a' * 5\nx *= 10**9": "sequence of 5,000,000,000 items",
    "x = [0] * 10**9": "sequence of 1,000,000,000 items",
    "x = [[0] * 10**6] * 10**6": "sequence of 1,000,000,000,000 items",
    "s = 'a'\nfor i in range(40):\n    s = s + s": "sequence of 1,048,576 items",
    "x = [0]\nfor i in range(40):\n    x += x": "sequence of 1,048,576 items",
    "x = [0]\nfor i in range(40):\n    x.extend(x)": "sequence of 1,048,576 items",
    "x = []\nfor i in range(3000):\n    x.append('a' * 10**6)": "memory budget of 64 MB",
    "x = 'a'.ljust(10**10)": "text of 10,000,000,000 characters",
    "x = ('ab' * 400000).replace('a', 'a' * 1000)": "text of 400,400,000 characters",
    "x = '-'.join(['a' * 10**5] * 10**5)": "sequence of 10,000,000,000 items",
    "x = '%0999999999d' % 1": "width of 999999999",
    "x = '%*d' % (10**9, 1)": "'*' widths are not allowed",
    **{
        f"a = [0] * 10**5\nb = [a for _ in range(10**5)]\n{attack}": "structure of"
        for attack in (
            "x = str(b)",
            "x = repr(b)",
            "x = f'{b}'",
            "x = '%s' % (b,)",
            "x = b == [list(a) for _ in range(10)]",
            "x = list(a) in b",
            "x = b.count(list(a))",
            "x = sorted(b)",
            "x = max(b)",
            "x = set(b)",
            "t = tuple(a)\nu = tuple(t for _ in range(10**5))\nx = hash(u)",
            "t = tuple(a)\nu = tuple(t for _ in range(10**5))\nx = {u: 1}",
            "t = tuple(a)\nu = tuple(t for _ in range(10**5))\nx = {u}",
            "t = tuple(a)\nu = tuple(t for _ in range(10**5))\nx = {u: 1 for _ in range(2)}",
            "t = tuple(a)\nu = tuple(t for _ in range(10**5))\nx = {u for _ in range(2)}",
            "t = tuple(a)\nu = tuple(t for _ in range(10**5))\nd = {}\nx = d.get(u)",
            "t = tuple(a)\nu = tuple(t for _ in range(10**5))\ns = set()\ns.add(u)",
            "t = tuple(a)\nu = tuple(t for _ in range(10**5))\nd = {}\nd[u] = 1",
            "t = tuple(a)\nu = tuple(t for _ in range(10**5))\nd = {}\nd.setdefault(u, 1)",
            "t = tuple(a)\nu = tuple(t for _ in range(10**5))\nd = {1: 2}\nx = d[u]",
        )
    },
    "a = [0] * 10**5\nb = [a for _ in range(10**5)]\nx = max(item for item in b)": "CPU-time",
    "def f(n):\n    return f(n - 1) + f(n - 1) if n else 1\nx = f(100)": "CPU-time",
    "f = lambda n: f(n - 1) + f(n - 1) if n else 1\nx = f(100)": "CPU-time",
    "x = [i for i in range(10**6) for j in range(10**6)]": "CPU-time",
    "x = 0\ntry:\n    while True: pass\nexcept Exception:\n    x = 1": "CPU-time",
    "while True:\n    try:\n        while True: pass\n    except Exception:\n        x = 1": (
        "CPU-time"
    ),
}


@pytest.mark.parametrize(("script", "words"), OVER_BUDGET.items(), ids=list(OVER_BUDGET))
def test_hostile_scripts_fail_within_their_budget(script, words):
    context = {"kept": 1}
    limits = SMALL_MEMORY if "memory budget" in words else SMALL
    with pytest.raises(BudgetExceeded) as refused:
        finishes_within(30, lambda: SandboxedEnvironment(limits).execute(script, context))
    assert words in str(refused.value)
    assert context == {"kept": 1}  # a failed script leaves the task data as it was


REFUSED_AT_COMPILE = {
    "x = f'{1:>999999999}'": "width of 999999999",
    "n = 10\nx = f'{1:>{n}}'": "format specs computed at run time",
}


@pytest.mark.parametrize(("script", "words"), REFUSED_AT_COMPILE.items())
def test_unbounded_format_widths_are_refused_before_running(script, words):
    with pytest.raises(ScriptRejected, match=words):
        SandboxedEnvironment(SMALL).execute(script, {})


def test_sum_adds_numbers_only():
    with pytest.raises(TypeError, match="adds numbers only"):
        SandboxedEnvironment(SMALL).execute("x = sum([[1]] * 10, [])", {})


def test_everyday_model_code_is_unaffected():
    context = {"items": [{"q": 2}, {"q": 3}], "name": "permits"}
    script = "\n".join(
        [
            "total = sum(item['q'] for item in items)",
            "label = f'{total:>5}|{total:.2f}|' + str(total) + repr(name)",
            "line = '%d items, %5.1f%%' % (total, 12.5)",
            "parts = ', '.join(str(item['q']) for item in items)",
            "padded = name.ljust(10, '.') + name.replace('p', 'P')",
            "tabbed = 'a\\tb'.expandtabs(tabsize=2)",
            "squares = [n * n for n in range(10)] * 2",
            "alias = squares",
            "squares += [0]",
            "squares.extend([1, 2])",
            "big = 2 ** 64 + (1 << 10)",
            "highest = max(3, 4) + max([1, 2]) + min(n for n in range(5))",
            "pairs = dict(zip(['a', 'b'], [1, 2]))",
            "unique = sorted(set(['b', 'a', 'b']))",
            "lookup = {('x', 1): 'y'}[('x', 1)]",
            "table = {}",
            "table['k'] = 1",
            "table[('a', 2)] = squares[1:3]",
            "counted = 0",
            "while counted < 1000:\n    counted += 1",
        ]
    )
    SandboxedEnvironment(SMALL).execute(script, context)
    assert context["total"] == 5
    assert context["label"] == "    5|5.00|5'permits'"
    assert context["line"] == "5 items,  12.5%"
    assert context["parts"] == "2, 3"
    assert context["padded"] == "permits...Permits"
    assert context["tabbed"] == "a b"
    assert len(context["squares"]) == 23 and context["alias"] is context["squares"]
    assert context["big"] == 2**64 + 1024
    assert (context["highest"], context["pairs"], context["unique"]) == (
        6,
        {"a": 1, "b": 2},
        ["a", "b"],
    )
    assert context["lookup"] == "y"
    assert context["table"] == {"k": 1, ("a", 2): [1, 4]}
    assert context["counted"] == 1000


def test_a_run_shares_one_budget_across_its_scripts():
    environment = SandboxedEnvironment(ModelLimits(cpu_seconds=0.3))
    spin = "n = 0\nwhile n < 10**5:\n    n += 1"
    with pytest.raises(BudgetExceeded, match="CPU-time"), metered(environment.limits):
        for _ in range(1000):  # each is cheap; together they are over the budget
            environment.execute(spin, {})


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PICYCLE_MODEL_CPU_SECONDS": "soon"}, "PICYCLE_MODEL_CPU_SECONDS must be a number"),
        ({"PICYCLE_MODEL_CPU_SECONDS": "nan"}, "PICYCLE_MODEL_CPU_SECONDS must be a number"),
        ({"PICYCLE_MODEL_CPU_SECONDS": "0"}, "PICYCLE_MODEL_CPU_SECONDS must be a number"),
        ({"PICYCLE_MODEL_MEMORY_MB": "0"}, "PICYCLE_MODEL_MEMORY_MB must be a whole number"),
        ({"PICYCLE_MODEL_TASK_DATA_BYTES": "-1"}, "PICYCLE_MODEL_TASK_DATA_BYTES must be"),
    ],
)
def test_budget_settings_are_checked(environ, message):
    with pytest.raises(ValueError, match=message):
        ModelLimits.from_environment(environ)


def test_budget_settings_are_read_from_the_environment():
    chosen = ModelLimits.from_environment(
        {
            "PICYCLE_MODEL_CPU_SECONDS": "0.5",
            "PICYCLE_MODEL_MEMORY_MB": "100",
            "PICYCLE_MODEL_TASK_DATA_BYTES": "1000",
        }
    )
    assert (chosen.cpu_seconds, chosen.memory_mb, chosen.task_data_bytes) == (0.5, 100, 1000)
    assert ModelLimits.from_environment({}) == ModelLimits()


def test_an_engine_reads_its_limits_when_it_starts(monkeypatch, tmp_path):
    monkeypatch.setenv("PICYCLE_MODEL_CPU_SECONDS", "0.25")
    engine = Engine(f"sqlite:///{tmp_path / 'limits.db'}")
    assert engine.limits.cpu_seconds == engine.runner.limits.cpu_seconds == 0.25
    engine.dispose()
    monkeypatch.setenv("PICYCLE_MODEL_CPU_SECONDS", "fast")
    with pytest.raises(ValueError, match="PICYCLE_MODEL_CPU_SECONDS"):
        Engine(f"sqlite:///{tmp_path / 'limits.db'}")


def test_the_garbage_collectors_time_is_not_the_models():
    # A full collection lands in whichever step allocates when one is due; over a large
    # process it can take longer than the step's whole budget.
    heap = [[n] for n in range(1_500_000)]
    limits = ModelLimits(cpu_seconds=0.01)
    with metered(limits) as meter:
        started = thread_time()
        gc.collect()
        assert thread_time() - started > limits.cpu_seconds  # it took longer than the budget
        meter.check()  # and the step is still within it
    del heap
