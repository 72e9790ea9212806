"""Task data is plain JSON on every path. A model decides the same way whether its next step
is served by the instance this engine kept in memory or by one restored from the database,
and both decide as a JSON round trip of the data says. Dates become ISO text; data that is
not JSON at all (a set, NaN, a huge number, lists nested a thousand deep) fails at once,
naming the element and the variable, and changes nothing."""

from __future__ import annotations

import json
import re
from xml.sax.saxutils import escape

import pytest
from picycle.engine.actors import SYSTEM
from picycle.engine.errors import ModelError, ValidationFailed
from picycle.engine.services import cycles, definitions

from tests.support import ensure_unit

PROCESS = "plain_data"
FORM = json.dumps({"type": "object", "properties": {}, "additionalProperties": False})
USER_TASK = """<bpmn:userTask id="{id}" name="{name}">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="empty.schema.json" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>"""
# start -> write -> rewrite (scripts) -> look (user task) -> read_back (script) ->
# which_keys (1 in numbers?) -> number_keys | text_keys (user tasks) -> end. ``look`` puts
# a request between the scripts that write the data and the step that decides on it.
BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    id="plain_data_definitions" targetNamespace="http://picycle.test/plain_data">
  <bpmn:process id="plain_data" name="Decide on data a script wrote" isExecutable="true">
    <bpmn:laneSet id="plain_data_lanes">
      <bpmn:lane id="lane_pi_unit" name="PI Unit">
        {refs}
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="to_write" sourceRef="start" targetRef="write" />
    <bpmn:scriptTask id="write" name="Write">
      <bpmn:script>{write}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="to_rewrite" sourceRef="write" targetRef="rewrite" />
    <bpmn:scriptTask id="rewrite" name="Rewrite">
      <bpmn:script>{rewrite}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="to_look" sourceRef="rewrite" targetRef="look" />
    {look}
    <bpmn:sequenceFlow id="to_read_back" sourceRef="look" targetRef="read_back" />
    <bpmn:scriptTask id="read_back" name="Read back">
      <bpmn:script>{read}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="to_which_keys" sourceRef="read_back" targetRef="which_keys" />
    <bpmn:exclusiveGateway id="which_keys" name="Which keys?" default="to_text_keys" />
    <bpmn:sequenceFlow id="to_number_keys" sourceRef="which_keys" targetRef="number_keys">
      <bpmn:conditionExpression
          xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_text_keys" sourceRef="which_keys" targetRef="text_keys" />
    {number_keys}
    {text_keys}
    <bpmn:sequenceFlow id="to_end_number" sourceRef="number_keys" targetRef="end_number" />
    <bpmn:sequenceFlow id="to_end_text" sourceRef="text_keys" targetRef="end_text" />
    <bpmn:endEvent id="end_number" />
    <bpmn:endEvent id="end_text" />
  </bpmn:process>
