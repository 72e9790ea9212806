"""A process whose one script can be made to spin, or to build too much: for the tests of
budgets and incidents. start -> look (user task) -> spin (script) -> next (user task) ->
end; or, with a timer, the script runs when an hour has passed, before ``look``."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

PROCESS = "spinning"
FORM = json.dumps({"type": "object", "properties": {"note": {"type": "string"}}})
USER_TASK = """<bpmn:userTask id="{id}" name="{id}">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="note.schema.json" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>"""
BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="spinning_definitions" targetNamespace="http://picycle.test/spinning">
  <bpmn:process id="spinning" name="A step that may spin" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_pi_unit" name="PI Unit">{refs}</bpmn:lane>
    </bpmn:laneSet>
    {elements}
  </bpmn:process>
</bpmn:definitions>
"""
ELEMENTS = {
    "start": '<bpmn:startEvent id="start" />',
    "wait": """<bpmn:intermediateCatchEvent id="wait" name="An hour later">
      <bpmn:timerEventDefinition id="wait_timer">
        <bpmn:timeDuration>"PT1H"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>""",
    "look": USER_TASK.format(id="look"),
    "spin": '<bpmn:scriptTask id="spin" name="Spin"><bpmn:script>{script}</bpmn:script>'
    "</bpmn:scriptTask>",
    "next": USER_TASK.format(id="next"),
    "end": '<bpmn:endEvent id="end" />',
}
# A member's completion runs the script: start -> look -> spin -> next -> end; or a timer
# does: start -> wait (an hour) -> spin -> look -> next -> end.
AFTER_LOOK = ("start", "look", "spin", "next", "end")
AFTER_TIMER = ("start", "wait", "spin", "look", "next", "end")
SPINS = "counted = 0\nwhile True:\n    counted += 1"
OVERSIZED = "counted = 'a' * (2 * 10**8)"
FIXED = "counted = 3"


def bundle(script: str, timer: bool = False) -> dict[str, bytes]:
    steps = AFTER_TIMER if timer else AFTER_LOOK
    flows = [
        f'<bpmn:sequenceFlow id="to_{b}" sourceRef="{a}" targetRef="{b}" />'
        for a, b in zip(steps, steps[1:], strict=False)
    ]
    bpmn = BPMN.format(
        refs="".join(f"<bpmn:flowNodeRef>{step}</bpmn:flowNodeRef>" for step in steps),
        elements="\n".join([*(ELEMENTS[step] for step in steps), *flows]).replace(
            "{script}", escape(script)
        ),
    )
    return {f"{PROCESS}.bpmn": bpmn.encode(), "forms/note.schema.json": FORM.encode()}