</bpmn:definitions>
"""
ELEMENTS = ("start", "write", "rewrite", "look", "read_back", "which_keys")
ELEMENTS += ("number_keys", "text_keys", "end_number", "end_text")

# What the first script writes, and what the later steps make of it.
WRITES = "numbers = {1: 'one', 2: 'two'}\npair = (1, 2)"
READS = "kind = 'tuple' if isinstance(pair, tuple) else 'list'\nfound = numbers.get(1, 'missing')"
DECIDES = "1 in numbers"


def bundle(write: str = WRITES, read: str = READS, rewrite: str = "rewritten = True") -> dict:
    bpmn = BPMN.format(
        refs="".join(f"<bpmn:flowNodeRef>{e}</bpmn:flowNodeRef>" for e in ELEMENTS),
        write=escape(write),
        rewrite=escape(rewrite),
        read=escape(read),
        condition=escape(DECIDES),
        look=USER_TASK.format(id="look", name="Look"),
        number_keys=USER_TASK.format(id="number_keys", name="Number keys"),
        text_keys=USER_TASK.format(id="text_keys", name="Text keys"),
    )
    return {f"{PROCESS}.bpmn": bpmn.encode(), "forms/empty.schema.json": FORM.encode()}


def deploy(driver, files: dict[str, bytes]) -> None:
    with driver.engine.unit_of_work() as uow:
        assert definitions.deploy(uow, SYSTEM, files).definitions


def start(driver, unit: str) -> int:
    actor = driver.actor("pia")
    ensure_unit(driver.engine, unit)
    with driver.engine.unit_of_work() as uow:
        return cycles.start_cycle(uow, actor, unit, "Plain data", PROCESS).id


def is_kept(driver, cycle_id: int) -> bool:
    """Whether the engine keeps the cycle in memory (looked at without disturbing it)."""
    kept = driver.engine.live.pop(cycle_id)
    if kept is not None:
        driver.engine.live.put(cycle_id, kept)
    return kept is not None


def as_json_decides() -> tuple[str, dict]:
    """What the model does with the data after a JSON round trip, computed here in Python:
    the step it goes to and the data it records."""
    data = {"numbers": {1: "one", 2: "two"}, "pair": (1, 2)}
    data = json.loads(json.dumps(data))
    numbers, pair = data["numbers"], data["pair"]
    data["kind"] = "tuple" if isinstance(pair, tuple) else "list"
    data["found"] = numbers.get(1, "missing")
    return ("number_keys" if 1 in numbers else "text_keys"), data


def test_a_step_decides_the_same_from_memory_and_from_the_database(driver):
    deploy(driver, bundle())

    def outcome(served: str) -> tuple[str, dict]:
        cycle_id = start(driver, f"Directorate {served}")
        if served == "from memory":
            assert is_kept(driver, cycle_id)
        else:
            driver.restart()
            assert not is_kept(driver, cycle_id)
        driver.complete("pia", cycle_id, "look", {})
        (task,) = driver.open_tasks(cycle_id)
        stored = driver.row(cycle_id).data
        return task.element_id, {key: stored[key] for key in ("numbers", "pair", "kind", "found")}

    from_memory = outcome("from memory")
    restored = outcome("restored")
    assert from_memory == restored == as_json_decides()
    assert from_memory == ("text_keys", as_json_decides()[1])


# Values equal to those the step before held, yet not the same: a number of another kind,
# the same names in another order.
REWRITES = "\n".join(
    [
        "count = count * 1.0",
        "flag = 1 if flag else 0",
        "ratios = [r * 1.0 for r in ratios]",
        "by_name = {'b': by_name['b'], 'a': by_name['a']}",
    ]
)
KINDS = (
    "kinds = ['float' if isinstance(count, float) else 'int', "
    "'bool' if isinstance(flag, bool) else 'int', "
    "'float' if isinstance(ratios[0], float) else 'int']\n"
    "names = list(by_name)"
)


def test_a_value_rewritten_equal_to_the_one_before_reads_the_same_from_memory_and_database(
    driver,
):
    written = f"{WRITES}\ncount = 3\nflag = True\nratios = [1, 2]\nby_name = {{'a': 1, 'b': 2}}"
    deploy(driver, bundle(write=written, rewrite=REWRITES, read=KINDS))

    def read_back(served: str) -> dict:
        cycle_id = start(driver, f"Directorate {served}")
        if served == "restored":
            driver.restart()
        assert is_kept(driver, cycle_id) == (served == "from memory")
        driver.complete("pia", cycle_id, "look", {})
        stored = driver.row(cycle_id).data
        return {key: stored[key] for key in ("kinds", "names", "count", "flag", "ratios")}

    from_memory, restored = read_back("from memory"), read_back("restored")
    assert from_memory == restored
    # What the state keeps: a value equal to the one before it is stored as that one.
    assert restored["kinds"] == ["int", "bool", "int"] and restored["names"] == ["a", "b"]


NOT_JSON = {
    "tags = {'permits', 'backlog'}": ("'tags'", "is a set"),
    "raw = b'permits'": ("'raw'", "is a bytes"),
    "ratio = float('nan')": ("'ratio'", "is nan"),
    "limit = {'cap': float('inf')}": ("'limit'['cap']", "is inf"),
    "by_pair = {(1, 2): 'x'}": ("'by_pair'", "key that is a tuple"),
    "big = 10**5000": ("'big'", "more than 4,000 digits"),
    "deep = []\nfor level in range(1000):\n    deep = [deep]": ("'deep'", "levels deep"),
    "shallow = []\nfor level in range(150):\n    shallow = [shallow]": ("'shallow'", "deep"),
    # Read back as one of SpiffWorkflow's stored objects, these would break the cycle.
    "ref = {'typename': 'UUID', 'value': 'x'}": ("'ref' has a key named 'typename'",),
    "rows = [{'typename': 'Nothing'}]": ("'rows'[0] has a key named 'typename'",),
    "typename = 'gap'": ("there is a variable named 'typename'",),
}


@pytest.mark.parametrize(("read", "expected"), NOT_JSON.items(), ids=list(NOT_JSON))
def test_a_script_writing_data_that_is_not_json_fails_and_changes_nothing(driver, read, expected):
    deploy(driver, bundle(read=read))
    cycle_id = start(driver, "Directorate of Planning")
    before = driver.row(cycle_id)
    events = len(driver.events())
    look = driver.task(cycle_id, "look")
    for attempt in ("first", "again, from memory", "after a restart"):
        if attempt == "after a restart":
            driver.restart()
        with pytest.raises(ModelError) as failed:
            driver.complete("pia", cycle_id, "look", {})
        message = str(failed.value)
        assert "'read_back'" in message and all(part in message for part in expected), attempt
        assert failed.value.element_id == "read_back"
        after = driver.row(cycle_id)
        assert (after.state, after.data) == (before.state, before.data), attempt
        # All the failed attempts left is the incident, counting them, in the trail.
        added = driver.events()[events:]
        assert [event.type for event in added] == ["incident_raised"] * len(added), attempt
        assert added[-1].data["incident"] == failed.value.incident_id
        assert added[-1].data["failures"] == len(added)
        assert [t.id for t in driver.open_tasks(cycle_id)] == [look.id], attempt
        assert driver.task(cycle_id, "look").claimed_by is None, attempt


def test_dates_a_script_writes_become_iso_text_on_every_path(driver):
    stamps = "when = date(2026, 3, 1)\nat = datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)"
    checks = "when == '2026-03-01' and at == '2026-03-01T09:30:00+00:00'"
    deploy(driver, bundle(write=f"{WRITES}\n{stamps}", read=f"as_text = {checks}"))
    cycle_id = start(driver, "Directorate of Planning")
    assert '"when": "2026-03-01"' in json.dumps(json.loads(driver.row(cycle_id).state))
    driver.restart()  # the script after the user task reads the data restored
    driver.complete("pia", cycle_id, "look", {})
    assert '"as_text": true' in json.dumps(json.loads(driver.row(cycle_id).state))


def test_a_script_writing_a_set_at_the_start_starts_no_cycle(driver):
    deploy(driver, bundle(write=f"{WRITES}\nwhen = {{'a', 'b'}}"))
    events = len(driver.events())
    with pytest.raises(ModelError, match="'write'.*'when' is a set"):
        start(driver, "Directorate of Planning")
    with driver.engine.unit_of_work(write=False) as uow:
        assert cycles.list_cycles(uow, SYSTEM).total == 0
    assert len(driver.events()) == events


@pytest.fixture
def small_task_data(driver, monkeypatch):
    """Task data limited to 2,000 characters as JSON, from the next engine on."""
    monkeypatch.setenv("PICYCLE_MODEL_TASK_DATA_BYTES", "2000")
    driver.restart()


def test_a_step_leaving_task_data_over_the_limit_fails_naming_the_setting(driver, small_task_data):
    deploy(driver, bundle(read=f"{READS}\nnotes = 'x' * 2500"))

    def refusal(served: str) -> str:
        # Units named alike, so the data is as long on both paths.
        cycle_id = start(driver, f"Directorate {served[0]}")
        if served == "restored":
            driver.restart()
        before = driver.row(cycle_id)
        with pytest.raises(ModelError) as failed:
            driver.complete("pia", cycle_id, "look", {})
        assert failed.value.limit == "PICYCLE_MODEL_TASK_DATA_BYTES"
        assert driver.row(cycle_id).state == before.state
        return str(failed.value)

    from_memory, restored = refusal("from memory"), refusal("restored")
    assert from_memory == restored
    assert re.fullmatch(
        r"the data of 'read_back' is 2,\d{3} characters as JSON, over the limit of 2,000: "
        "keep documents out of task data",
        from_memory,
    )


def test_data_replaced_step_after_step_is_measured_as_it_is_now(driver, small_task_data):
    """Each step's data is measured as a whole when what it replaced and what replaced it
    together would be over the limit: replacing a large variable is not growing."""
    write = f"{WRITES}\nnotes = 'a' * 1200"
    deploy(driver, bundle(write=write, read=f"{READS}\nnotes = 'b' * 1200"))
    cycle_id = start(driver, "Directorate of Planning")
    assert is_kept(driver, cycle_id)
    driver.complete("pia", cycle_id, "look", {})
    assert driver.row(cycle_id).data["notes"] == "b" * 1200


def test_submitted_data_holding_a_name_spiffworkflow_keeps_is_refused_naming_the_field(driver):
    files = bundle()
    files["forms/empty.schema.json"] = json.dumps(
        {"type": "object", "properties": {"notes": {"type": "object"}}}
    ).encode()
    deploy(driver, files)
    cycle_id = start(driver, "Directorate of Planning")
    before = driver.row(cycle_id)
    for attempt in ("from memory", "after a restart"):
        if attempt == "after a restart":
            driver.restart()
        with pytest.raises(ValidationFailed) as refused:
            driver.complete("pia", cycle_id, "look", {"notes": {"typename": "UUID", "v": "x"}})
        assert list(refused.value.errors) == ["notes.typename"], attempt
        assert (driver.row(cycle_id).state, driver.row(cycle_id).data) == (
            before.state,
            before.data,
        )
    driver.complete("pia", cycle_id, "look", {"notes": {"kind": "UUID"}})
    driver.restart()  # the cycle loads, with what was submitted
    assert driver.row(cycle_id).data["notes"] == {"kind": "UUID"}
    assert [t.element_id for t in driver.open_tasks(cycle_id)] == ["text_keys"]
